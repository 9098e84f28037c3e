/*-------------------------------------------------------------------------
 *
 * monitor.h
 *	  What vectorx tells a DBA about its indexes from inside the database
 *	  (monitor.c): vectorx_index_stats, vectorx_recall and its variants,
 *	  the opt-in sampling of real query vectors, and who may call what.  Each index access
 *	  method contributes its statistics through VxStatsSink and calls
 *	  VxSampleQuery from its rescan.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_MONITOR_H
#define VECTORX_MONITOR_H

#include "fmgr.h"
#include "storage/itemptr.h"
#include "utils/rel.h"

/* rows (stat, value, description) of vectorx_index_stats */
typedef struct VxStatsSink VxStatsSink;

extern void VxStat(VxStatsSink *sink, const char *stat, double value, const char *description);

/* the access methods' statistics, in their directories */
extern void HnswIndexStats(Relation index, VxStatsSink *sink);
extern void IvfpqIndexStats(Relation index, VxStatsSink *sink);

/*
 * During vectorx_recall's index scans: the heap row the query was taken
 * from (else invalid).  An index AM whose structure would hand that row's
 * neighbourhood to the query for free (HNSW) does not search through it.
 */
extern ItemPointerData vx_recall_exclude;

/*
 * For an inspection function (stats, check, element dump): open an index
 * after checking, before any lock, that the caller owns it or has the
 * privileges of pg_stat_scan_tables (monitor.c states the whole model).
 * The caller checks its access method, and closes it with
 * index_close(index, AccessShareLock).
 */
extern Relation VxOpenIndexForInspection(Oid indexoid, const char *fname);

/* called by an index AM's rescan with the query of ORDER BY col <op> query */
extern void VxSampleQuery(Relation index, Datum query);

extern void VxMonitorInit(void);

#endif

/*-------------------------------------------------------------------------
 *
 * inspect.h
 *	  What the access methods' inspection functions share (inspect.c):
 *	  opening an index for inspection under vectorx's privilege model, the
 *	  sink through which an access method reports the rows of
 *	  vectorx_index_stats, and the list of problems the checks return.  The model itself is stated in src/monitor.c
 *	  ("who may call what"), which owns the SQL functions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_INSPECT_H
#define VECTORX_INSPECT_H

#include "access/tupdesc.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"
#include "utils/tuplestore.h"

/* rows (stat, value, description) of vectorx_index_stats, filled by VxStat */
typedef struct VxStatsSink
{
	Tuplestorestate *store;
	TupleDesc	desc;
} VxStatsSink;

extern void VxStat(VxStatsSink *sink, const char *stat, double value, const char *description);

/* fail unless indexoid names an index (catalog only: no lock taken) */
extern void VxCheckIsIndex(Oid indexoid, const char *fname);

/*
 * For an inspection function (stats, check, element dump): open an index
 * after checking, before any lock, that the caller owns it or has the
 * privileges of pg_stat_scan_tables.  The caller checks its access method,
 * and closes it with index_close(index, AccessShareLock).
 */
extern Relation VxOpenIndexForInspection(Oid indexoid, const char *fname);

/*
 * The same for a structural check, after locking the index's table against
 * VACUUM (ShareUpdateExclusiveLock; AccessShareLock on a standby) until the
 * transaction ends: see inspect.c.
 */
extern Relation VxOpenIndexForCheck(Oid indexoid, const char *fname);

/*
 * The problems a check found (vectorx_hnsw_check, vectorx_ivfpq_check):
 * VxProblem appends one formatted text to *problems, up to
 * VX_MAX_PROBLEMS (a damaged index would otherwise report every entry);
 * VxProblemArray makes the text[] of the result.
 */
#define VX_MAX_PROBLEMS 20

extern void VxProblem(List **problems, const char *fmt,...) pg_attribute_printf(2, 3);
extern Datum VxProblemArray(List *problems);

#endif							/* VECTORX_INSPECT_H */

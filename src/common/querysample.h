/*-------------------------------------------------------------------------
 *
 * querysample.h
 *	  The recorded query vectors (querysample.c): the access methods'
 *	  amrescan records a fraction of its queries (VxSampleQuery); the
 *	  monitor (src/monitor.c) reads them back and sweeps the files of
 *	  dropped indexes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_QUERYSAMPLE_H
#define VECTORX_QUERYSAMPLE_H

#include "nodes/pg_list.h"
#include "utils/relcache.h"

/* vectorx.query_sample_rate, vectorx.query_sample_size */
extern double vx_query_sample_rate;
extern int	vx_query_sample_size;

/* called by an index AM's rescan with the query of ORDER BY col <op> query */
/* query is a vector, or a halfvec when half (recorded as float4, exactly) */
extern void VxSampleQuery(Relation index, Datum query, bool half);

/* the recorded queries of an index (List of Vector *), oldest first */
extern List *VxSampledQueries(Oid indexoid);

/* remove the files of indexes for which keep(oid) is false */
extern void VxSweepSamples(bool (*keep) (Oid indexoid));

extern void VxQuerySampleInit(void);

#endif							/* VECTORX_QUERYSAMPLE_H */

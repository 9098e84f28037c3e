/*-------------------------------------------------------------------------
 *
 * sample.h
 *	  Seeded random samples of a table's rows (sample.c), for vectorx_recall
 *	  (monitor.c) and for IVF-PQ training (src/ivfpq/ivfpqbuild.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_SAMPLE_H
#define VECTORX_SAMPLE_H

#include "storage/itemptr.h"
#include "utils/rel.h"

/* called once per sampled row with its non-NULL column value, valid during the call */
typedef void (*VxSampleFn) (void *arg, Datum value, ItemPointer tid);

extern int	VxSampleRows(Relation heap, AttrNumber attno, int target, uint32 seed,
						 VxSampleFn fn, void *arg, double *totalrows);

#endif

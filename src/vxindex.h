/*-------------------------------------------------------------------------
 *
 * vxindex.h
 *	  What vectorx's index access methods (src/hnsw, src/ivfpq) share
 *	  (vxindex.c): which distance an operator class orders by, the
 *	  dimensions of the indexed column, operator-class validation, and the
 *	  conversion of a vector datum into an index's internal form.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_VXINDEX_H
#define VECTORX_VXINDEX_H

#include "fmgr.h"
#include "utils/rel.h"

/* the distance an index orders by; the values are stored in meta pages */
typedef enum VxMetric
{
	VX_METRIC_L2 = 1,			/* squared L2 */
	VX_METRIC_IP = 2,			/* negative inner product */
	VX_METRIC_COSINE = 3,		/* negative inner product of unit vectors */
	VX_METRIC_L1 = 4
} VxMetric;

extern VxMetric VxIndexMetric(Relation index);
extern int	VxIndexDims(Relation index, int maxdims, const char *amname);
extern bool VxValidateOpclass(Oid opclassoid, const char *amname);
extern bool VxPrepareVector(Datum value, int dims, VxMetric metric, float *out, const char *amname);

#endif

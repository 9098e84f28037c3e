/*-------------------------------------------------------------------------
 *
 * vector.h
 *	  The vector type: on-disk/in-memory layout, argument macros and the
 *	  input guards shared by every file that creates or checks vectors.
 *
 * A vector is a varlena holding a 16-bit dimension count and that many
 * float4 elements.  The layout is byte-for-byte pgvector's, so binary
 * COPY output and the wire format are interchangeable with it:
 *
 *	offset	size	field
 *	0		4		varlena header (always a 4-byte header once built here)
 *	4		2		dim: number of elements, 1..VECTOR_MAX_DIM
 *	6		2		unused: always 0 (reserved, checked on binary input)
 *	8		4*dim	x[]: the elements, finite float4 (never NaN or +-Inf)
 *
 * Invariants every function may rely on for a value of this type:
 *	V1. 1 <= dim <= VECTOR_MAX_DIM
 *	V2. every element is finite
 * The guards below (VxCheckDim, VxCheckElement, VxCheckSameDims) raise
 * the corresponding errors (the avg(vector) state check in vector_ops.c
 * repeats the dimension limit's, with a detail).  VxNewVector, through
 * which every vector built here is allocated, checks V1 once more; every
 * builder whose arithmetic can leave float4's range checks V2 on what it
 * writes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_VECTOR_H
#define VECTORX_VECTOR_H

#include <math.h>

#include "fmgr.h"

/*
 * The one dimension limit: of the type (V1), and of what the HNSW and
 * IVF-PQ indexes accept (their meta-page checks use it too).
 */
#define VECTOR_MAX_DIM 16000

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of elements, see V1 */
	int16		unused;			/* reserved, always 0 */
	float		x[FLEXIBLE_ARRAY_MEMBER];	/* elements, see V2 */
} Vector;

#define VECTOR_SIZE(_dim)		(offsetof(Vector, x) + sizeof(float) * (_dim))
#define DatumGetVector(d)		((Vector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_VECTOR_P(n)	DatumGetVector(PG_GETARG_DATUM(n))
#define PG_RETURN_VECTOR_P(v)	PG_RETURN_POINTER(v)

/*
 * Distance functions read their arguments through VxVectorArg(): a vector
 * stored plain (4-byte header, inline, uncompressed) is used in place; a
 * short-header one is copied into per-call-site scratch space; a compressed
 * or out-of-line one is detoasted, and remembered while the same value keeps
 * coming back (the query vector of a k-NN scan taken from a table or a
 * subquery arrives toasted for every row).  No palloc on the plain path.
 *
 * VxPrefetchNextRows() is the other half of a fast exact scan: heap pages
 * fill from the end, so the row a sequential scan reads next lies just
 * below the current one in memory.  For each argument whose pointer
 * changed since the previous call (a table's rows, not the constant query
 * vector) it prefetches that many bytes below it, so the next call finds
 * its vector in cache instead of waiting on DRAM.
 */
extern Vector *VxVectorArgSlow(FunctionCallInfo fcinfo, int argno);

/* the cache behind it, for other types' arguments (halfvec_ops.c) */
typedef struct VxArgCache
{
	Size		rawlen;			/* size of raw, the toasted bytes last seen */
	char	   *raw;			/* copy of those bytes (NULL: nothing cached) */
	struct varlena *value;		/* their detoasted value */
	int			misses;			/* consecutive calls with a different value */
} VxArgCache;

extern struct varlena *VxArgCacheGet(VxArgCache *c, FunctionCallInfo fcinfo, int argno);
extern void VxPrefetchNextRows(FunctionCallInfo fcinfo, const Vector *a, const Vector *b);

static inline Vector *
VxVectorArg(FunctionCallInfo fcinfo, int argno)
{
	struct varlena *p = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno));

	if (likely(!VARATT_IS_EXTENDED(p)))
		return (Vector *) p;
	return VxVectorArgSlow(fcinfo, argno);
}

extern Vector *VxNewVector(int dim);
extern void VxStorageInit(void);
extern void VxCheckDim(int dim);
extern void VxCheckDimOf(const char *typname, int dim, int maxdim);
extern void VxCheckExpectedDim(int32 typmod, int dim);
extern void VxCheckSameDims(const Vector *a, const Vector *b);

/*
 * Reject NaN and infinities: V2.  Inline because it runs once per element
 * of every vector built from text, binary, arrays or arithmetic.
 */
extern void VxReportBadElement(float value) pg_attribute_noreturn();
extern void VxReportBadElementOf(const char *typname, float value) pg_attribute_noreturn();

static inline void
VxCheckElement(float value)
{
	if (unlikely(isnan(value) || isinf(value)))
		VxReportBadElement(value);
}

static inline void
VxCheckElementOf(const char *typname, float value)
{
	if (unlikely(isnan(value) || isinf(value)))
		VxReportBadElementOf(typname, value);
}

/*
 * What vector and halfvec (halfvec.h) share in vector.c: the text parser,
 * the typmod rule and the decoding of arrays cast to them.
 */
struct ArrayType;
extern float *VxParseVectorLiteral(const char *lit, const char *typname, int maxdim,
								   float limit, int *dim);
extern int32 VxTypmodIn(struct ArrayType *ta, const char *typname, int maxdim);
struct StringInfoData;
extern int	VxRecvHeader(struct StringInfoData *buf, int32 typmod, const char *typname,
						 int maxdim, int elemsize);
extern float *VxArrayElements(struct ArrayType *array, int32 typmod, const char *typname,
							  int maxdim, float limit, int *n);

/* ... and in vector_ops.c, the state of avg(vector) and avg(halfvec) */
extern struct ArrayType *VxAccumAdd(FunctionCallInfo fcinfo, const float *x, int dim,
									const char *typname);
extern float *VxAccumMeans(struct ArrayType *state, int *dim);
extern int	VxSubvectorRange(int dim, int32 start, int32 count, const char *typname, int *from);

#endif							/* VECTORX_VECTOR_H */

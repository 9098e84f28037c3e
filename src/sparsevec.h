/*-------------------------------------------------------------------------
 *
 * sparsevec.h
 *	  The sparsevec type: a vector of up to SPARSEVEC_MAX_DIM dimensions
 *	  that stores only its non-zero elements, with pgvector's layout, so
 *	  binary COPY output and the wire format are interchangeable with
 *	  pgvector's sparsevec:
 *
 *	offset		size	field
 *	0			4		varlena header
 *	4			4		dim: number of dimensions, 1..SPARSEVEC_MAX_DIM
 *	8			4		nnz: number of stored elements, 0..SPARSEVEC_MAX_NNZ
 *	12			4		unused: always 0 (checked on binary input)
 *	16			4*nnz	indices[]: 0-based, strictly ascending, < dim
 *	16+4*nnz	4*nnz	values[]: float4, finite, never 0
 *
 * Invariants:
 *	S1. 1 <= dim <= SPARSEVEC_MAX_DIM, 0 <= nnz <= min(dim, SPARSEVEC_MAX_NNZ)
 *	S2. indices strictly ascending, each in [0, dim)
 *	S3. every value finite and non-zero (so one vector has one encoding)
 * Text uses 1-based indices ('{1:1.5,3:2}/5'), binary the stored 0-based
 * ones, as pgvector's.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_SPARSEVEC_H
#define VECTORX_SPARSEVEC_H

#include "fmgr.h"

#define SPARSEVEC_MAX_DIM 1000000000
#define SPARSEVEC_MAX_NNZ 16000

typedef struct SparseVector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int32		dim;			/* S1 */
	int32		nnz;			/* S1 */
	int32		unused;			/* reserved, always 0 */
	int32		indices[FLEXIBLE_ARRAY_MEMBER];	/* S2; the values follow */
} SparseVector;

#define SPARSEVEC_SIZE(_nnz)	(offsetof(SparseVector, indices) + (sizeof(int32) + sizeof(float)) * (Size) (_nnz))
#define SPARSEVEC_VALUES(s)		((float *) ((s)->indices + (s)->nnz))
#define DatumGetSparseVector(d)	((SparseVector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_SPARSEVEC_P(n) DatumGetSparseVector(PG_GETARG_DATUM(n))

extern SparseVector *VxNewSparseVector(int dim, int nnz);

#endif							/* VECTORX_SPARSEVEC_H */

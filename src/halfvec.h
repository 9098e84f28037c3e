/*-------------------------------------------------------------------------
 *
 * halfvec.h
 *	  The halfvec type: IEEE binary16 elements, half the bytes of vector,
 *	  with pgvector's layout, so binary COPY output and the wire format are
 *	  interchangeable with pgvector's halfvec:
 *
 *	offset	size	field
 *	0		4		varlena header
 *	4		2		dim: number of elements, 1..HALFVEC_MAX_DIM
 *	6		2		unused: always 0 (checked on binary input)
 *	8		2*dim	x[]: the elements, binary16 bits, finite
 *
 * Invariants (as vector.h's V1 and V2):
 *	H1. 1 <= dim <= HALFVEC_MAX_DIM
 *	H2. every element is finite (no infinity or NaN bit pattern)
 *
 * Arithmetic and distances run in float4 on the exactly converted
 * elements (binary16 -> float4 is exact), through the same kernels as
 * vector's, so a halfvec and the vector cast from it are at the same
 * distances, and an index over either answers alike.  Results are
 * rounded back to binary16 (nearest even); one that leaves its range is an
 * error, never an infinity.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_HALFVEC_H
#define VECTORX_HALFVEC_H

#include "fmgr.h"

#define HALFVEC_MAX_DIM 16000
/* the smallest magnitude that rounds to infinity in binary16 */
#define HALF_OVERFLOW 65520.0f

typedef struct HalfVector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of elements, see H1 */
	int16		unused;			/* reserved, always 0 */
	uint16		x[FLEXIBLE_ARRAY_MEMBER];	/* binary16 elements, see H2 */
} HalfVector;

#define HALFVEC_SIZE(_dim)			(offsetof(HalfVector, x) + sizeof(uint16) * (_dim))
#define DatumGetHalfVector(d)		((HalfVector *) PG_DETOAST_DATUM(d))
#define PG_GETARG_HALFVEC_P(n)		DatumGetHalfVector(PG_GETARG_DATUM(n))

/* a binary16 bit pattern that is an infinity or a NaN (H2) */
#define HALF_IS_NONFINITE(h)		(((h) & 0x7c00) == 0x7c00)

extern HalfVector *VxNewHalfVector(int dim);
extern HalfVector *VxHalfFromFloats(const float *x, int dim);

/*
 * The elements of a vector or halfvec datum as float4, into out[] (room
 * for maxdim): returns the dimension, and leaves out[] alone when it is
 * above maxdim.  For the index access methods, which hold either type in
 * one internal float form.
 */
extern int	VxVectorDatumFloats(Datum value, float *out, int maxdim);
extern int	VxHalfDatumFloats(Datum value, float *out, int maxdim);

#endif							/* VECTORX_HALFVEC_H */

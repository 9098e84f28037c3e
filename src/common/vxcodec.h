/*-------------------------------------------------------------------------
 *
 * vxcodec.h
 *	  How the vector indexes hold a vector in their pages, and how a scan
 *	  measures a query against it: 8-bit scalar codes with one scale per
 *	  vector, or a bit column's own bits.  HNSW elements (hnsw.h, VECTORS)
 *	  and IVFFlat list entries (ivfpq.h) use it; vxcodec.c has the code.
 *
 * 8-BIT CODES
 *	A vector x (internal form: float4, cosine normalised; a halfvec column
 *	is converted exactly, so one format serves vector and halfvec) is
 *	stored as one byte per dimension with one scale per vector:
 *	  lo = min x_i, step = (max x_i - lo) / 255, c_i = round((x_i - lo) / step)
 *	  x^_i = lo + step * c_i       (step = 0: a constant vector, exact)
 *	plus norm2 = |x^|^2 and err = |x - x^| (L2 norm; the L1 norm for the L1
 *	metric), rounded up: VxQuant, 16 bytes.  Against a float query q,
 *	q.x^ = lo * sum(q) + step * sum(q_i c_i), one pass over the codes
 *	(distance.h sq8_ip), and |q - x^|^2 = |q|^2 - 2 q.x^ + norm2; L1
 *	decodes on the fly (sq8v_l1).  Two code vectors against each other:
 *	an exact integer pass (u8_dot).
 *
 * BIT CODES
 *	A bit column's value is its own bits, 8 to a byte (code_bytes =
 *	(dims + 7) / 8), with norm2 the number of bits set and lo, step, err 0.
 *	A distance is one popcount pass (distance.h bit_xor_count,
 *	bit_and_count), Jaccard's from the intersection and both counts, in
 *	the SQL function's arithmetic.  Exact.
 *
 * LOWER BOUNDS
 *	VxLowerBound turns the distance of q to x^ into a value the SQL
 *	distance of the ORDER BY operator between q and x is never below: the
 *	triangle inequality with err (|q - x| >= |q - x^| - err, -q.x >= -q.x^
 *	- |q| err, the same for L1) minus a rigorous slack for float rounding
 *	on both sides (the kernels' VX_KERNEL_TOL, float4 roundings of the
 *	stored norm and of the result).  Scans hand it to the executor with
 *	xs_recheckorderby set; it must never exceed the exact value (the
 *	executor raises "index returned tuples in wrong order").  Bits: the
 *	distance itself (Jaccard's less one float4 rounding).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_VXCODEC_H
#define VECTORX_VXCODEC_H

#include "postgres.h"

#include "vxindex.h"

/* what a vector's codes are: the same for every vector of an index */
typedef struct VxCodec
{
	int			dims;			/* dimensions; a bit column's length */
	int			code_bytes;		/* bytes of a vector's codes */
	Size		vec_bytes;		/* bytes of the internal form (VxPrepareVector) */
	VxMetric	metric;
	VxElem		elem;			/* the indexed column's type (VxIndexElem) */
} VxCodec;

/* how a vector's codes decode; on disk in both access methods */
typedef struct VxQuant
{
	float4		lo;				/* x^_i = lo + step * c_i */
	float4		step;			/* >= 0; 0: all x_i equal lo */
	float4		norm2;			/* |x^|^2; bits: the bits set */
	float4		err;			/* |x - x^| (L1 metric: sum |x_i - x^_i|), rounded up;
								 * HNSW: the largest over the rows sharing an element */
} VxQuant;

StaticAssertDecl(sizeof(VxQuant) == 16, "vxcodec.h: VxQuant is 16 bytes");

/* a query prepared for distances to codes */
typedef struct VxQuery
{
	const float *vec;			/* internal form (cosine: normalised; bit: the
								 * packed bits); NULL: none */
	double		norm2;			/* |q|^2; bit: the bits set */
	double		sum;			/* sum q_i */
} VxQuery;

extern void VxCodecInit(VxCodec *codec, int dims, VxMetric metric, VxElem elem);
extern void VxEncodeVector(const VxCodec *codec, const float *x, VxQuant *quant, uint8 *codes);
extern void VxDecodeVector(const VxCodec *codec, const VxQuant *quant, const uint8 *codes,
						   float *out);
extern void VxQueryInit(VxQuery *q, const VxCodec *codec, const float *vec);

/*
 * The part of a distance that codes[0..n), code bytes from.. of a
 * vector, contribute; a vector split over pages is the sum of its pieces'
 * parts, which VxQueryFinish turns into the internal distance (squared L2,
 * negative inner product, L1, Hamming, Jaccard).
 */
extern float VxCodesPart(const VxCodec *codec, const VxQuery *q, int from, const uint8 *codes,
						 int n, const VxQuant *quant);
extern float VxQueryFinish(const VxCodec *codec, const VxQuery *q, const VxQuant *quant,
						   float part);
extern float VxQueryDistance(const VxCodec *codec, const VxQuery *q, const VxQuant *quant,
							 const uint8 *codes);
/* two code vectors (not L1 of 8-bit codes: that needs VxDecodeVector) */
extern float VxPairDistance(const VxCodec *codec, const VxQuant *qa, const uint8 *ca,
							const VxQuant *qb, const uint8 *cb);
extern double VxLowerBound(const VxCodec *codec, const VxQuery *q, const VxQuant *quant, float d);

#endif

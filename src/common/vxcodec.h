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
 * SPARSE CODES
 *	A sparsevec column keeps, per vector, up to nnz (the index's capacity,
 *	fixed at build) of its non-zero elements: all of them when it has no
 *	more, else the nnz largest in magnitude.  Their values are 8-bit codes
 *	as above (lo, step over the kept values), the indices as they are:
 *	  0      2      n: elements kept, 0..nnz
 *	  2      2      the vector's non-zero elements (n < it: approximated)
 *	  4      4 nnz  indices, 0-based, ascending; unused slots 0
 *	  4+4nnz nnz    codes; unused slots 0
 *	code_bytes = 4 + 5 nnz rounded up to 4.  x^ is the kept elements
 *	decoded, zero elsewhere; err = |x - x^| counts the dropped elements
 *	too, so a vector with more non-zeros than the capacity is indexed,
 *	approximately, and the executor's re-check still orders exactly.
 *	Distances are sums in double over the element's kept elements,
 *	gathering the query's values from a dense copy (up to
 *	VX_SPARSE_DENSE_MAX dimensions; beyond, a merge of the sorted index
 *	lists).  A distance needs the codes in one piece: split
 *	over pages, VxCodesPart gathers the pieces (VxQueryInitPieces) and
 *	the last one returns the whole distance.  The internal form of a
 *	sparsevec (VxPrepareVector; queries keep all their elements) is
 *	  int32 n, int32 idx[n], float4 val[n]		(VX_SPARSE_* below)
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
 *	distance itself (Jaccard's less one float4 rounding).  Sparse codes:
 *	the same terms, with the tolerance of a sum over the query's and
 *	SPARSEVEC_MAX_NNZ terms, as many as the SQL function's merge adds.
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
	int			nnz;			/* sparsevec: elements a vector keeps; else 0 */
	int			code_bytes;		/* bytes of a vector's codes */
	Size		vec_bytes;		/* bytes of the internal form (VxPrepareVector);
								 * sparsevec: of SPARSEVEC_MAX_NNZ elements */
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
	double		sum;			/* sum q_i; sparse: sum |q_i| */
	int			nnz;			/* sparse: the query's non-zero elements */
	uint8	   *gather;			/* sparse, pieces: code_bytes (VxCodesPart) */
	float	   *dense;			/* sparse, dims <= VX_SPARSE_DENSE_MAX: the
								 * query's values at their indices, else 0 */
	uint32		dense_mask;		/* its size, a power of two, less 1 */
} VxQuery;

/* sparse columns of up to this many dimensions are scattered (vxcodec.c) */
#define VX_SPARSE_DENSE_MAX		131072	/* a power of two */

/* the internal form of a sparse vector (SPARSE CODES) */
#define VX_SPARSE_NNZ(v)		(*(int32 *) (v))
#define VX_SPARSE_IDX(v)		((int32 *) (v) + 1)
#define VX_SPARSE_VAL(v)		((float *) (v) + 1 + VX_SPARSE_NNZ(v))
#define VX_SPARSE_BYTES(n)		(sizeof(int32) * (1 + 2 * (Size) (n)))

/* nnz: a sparsevec index's capacity, 0 for the other types */
extern void VxCodecInit(VxCodec *codec, int dims, VxMetric metric, VxElem elem, int nnz);
/* bytes of vec's internal form actually used (sparse: by its elements) */
extern Size VxVectorBytes(const VxCodec *codec, const float *vec);
/* whether VxPairDistance measures this codec's pairs (else decode one) */
#define VxPairExact(codec)	((codec)->metric != VX_METRIC_L1 || (codec)->elem == VX_ELEM_SPARSE)
extern void VxEncodeVector(const VxCodec *codec, const float *x, VxQuant *quant, uint8 *codes);
extern void VxDecodeVector(const VxCodec *codec, const VxQuant *quant, const uint8 *codes,
						   float *out);
extern void VxQueryInit(VxQuery *q, const VxCodec *codec, const float *vec);
/* the same, for distances read piece by piece (VxCodesPart) */
extern void VxQueryInitPieces(VxQuery *q, const VxCodec *codec, const float *vec);

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
/* two code vectors (VxPairExact; not L1 of 8-bit codes: VxDecodeVector) */
extern float VxPairDistance(const VxCodec *codec, const VxQuant *qa, const uint8 *ca,
							const VxQuant *qb, const uint8 *cb);
extern double VxLowerBound(const VxCodec *codec, const VxQuery *q, const VxQuant *quant, float d);

#endif

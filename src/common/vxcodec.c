/*-------------------------------------------------------------------------
 *
 * vxcodec.c
 *	  How an index holds a vector in its pages (vxcodec.h): 8-bit codes
 *	  with one lo and step per vector, or a bit column's own bits.
 *	  Encoding and decoding, the distance of a query to codes (the hot
 *	  path of HNSW traversals and IVFFlat list scans, through the kernels
 *	  of distance.h), and the lower bound of the exact SQL distance that
 *	  scans hand to the executor for its re-check.  Bit codes: VX_CODEC_BITS
 *	  below; each function has a branch for them.
 *
 *	  No page access here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "distance.h"
#include "port/pg_bitutils.h"
#include "utils/memutils.h"
#include "sparsevec.h"
#include "vxcodec.h"

#define VX_CODEC_BITS(codec)	((codec)->elem == VX_ELEM_BIT)
#define VX_CODEC_SPARSE(codec)	((codec)->elem == VX_ELEM_SPARSE)

/*
 * The distance of two bit strings from the bits they share and their
 * counts, as the SQL functions compute it (bitvec.c): Hamming from the
 * differing bits, Jaccard 1 when nothing is shared.
 */
static float
BitFinish(VxMetric metric, double both, double na, double nb)
{
	if (metric == VX_METRIC_HAMMING)
		return (float) both;
	if (both == 0)
		return 1.0f;
	return (float) (1.0 - both / (na + nb - both));
}

/* bits of a XOR b (Hamming) or a AND b (Jaccard) over n bytes */
static uint64
BitPart(VxMetric metric, const uint8 *a, const uint8 *b, int n)
{
	return metric == VX_METRIC_HAMMING ? vx_kernels->bit_xor_count(a, b, n) :
		vx_kernels->bit_and_count(a, b, n);
}

void
VxCodecInit(VxCodec *codec, int dims, VxMetric metric, VxElem elem, int nnz)
{
	codec->dims = dims;
	codec->metric = metric;
	codec->elem = elem;
	codec->nnz = elem == VX_ELEM_SPARSE ? nnz : 0;
	if (elem == VX_ELEM_SPARSE)
	{
		Assert(nnz >= 1 && nnz <= SPARSEVEC_MAX_NNZ);
		codec->code_bytes = (int) TYPEALIGN(4, sizeof(uint32) + 5 * (Size) nnz);
		codec->vec_bytes = VX_SPARSE_BYTES(SPARSEVEC_MAX_NNZ);
		return;
	}
	codec->code_bytes = elem == VX_ELEM_BIT ? (dims + 7) / 8 : dims;
	codec->vec_bytes = elem == VX_ELEM_BIT ? (Size) codec->code_bytes : sizeof(float) * dims;
}

Size
VxVectorBytes(const VxCodec *codec, const float *vec)
{
	return VX_CODEC_SPARSE(codec) ? VX_SPARSE_BYTES(VX_SPARSE_NNZ(vec)) : codec->vec_bytes;
}

/* the lowest value a metric's SQL distance takes */
static double
MetricLowest(VxMetric metric)
{
	return metric == VX_METRIC_IP ? -INFINITY : 0.0;
}

/* unit roundoff of float4 */
#define F4_U	5.9604644775390625e-8

/* a float4 at least as large as x (x >= 0) */
static float4
RoundUp(double x)
{
	float4		f = (float4) x;

	if ((double) f < x)
		f = nextafterf(f, INFINITY);
	return f;
}

/* ---- sparse codes (vxcodec.h, SPARSE CODES) ---- */

/* the parts of sparse codes; n is clamped to the capacity (corrupt pages) */
static inline uint32
SparseCount(const VxCodec *codec, const uint8 *codes)
{
	uint16		n;

	memcpy(&n, codes, sizeof(n));
	return Min((uint32) n, (uint32) codec->nnz);
}
#define SPARSE_IDX(codes)			((const uint32 *) ((codes) + sizeof(uint32)))
#define SPARSE_CODES(codec, codes)	((codes) + sizeof(uint32) + sizeof(uint32) * (codec)->nnz)

typedef struct SparseRank
{
	int32		pos;			/* in the vector's elements */
	float		mag;			/* |value| */
} SparseRank;

static int
RankCmp(const void *a, const void *b)
{
	const SparseRank *x = a,
			   *y = b;

	if (x->mag != y->mag)
		return x->mag > y->mag ? -1 : 1;
	return x->pos - y->pos;
}

static int
PosCmp(const void *a, const void *b)
{
	return ((const SparseRank *) a)->pos - ((const SparseRank *) b)->pos;
}

static void
SparseEncode(const VxCodec *codec, const float *x, VxQuant *quant, uint8 *codes)
{
	int			nnz = VX_SPARSE_NNZ(x);
	const int32 *idx = VX_SPARSE_IDX(x);
	const float *val = VX_SPARSE_VAL(x);
	uint32		n = (uint32) Min(nnz, codec->nnz);
	uint32	   *cidx = (uint32 *) (codes + sizeof(uint32));
	uint8	   *cc = codes + sizeof(uint32) + sizeof(uint32) * codec->nnz;
	SparseRank *keep = palloc(sizeof(SparseRank) * Max(nnz, 1));
	double		step,
				norm2 = 0,
				err = 0;
	float		lo = 0,
				hi = 0;

	memset(codes, 0, codec->code_bytes);
	for (int i = 0; i < nnz; i++)
	{
		keep[i].pos = i;
		keep[i].mag = fabsf(val[i]);
	}
	/* more than the capacity: keep the largest, the rest is error */
	if ((int) n < nnz)
	{
		qsort(keep, nnz, sizeof(SparseRank), RankCmp);
		for (int i = n; i < nnz; i++)
			err += codec->metric == VX_METRIC_L1 ? keep[i].mag : (double) keep[i].mag * keep[i].mag;
		qsort(keep, n, sizeof(SparseRank), PosCmp);
	}
	for (uint32 i = 0; i < n; i++)
	{
		float		v = val[keep[i].pos];

		lo = i == 0 ? v : Min(lo, v);
		hi = i == 0 ? v : Max(hi, v);
	}
	step = (float4) (((double) hi - (double) lo) / 255.0);
	{
		uint16		counts[2] = {(uint16) n, (uint16) nnz};

		memcpy(codes, counts, sizeof(counts));
	}
	for (uint32 i = 0; i < n; i++)
	{
		double		v = val[keep[i].pos];
		double		c = step > 0 ? rint((v - lo) / step) : 0;
		double		xh;

		c = Max(0, Min(255, c));
		cidx[i] = (uint32) idx[keep[i].pos];
		cc[i] = (uint8) c;
		xh = (double) lo + step * c;
		norm2 += xh * xh;
		err += codec->metric == VX_METRIC_L1 ? fabs(v - xh) : (v - xh) * (v - xh);
	}
	pfree(keep);
	quant->lo = lo;
	quant->step = (float4) step;
	quant->norm2 = (float4) Min(norm2, (double) FLT_MAX);
	quant->err = RoundUp(codec->metric == VX_METRIC_L1 ? err : sqrt(err));
}

static void
SparseDecode(const VxCodec *codec, const VxQuant *quant, const uint8 *codes, float *out)
{
	uint32		n = SparseCount(codec, codes);
	const uint32 *cidx = SPARSE_IDX(codes);
	const uint8 *cc = SPARSE_CODES(codec, codes);
	float	   *val;

	/*
	 * A corrupt page's indices may be out of range or order: keep the
	 * valid prefix, so that the result is a sparse vector of the index's
	 * dimensions (S1, S2 of sparsevec.h)
	 */
	for (uint32 i = 0; i < n; i++)
		if (cidx[i] >= (uint32) codec->dims || (i > 0 && cidx[i] <= cidx[i - 1]))
		{
			n = i;
			break;
		}
	VX_SPARSE_NNZ(out) = (int32) n;
	val = VX_SPARSE_VAL(out);
	for (uint32 i = 0; i < n; i++)
	{
		VX_SPARSE_IDX(out)[i] = (int32) cidx[i];
		val[i] = (float) ((double) quant->lo + (double) quant->step * cc[i]);
	}
}

/*
 * The internal distance of the query to x^.  Queries of up to
 * VX_SPARSE_DENSE_MAX dimensions are scattered into a dense array once
 * (VxQueryInit), and a distance gathers the query's value at each kept
 * index: no branches, as many steps as the element keeps.  Wider ones
 * merge the two sorted index lists.  Indices out of order or range (a
 * corrupt page) give a wrong distance, never a read out of bounds.
 */
static float
SparseQueryDistance(const VxCodec *codec, const VxQuery *q, const VxQuant *quant,
					const uint8 *codes)
{
	uint32		n = SparseCount(codec, codes);
	const uint32 *cidx = SPARSE_IDX(codes);
	const uint8 *cc = SPARSE_CODES(codec, codes);
	double		lo = quant->lo,
				step = quant->step;
	double		dot = 0,
				l1 = q->sum;

	if (q->dense != NULL && codec->metric != VX_METRIC_L1)
	{
		const float *dense = q->dense;
		uint32		mask = q->dense_mask;
		double		sq = 0,
					sqc = 0;

		double		sq1 = 0,
					sqc1 = 0;
		uint32		i = 0;

		/*
		 * q.x^ = lo sum q_i + step sum q_i c_i over the kept i; two chains
		 * of each sum, so that their additions overlap
		 */
		for (; i + 2 <= n; i += 2)
		{
			double		q0 = dense[cidx[i] & mask],
						q1 = dense[cidx[i + 1] & mask];

			sq += q0;
			sq1 += q1;
			sqc += q0 * cc[i];
			sqc1 += q1 * cc[i + 1];
		}
		for (; i < n; i++)
		{
			double		qv = dense[cidx[i] & mask];

			sq += qv;
			sqc += qv * cc[i];
		}
		dot = lo * (sq + sq1) + step * (sqc + sqc1);
	}
	else if (q->dense != NULL)
	{
		const float *dense = q->dense;
		uint32		mask = q->dense_mask;

		for (uint32 i = 0; i < n; i++)
		{
			double		xh = lo + step * cc[i];
			double		qv = dense[cidx[i] & mask];

			l1 += fabs(qv - xh) - fabs(qv);
		}
	}
	else
	{
		const int32 *qidx = VX_SPARSE_IDX(q->vec);
		const float *qval = VX_SPARSE_VAL(q->vec);
		int			nq = q->nnz;
		int			j = 0;

		for (uint32 i = 0; i < n; i++)
		{
			double		xh = lo + step * cc[i];
			double		qv = 0;

			while (j < nq && (uint32) qidx[j] < cidx[i])
				j++;
			if (j < nq && (uint32) qidx[j] == cidx[i])
				qv = qval[j];
			dot += qv * xh;
			l1 += fabs(qv - xh) - fabs(qv);
		}
	}
	switch (codec->metric)
	{
		case VX_METRIC_L2:
			return (float) Max(q->norm2 - 2 * dot + quant->norm2, 0.0);
		case VX_METRIC_L1:
			return (float) Max(l1, 0.0);
		default:
			return (float) -dot;
	}
}

/*
 * Pair distances (the neighbour heuristic, the graph only: no bound rests
 * on them) come in runs with the same first element.  Up to
 * VX_SPARSE_DENSE_MAX dimensions, the first element is scattered into a
 * dense array kept for the backend (at most 512 kB, allocated once) and
 * reused while the next call's first element has the same codes; the
 * second is gathered.
 */
static struct
{
	float	   *dense;			/* VX_SPARSE_DENSE_MAX floats, zero but a's */
	uint8	   *key;			/* a's VxQuant and codes; NULL: none */
	int			key_bytes;
	uint32		n;				/* a's elements scattered */
	double		l1;				/* sum |a^_i| */
} pair_scratch;

static void
PairScatter(const VxCodec *codec, const VxQuant *qa, const uint8 *ca)
{
	int			key_bytes = sizeof(VxQuant) + codec->code_bytes;

	if (pair_scratch.dense == NULL)
		pair_scratch.dense = MemoryContextAllocZero(TopMemoryContext,
													sizeof(float) * VX_SPARSE_DENSE_MAX);
	if (pair_scratch.key != NULL && pair_scratch.key_bytes == key_bytes &&
		memcmp(pair_scratch.key, qa, sizeof(VxQuant)) == 0 &&
		memcmp(pair_scratch.key + sizeof(VxQuant), ca, codec->code_bytes) == 0)
		return;
	/* clear the previous element's values (its indices are in the key) */
	if (pair_scratch.key != NULL)
	{
		const uint8 *old = pair_scratch.key + sizeof(VxQuant);

		for (uint32 i = 0; i < pair_scratch.n; i++)
			pair_scratch.dense[SPARSE_IDX(old)[i] & (VX_SPARSE_DENSE_MAX - 1)] = 0;
		if (pair_scratch.key_bytes != key_bytes)
		{
			pfree(pair_scratch.key);
			pair_scratch.key = NULL;
		}
	}
	if (pair_scratch.key == NULL)
		pair_scratch.key = MemoryContextAlloc(TopMemoryContext, key_bytes);
	pair_scratch.key_bytes = key_bytes;
	memcpy(pair_scratch.key, qa, sizeof(VxQuant));
	memcpy(pair_scratch.key + sizeof(VxQuant), ca, codec->code_bytes);
	pair_scratch.l1 = 0;
	pair_scratch.n = SparseCount(codec, ca);
	{
		const uint8 *c = SPARSE_CODES(codec, ca);

		for (uint32 i = 0; i < pair_scratch.n; i++)
		{
			float		v = (float) ((double) qa->lo + (double) qa->step * c[i]);

			pair_scratch.dense[SPARSE_IDX(ca)[i] & (VX_SPARSE_DENSE_MAX - 1)] = v;
			pair_scratch.l1 += fabs(v);
		}
	}
}

/* the internal distance between two elements' x^ */
static float
SparsePairDistance(const VxCodec *codec, const VxQuant *qa, const uint8 *ca,
				   const VxQuant *qb, const uint8 *cb)
{
	uint32		nb = SparseCount(codec, cb);
	const uint32 *ib = SPARSE_IDX(cb);
	const uint8 *b = SPARSE_CODES(codec, cb);
	double		dot = 0,
				l1 = 0;

	if (codec->dims <= VX_SPARSE_DENSE_MAX && codec->metric != VX_METRIC_L1)
	{
		const float *dense;
		float		sa0 = 0,
					sa1 = 0,
					sac0 = 0,
					sac1 = 0;
		uint32		j = 0;

		/*
		 * a^.b^ = lo_b sum a^_i + step_b sum a^_i c_i over b's kept i, in
		 * two chains of each sum so that their additions overlap
		 */
		PairScatter(codec, qa, ca);
		dense = pair_scratch.dense;
		for (; j + 2 <= nb; j += 2)
		{
			float		x0 = dense[ib[j] & (VX_SPARSE_DENSE_MAX - 1)],
						x1 = dense[ib[j + 1] & (VX_SPARSE_DENSE_MAX - 1)];

			sa0 += x0;
			sa1 += x1;
			sac0 += x0 * (float) b[j];
			sac1 += x1 * (float) b[j + 1];
		}
		if (j < nb)
		{
			float		x = dense[ib[j] & (VX_SPARSE_DENSE_MAX - 1)];

			sa0 += x;
			sac0 += x * (float) b[j];
		}
		dot = (double) qb->lo * (sa0 + sa1) + (double) qb->step * (sac0 + sac1);
	}
	else if (codec->dims <= VX_SPARSE_DENSE_MAX)
	{
		const float *dense;

		PairScatter(codec, qa, ca);
		dense = pair_scratch.dense;
		l1 = pair_scratch.l1;
		for (uint32 j = 0; j < nb; j++)
		{
			double		x = dense[ib[j] & (VX_SPARSE_DENSE_MAX - 1)];
			double		y = qb->lo + (double) qb->step * b[j];

			l1 += fabs(x - y) - fabs(x);
		}
	}
	else
	{
		uint32		na = SparseCount(codec, ca);
		const uint32 *ia = SPARSE_IDX(ca);
		const uint8 *a = SPARSE_CODES(codec, ca);
		uint32		i = 0,
					j = 0;

		while (i < na || j < nb)
		{
			double		x = 0,
						y = 0;

			if (j == nb || (i < na && ia[i] < ib[j]))
				x = qa->lo + (double) qa->step * a[i++];
			else if (i == na || ib[j] < ia[i])
				y = qb->lo + (double) qb->step * b[j++];
			else
			{
				x = qa->lo + (double) qa->step * a[i++];
				y = qb->lo + (double) qb->step * b[j++];
			}
			dot += x * y;
			l1 += fabs(x - y);
		}
	}
	switch (codec->metric)
	{
		case VX_METRIC_L2:
			return (float) Max((double) qa->norm2 + qb->norm2 - 2 * dot, 0.0);
		case VX_METRIC_L1:
			return (float) Max(l1, 0.0);
		default:
			return (float) -dot;
	}
}

/*
 * Quantize x[dims] (internal form) into quant and codes[dims].  Returns
 * nothing: the error is in quant->err.
 */
void
VxEncodeVector(const VxCodec *codec, const float *x, VxQuant *quant, uint8 *codes)
{
	int			n = codec->dims;
	float		lo = x[0],
				hi = x[0];
	double		step;
	double		norm2 = 0,
				err = 0;

	if (VX_CODEC_BITS(codec))
	{
		memcpy(codes, x, codec->code_bytes);
		memset(quant, 0, sizeof(VxQuant));
		quant->norm2 = (float4) vx_kernels->bit_count(codes, codec->code_bytes);
		return;
	}
	if (VX_CODEC_SPARSE(codec))
	{
		SparseEncode(codec, x, quant, codes);
		return;
	}
	for (int i = 1; i < n; i++)
	{
		lo = Min(lo, x[i]);
		hi = Max(hi, x[i]);
	}
	/* in double: hi - lo may exceed FLT_MAX, (hi - lo) / 255 cannot */
	step = (float4) (((double) hi - (double) lo) / 255.0);
	for (int i = 0; i < n; i++)
	{
		double		c = step > 0 ? rint(((double) x[i] - lo) / step) : 0;
		double		xh;

		c = Max(0, Min(255, c));
		codes[i] = (uint8) c;
		xh = (double) lo + step * c;
		norm2 += xh * xh;
		if (codec->metric == VX_METRIC_L1)
			err += fabs(x[i] - xh);
		else
			err += (x[i] - xh) * (x[i] - xh);
	}
	quant->lo = lo;
	quant->step = (float4) step;
	quant->norm2 = (float4) Min(norm2, (double) FLT_MAX);
	quant->err = RoundUp(codec->metric == VX_METRIC_L1 ? err : sqrt(err));
}

/* x^ into out[dims] */
void
VxDecodeVector(const VxCodec *codec, const VxQuant *quant, const uint8 *codes, float *out)
{
	float		lo = quant->lo,
				step = quant->step;

	if (VX_CODEC_BITS(codec))
	{
		memcpy(out, codes, codec->code_bytes);
		return;
	}
	if (VX_CODEC_SPARSE(codec))
	{
		SparseDecode(codec, quant, codes, out);
		return;
	}
	for (int i = 0; i < codec->dims; i++)
		out[i] = lo + step * (float) codes[i];
}

void
VxQueryInit(VxQuery *q, const VxCodec *codec, const float *vec)
{
	double		norm2 = 0,
				sum = 0;

	q->vec = vec;
	q->nnz = 0;
	q->gather = NULL;
	q->dense = NULL;
	q->dense_mask = 0;
	if (vec != NULL && VX_CODEC_BITS(codec))
		norm2 = (double) vx_kernels->bit_count((const uint8 *) vec, codec->code_bytes);
	else if (vec != NULL && VX_CODEC_SPARSE(codec))
	{
		const float *val = VX_SPARSE_VAL(vec);
		const int32 *idx = VX_SPARSE_IDX(vec);

		q->nnz = VX_SPARSE_NNZ(vec);
		if (codec->dims <= VX_SPARSE_DENSE_MAX)
		{
			/* a power of two: indices are masked, so a corrupt one stays inside */
			q->dense_mask = pg_nextpower2_32((uint32) codec->dims) - 1;
			q->dense = palloc0(sizeof(float) * ((Size) q->dense_mask + 1));
		}
		for (int i = 0; i < q->nnz; i++)
		{
			norm2 += (double) val[i] * val[i];
			sum += fabs((double) val[i]);
			/* masked: a vector decoded from a corrupt page may hold any index */
			if (q->dense != NULL)
				q->dense[(uint32) idx[i] & q->dense_mask] = val[i];
		}
	}
	else if (vec != NULL)
		for (int i = 0; i < codec->dims; i++)
		{
			norm2 += (double) vec[i] * vec[i];
			sum += vec[i];
		}
	q->norm2 = norm2;
	q->sum = sum;
}

void
VxQueryInitPieces(VxQuery *q, const VxCodec *codec, const float *vec)
{
	VxQueryInit(q, codec, vec);
	if (VX_CODEC_SPARSE(codec))
		q->gather = palloc(codec->code_bytes);
}

/*
 * The part of a distance that codes[0..n), code bytes from.. of the
 * element, contribute: sum q_i c_i, or for L1 sum |q_i - x^_i|; for bits
 * the count of differing (Hamming) or shared (Jaccard) bits.  A vector
 * split over pages is the sum of its pieces' parts.  Sparse codes: the
 * pieces are gathered (VxQueryInitPieces) and the last one's part is the
 * whole distance, the others' 0.
 */
float
VxCodesPart(const VxCodec *codec, const VxQuery *q, int from, const uint8 *codes, int n,
			  const VxQuant *quant)
{
	if (VX_CODEC_SPARSE(codec))
	{
		if (from == 0 && n == codec->code_bytes)
			return SparseQueryDistance(codec, q, quant, codes);
		Assert(q->gather != NULL);
		memcpy(q->gather + from, codes, n);
		return from + n == codec->code_bytes ? SparseQueryDistance(codec, q, quant, q->gather) : 0;
	}
	if (VX_CODEC_BITS(codec))
		return (float) BitPart(codec->metric, (const uint8 *) q->vec + from, codes, n);
	if (codec->metric == VX_METRIC_L1)
		return vx_kernels->sq8v_l1(q->vec + from, codes, n, quant->lo, quant->step);
	return vx_kernels->sq8_ip(q->vec + from, codes, n);
}

/* the internal distance of q to x^ from the summed parts */
float
VxQueryFinish(const VxCodec *codec, const VxQuery *q, const VxQuant *quant, float part)
{
	double		qx;

	if (VX_CODEC_BITS(codec))
		return BitFinish(codec->metric, part, q->norm2, quant->norm2);
	if (codec->metric == VX_METRIC_L1 || VX_CODEC_SPARSE(codec))
		return part;
	qx = quant->lo * q->sum + (double) quant->step * part;
	if (codec->metric == VX_METRIC_L2)
		return (float) Max(q->norm2 - 2 * qx + quant->norm2, 0.0);
	return (float) -qx;
}

/* distance of q to a vector whose codes lie in one piece of memory */
float
VxQueryDistance(const VxCodec *codec, const VxQuery *q, const VxQuant *quant,
				const uint8 *codes)
{
	return VxQueryFinish(codec, q, quant,
						 VxCodesPart(codec, q, 0, codes, codec->code_bytes, quant));
}

/*
 * The internal distance between two elements' x^ (not L1: it needs the
 * decoded values), from an exact integer pass over both codes.
 */
float
VxPairDistance(const VxCodec *codec, const VxQuant *qa, const uint8 *ca,
				 const VxQuant *qb, const uint8 *cb)
{
	uint64_t	s[3];
	double		ip;

	if (VX_CODEC_BITS(codec))
		return BitFinish(codec->metric, BitPart(codec->metric, ca, cb, codec->code_bytes),
						 qa->norm2, qb->norm2);
	if (VX_CODEC_SPARSE(codec))
		return SparsePairDistance(codec, qa, ca, qb, cb);
	Assert(codec->metric != VX_METRIC_L1);
	vx_kernels->u8_dot(ca, cb, codec->dims, s);
	ip = (double) codec->dims * qa->lo * qb->lo + (double) qa->lo * qb->step * s[2] +
		(double) qb->lo * qa->step * s[1] + (double) qa->step * qb->step * s[0];
	if (codec->metric == VX_METRIC_L2)
		return (float) Max((double) qa->norm2 + qb->norm2 - 2 * ip, 0.0);
	return (float) -ip;
}

/*
 * A value that the SQL distance of the ordering operator between the
 * query and the row's vector x is never below, given d, the internal
 * distance of q to x^ (VxQueryFinish).  vxcodec.h; the terms:
 *	 tau   VX_KERNEL_TOL(dims): a float kernel's error relative to the sum
 *	       of its terms' absolute values, for ours and for the SQL
 *	       function's (both go through distance.h)
 *	 A     bound on step * |error of sum q_i c_i|: the terms' absolute sum
 *	       is at most |q| |c| and step |c| <= |x^| + |lo| sqrt(dims)
 *	 u     float4 rounding of d, of the stored norm2, of the normalised
 *	       vectors (cosine)
 */
double
VxLowerBound(const VxCodec *codec, const VxQuery *q, const VxQuant *quant, float d)
{
	/* sparse: as many terms as the SQL function's merge may add */
	int			n = VX_CODEC_SPARSE(codec) ? q->nnz + SPARSEVEC_MAX_NNZ : codec->dims;
	double		tau = VX_KERNEL_TOL(n);
	double		qn = sqrt(q->norm2);
	double		xn = sqrt((double) quant->norm2);
	double		err = quant->err;
	/* sparse distances are summed in double: only their float rounding */
	double		a = VX_CODEC_SPARSE(codec) ? F4_U * qn * xn :
		tau * qn * (xn + fabs((double) quant->lo) * sqrt((double) n));
	double		lb;

	/*
	 * Parameters read from a page that no encoding produces (a corrupt
	 * page): the weakest bound, which is never above the exact distance.
	 */
	if (!(quant->err >= 0) || !(quant->step >= 0) || isinf(quant->err) || isnan(quant->lo) ||
		!(quant->norm2 >= 0))
		return MetricLowest(codec->metric);
	/* bits: exact counts (floats hold them exactly up to 2^24) */
	if (codec->metric == VX_METRIC_HAMMING)
		return d;
	if (codec->metric == VX_METRIC_JACCARD)
		return Max((double) d - 2 * F4_U, 0.0);
	switch (codec->metric)
	{
		case VX_METRIC_L2:
			{
				double		e = 2 * a + 4 * F4_U * (q->norm2 + quant->norm2) + 2 * F4_U * fabs(d);
				double		low = sqrt(Max(d - e, 0.0)) - err;

				lb = Max(low, 0.0) * (1 - tau);
				break;
			}
		case VX_METRIC_IP:
			lb = d - a - 2 * F4_U * fabs(d) - qn * err - tau * qn * (xn * (1 + F4_U) + err);
			break;
		case VX_METRIC_COSINE:
			lb = 1 + d - a - 2 * F4_U * fabs(d) - qn * err - 4 * tau - 4 * F4_U;
			lb = Max(lb, 0.0);
			break;
		case VX_METRIC_L1:
			{
				double		b = VX_CODEC_SPARSE(codec) ? 0 :
					2 * F4_U * n * (fabs((double) quant->lo) * 2 + 255.0 * quant->step);
				double		low = d * (1 - 2 * tau) - b - err;

				lb = Max(low, 0.0) * (1 - tau);
				break;
			}
		default:
			pg_unreachable();
	}
	/* overflowing vectors (|x| near FLT_MAX) can make the terms NaN */
	if (isnan(lb))
		lb = codec->metric == VX_METRIC_IP ? -INFINITY : 0.0;
	return lb;
}

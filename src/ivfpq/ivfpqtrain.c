/*-------------------------------------------------------------------------
 *
 * ivfpqtrain.c
 *	  The numerical core of IVF-PQ: k-means (k-means++ seeding on a
 *	  subsample, Lloyd iterations, empty clusters split off the largest),
 *	  PQ codebook training, encoding, and the per-query lookup tables.
 *	  Plain arrays and palloc only; the build (ivfpqbuild.c) and the scan
 *	  (ivfpqscan.c) call it.
 *
 *	  The inner loops that compare one sub-vector with all ksub
 *	  sub-centroids run over the transposed codebook (dimension-major), so
 *	  they are straight loops over ksub floats that the compiler
 *	  vectorizes; on x86-64 they are compiled for AVX-512, AVX2 and
 *	  baseline and the best is picked at load time (target_clones).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "common/pg_prng.h"
#include "miscadmin.h"

#include "distance.h"
#include "ivfpq.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VX_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VX_CLONES
#endif

/*
 * out[k] = base[k] - 2 sum_t r[t] cbt[t * ksub + k] for k < ksub: with base
 * the squared norms of the ksub points (rows of the transposed cbt), the
 * squared L2 distance of r to each, less |r|^2.  Four dimensions per pass
 * over out, so that its loads and stores do not dominate the FMAs.
 */
VX_CLONES static void
SubTableDot(const float *restrict r, const float *restrict cbt, const float *restrict base,
			int ds, int ksub, float *restrict out)
{
	int			t = 0;

	for (int k = 0; k < ksub; k++)
		out[k] = base[k];
	for (; t + 4 <= ds; t += 4)
	{
		const float *restrict c0 = cbt + (Size) t * ksub;
		const float *restrict c1 = c0 + ksub;
		const float *restrict c2 = c1 + ksub;
		const float *restrict c3 = c2 + ksub;
		float		a0 = -2 * r[t],
					a1 = -2 * r[t + 1],
					a2 = -2 * r[t + 2],
					a3 = -2 * r[t + 3];

		for (int k = 0; k < ksub; k++)
			out[k] += a0 * c0[k] + a1 * c1[k] + a2 * c2[k] + a3 * c3[k];
	}
	for (; t < ds; t++)
	{
		const float *restrict c = cbt + (Size) t * ksub;
		float		a = -2 * r[t];

		for (int k = 0; k < ksub; k++)
			out[k] += a * c[k];
	}
}

static float
SquaredNorm(const float *x, int n)
{
	float		s = 0;

	for (int i = 0; i < n; i++)
		s += x[i] * x[i];
	return s;
}

/* out[k] = -sum_t q[t] * cbt[t * ksub + k] */
VX_CLONES static void
SubTableIP(const float *restrict q, const float *restrict cbt, int ds, int ksub, float *restrict out)
{
	for (int k = 0; k < ksub; k++)
		out[k] = 0;
	for (int t = 0; t < ds; t++)
	{
		const float *restrict c = cbt + (Size) t * ksub;
		float		qt = q[t];

		for (int k = 0; k < ksub; k++)
			out[k] -= qt * c[k];
	}
}

/*
 * Index of the smallest of t[0..n), the first on ties: a minimum over
 * eight lanes (branch-free, so it vectorizes; a compare-and-move chain was
 * three quarters of the assignment loops' time), then its first position.
 */
VX_CLONES static int
ArgMin(const float *restrict t, int n)
{
	float		lane[8];
	float		m;
	int			i = 0;

	for (int j = 0; j < 8; j++)
		lane[j] = INFINITY;
	for (; i + 8 <= n; i += 8)
		for (int j = 0; j < 8; j++)
			lane[j] = t[i + j] < lane[j] ? t[i + j] : lane[j];
	m = lane[0];
	for (int j = 1; j < 8; j++)
		m = lane[j] < m ? lane[j] : m;
	for (; i < n; i++)
		m = t[i] < m ? t[i] : m;
	for (i = 0; i < n; i++)
		if (t[i] == m)
			return i;
	return 0;					/* all NaN */
}

/*
 * Nearest of k centroids by L2: argmin |c|^2 - 2 x.c, with the full
 * squared distance in *dist.  Training, assignment and encoding all use L2
 * (the reconstruction error); scans rank lists by the index's metric.
 */
int
IvfpqNearest(const float *x, const float *centroids, const float *norms, int k, int d, float *dist)
{
	int			best = 0;
	float		bestd = FLT_MAX;

	for (int i = 0; i < k; i++)
	{
		float		s = norms[i] - 2 * vx_inner_product(x, centroids + (Size) i * d, d);

		if (s < bestd)
		{
			bestd = s;
			best = i;
		}
	}
	if (dist)
		*dist = Max(bestd + vx_inner_product(x, x, d), 0);
	return best;
}

/*
 * k-means of n points of d dimensions into k centroids.  n <= k: the
 * points themselves, repeated.  Otherwise k-means++ seeding on a random
 * subsample of at most 16k points (its cost is k passes over the
 * subsample), then Lloyd iterations until no point moves or iters is
 * reached.  A cluster left empty takes half of the largest one: both
 * become its centroid nudged apart by a relative 1e-4, as faiss does.
 */
void
IvfpqKmeans(const float *x, int n, int d, int k, float *centroids, int iters, uint32 seed)
{
	pg_prng_state prng;
	int		   *assign;
	int		   *counts;
	double	   *sums;
	float	   *ct;
	float	   *cnorm;
	float	   *table;
	int			nsub;
	int		   *sub;
	float	   *mind;

	if (n <= k)
	{
		for (int i = 0; i < k; i++)
			memcpy(centroids + (Size) i * d, x + (Size) (i % Max(n, 1)) * d, sizeof(float) * d);
		return;
	}
	pg_prng_seed(&prng, seed);

	/* k-means++ on a subsample */
	nsub = Min(n, 16 * k);
	sub = palloc(sizeof(int) * nsub);
	for (int i = 0; i < nsub; i++)
		sub[i] = i;
	if (nsub < n)
	{
		/* a random nsub-subset: reservoir over 0..n-1 */
		for (int i = nsub; i < n; i++)
		{
			int			j = (int) pg_prng_uint64_range(&prng, 0, i);

			if (j < nsub)
				sub[j] = i;
		}
	}
	mind = palloc(sizeof(float) * nsub);
	{
		int			first = sub[pg_prng_uint64_range(&prng, 0, nsub - 1)];

		memcpy(centroids, x + (Size) first * d, sizeof(float) * d);
		for (int i = 0; i < nsub; i++)
			mind[i] = vx_l2_squared(x + (Size) sub[i] * d, centroids, d);
	}
	for (int c = 1; c < k; c++)
	{
		double		total = 0,
					pick;
		int			chosen = nsub - 1;
		float	   *cent = centroids + (Size) c * d;

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < nsub; i++)
			total += mind[i];
		pick = pg_prng_double(&prng) * total;
		for (int i = 0; i < nsub; i++)
		{
			pick -= mind[i];
			if (pick <= 0)
			{
				chosen = i;
				break;
			}
		}
		memcpy(cent, x + (Size) sub[chosen] * d, sizeof(float) * d);
		for (int i = 0; i < nsub; i++)
		{
			float		dd = vx_l2_squared(x + (Size) sub[i] * d, cent, d);

			if (dd < mind[i])
				mind[i] = dd;
		}
	}
	pfree(mind);
	pfree(sub);

	/*
	 * Lloyd.  Assignment scores all k centroids at once over the transposed
	 * centroids (SubTableDot), which vectorizes whatever d is; one kernel
	 * call per pair would cost more than the arithmetic for small d (PQ
	 * sub-spaces).
	 */
	assign = palloc(sizeof(int) * n);
	counts = palloc(sizeof(int) * k);
	sums = palloc(sizeof(double) * (Size) k * d);
	ct = palloc(sizeof(float) * (Size) k * d);
	cnorm = palloc(sizeof(float) * k);
	table = palloc(sizeof(float) * k);
	for (int i = 0; i < n; i++)
		assign[i] = -1;
	for (int it = 0; it < iters; it++)
	{
		int			moved = 0;

		for (int c = 0; c < k; c++)
		{
			for (int t = 0; t < d; t++)
				ct[(Size) t * k + c] = centroids[(Size) c * d + t];
			cnorm[c] = SquaredNorm(centroids + (Size) c * d, d);
		}
		for (int i = 0; i < n; i++)
		{
			int			a = 0;

			if ((i & 255) == 0)
				CHECK_FOR_INTERRUPTS();
			SubTableDot(x + (Size) i * d, ct, cnorm, d, k, table);
			a = ArgMin(table, k);
			if (a != assign[i])
			{
				assign[i] = a;
				moved++;
			}
		}
		if (moved == 0)
			break;
		memset(counts, 0, sizeof(int) * k);
		memset(sums, 0, sizeof(double) * (Size) k * d);
		for (int i = 0; i < n; i++)
		{
			const float *p = x + (Size) i * d;
			double	   *s = sums + (Size) assign[i] * d;

			counts[assign[i]]++;
			for (int t = 0; t < d; t++)
				s[t] += p[t];
		}
		for (int c = 0; c < k; c++)
			if (counts[c] > 0)
				for (int t = 0; t < d; t++)
					centroids[(Size) c * d + t] = (float) (sums[(Size) c * d + t] / counts[c]);
		for (int c = 0; c < k; c++)
		{
			int			big = 0;

			if (counts[c] > 0)
				continue;
			for (int b = 1; b < k; b++)
				if (counts[b] > counts[big])
					big = b;
			if (counts[big] < 2)
				break;
			for (int t = 0; t < d; t++)
			{
				float		v = centroids[(Size) big * d + t];

				centroids[(Size) c * d + t] = v * (1 + 1e-4f) + (t % 2 ? 1e-6f : -1e-6f);
				centroids[(Size) big * d + t] = v * (1 - 1e-4f) - (t % 2 ? 1e-6f : -1e-6f);
			}
			counts[c] = counts[big] / 2;
			counts[big] -= counts[c];
		}
	}
	pfree(assign);
	pfree(counts);
	pfree(sums);
	pfree(ct);
	pfree(cnorm);
	pfree(table);
}

/*
 * The vector the lists route by: the internal form itself, or for a bit
 * column (its internal form packed bits, vxcodec.h) its bits as 0/1
 * floats in scratch[dims], so that k-means and the nearest centroid work
 * on it as on any vector (squared L2 between 0/1 vectors is the Hamming
 * distance).  Bit i is the high bit first, as in PostgreSQL's bit type.
 */
const float *
IvfpqRoutingVector(const VxCodec *codec, const float *vec, float *scratch)
{
	const uint8 *bits = (const uint8 *) vec;

	if (codec->elem != VX_ELEM_BIT)
		return vec;
	for (int i = 0; i < codec->dims; i++)
		scratch[i] = (float) ((bits[i >> 3] >> (7 - (i & 7))) & 1);
	return scratch;
}

/*
 * An IVFFlat entry's code: the vector's VxQuant, then its 8-bit codes
 * (vxcodec.h), into code[IvfpqEntryCodeLen].  Returns the squared
 * quantization error, as IvfpqEncode does (DRIFT).
 */
float
IvfpqEncodeFlat(const IvfpqShape *shape, const float *x, uint8 *code)
{
	VxQuant		quant;

	VxEncodeVector(&shape->codec, x, &quant, code + sizeof(VxQuant));
	memcpy(code, &quant, sizeof(VxQuant));
	return quant.err * quant.err;
}

void
IvfpqResidual(const IvfpqShape *shape, const float *x, int list, float *out)
{
	int			d = shape->meta.dims;
	const float *c = shape->centroids + (Size) list * d;

	for (int t = 0; t < d; t++)
		out[t] = x[t] - c[t];
}

/*
 * Codebooks by k-means in each sub-space over n residuals (row-major, n x
 * dims); fills shape->codebooks and, through IvfpqShapeDerive, the
 * transposed copy.
 */
void
IvfpqTrainCodebooks(IvfpqShape *shape, const float *residuals, int n, uint32 seed)
{
	int			dims = shape->meta.dims;
	int			maxds = 0;
	float	   *subx;

	for (int j = 0; j < shape->meta.m; j++)
		maxds = Max(maxds, shape->dsub[j]);
	subx = palloc(sizeof(float) * (Size) Max(n, 1) * maxds);
	for (int j = 0; j < shape->meta.m; j++)
	{
		int			ds = shape->dsub[j];

		for (int i = 0; i < n; i++)
			memcpy(subx + (Size) i * ds, residuals + (Size) i * dims + shape->doff[j], sizeof(float) * ds);
		IvfpqKmeans(subx, n, ds, shape->ksub, shape->codebooks + shape->cboff[j], 20, seed + j);
	}
	pfree(subx);
}

/* the code of a residual; returns its squared reconstruction error */
float
IvfpqEncode(const IvfpqShape *shape, const float *residual, uint8 *code)
{
	float		table[256];
	float		err = 0;

	for (int j = 0; j < shape->meta.m; j++)
	{
		const float *r = residual + shape->doff[j];
		int			best;

		SubTableDot(r, shape->codebooks_t + shape->cboff[j], shape->codebook_norms + j * shape->ksub,
					shape->dsub[j], shape->ksub, table);
		best = ArgMin(table, shape->ksub);
		code[j] = (uint8) best;
		err += Max(table[best] + SquaredNorm(r, shape->dsub[j]), 0);
	}
	return err;
}

/* lut[j * ksub + k] = |r_j - y_jk|^2: the L2 table of one list's residual */
void
IvfpqLutL2(const IvfpqShape *shape, const float *residual, float *lut)
{
	for (int j = 0; j < shape->meta.m; j++)
	{
		const float *r = residual + shape->doff[j];
		float	   *t = lut + j * shape->ksub;
		float		rr = SquaredNorm(r, shape->dsub[j]);

		SubTableDot(r, shape->codebooks_t + shape->cboff[j], shape->codebook_norms + j * shape->ksub,
					shape->dsub[j], shape->ksub, t);
		for (int k = 0; k < shape->ksub; k++)
			t[k] += rr;
	}
}

/* lut[j * ksub + k] = -q_j . y_jk: the inner-product table, the same for every list */
void
IvfpqLutIP(const IvfpqShape *shape, const float *query, float *lut)
{
	for (int j = 0; j < shape->meta.m; j++)
		SubTableIP(query + shape->doff[j], shape->codebooks_t + shape->cboff[j],
				   shape->dsub[j], shape->ksub, lut + j * shape->ksub);
}

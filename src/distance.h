/*-------------------------------------------------------------------------
 *
 * distance.h
 *	  The distance-kernel seam: every distance vectorx computes, in SQL
 *	  functions, index builds and scans, goes through the functions here.
 *
 * Kernels work on plain arrays and never allocate.  They are reached through
 * a table of function pointers (VxKernels), one table per instruction-set
 * variant:
 *
 *	variant   file                when chosen
 *	scalar    distance_scalar.c   always available; the reference
 *	avx2      distance_avx2.c     x86-64 with AVX2, FMA and F16C
 *	avx512    distance_avx512.c   x86-64 with AVX-512 F, BW, VL, DQ
 *	neon      distance_neon.c     arm64 (always has NEON)
 *
 * vx_kernels_init() (distance.c, above the variants) picks the best
 * variant the CPU (and the OS, via XGETBV) supports, once per process.
 * Variants are compiled with per-function target attributes, never a
 * global -march, so the library loads and runs on any x86-64.  This header and the kernel files use only
 * the C library: the standalone kernel test and benchmark link them without
 * a PostgreSQL server.
 *
 * Numerical contract (what tests check against the scalar reference):
 * float kernels may reassociate sums, so they agree with the reference within
 * VX_KERNEL_TOL (below); the 4-bit fast-scan kernel works on integers and
 * agrees exactly.
 *
 * Product quantization (PQ) conventions used by the ADC kernels:
 *	m        number of sub-quantizers; a vector's code is m sub-codes
 *	ksub     centroids per sub-quantizer: 256 (8-bit) or 16 (4-bit)
 *	lut      per-query lookup table, lut[j * ksub + c] = partial distance
 *	         of the query's j-th sub-vector to centroid c of sub-quantizer j
 *	8-bit codes: one byte per sub-code, m bytes per vector, vectors packed
 *	4-bit codes: "fast scan" blocks of VX_PQ4_BLOCK = 32 vectors; for each
 *	         sub-quantizer j a block holds 16 bytes, byte i = sub-code of
 *	         vector i (low nibble) | sub-code of vector i+16 (high nibble);
 *	         a block is m * 16 bytes.  Its LUT is uint8 (see vx_pq_quantize_lut).
 *	8-bit fast scan: blocks of VX_PQ8_BLOCK = 64 vectors, for each
 *	         sub-quantizer j 64 bytes (the j-th sub-code of vectors 0..63);
 *	         a block is m * 64 bytes.  uint8 LUT of m x 256 entries.
 *	Fast-scan sums are integers: sum_j lut8[j][c_j], which approximates
 *	(true sum - bias) / scale (vx_pq_quantize_lut); m <= 257 cannot overflow.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_DISTANCE_H
#define VECTORX_DISTANCE_H

#include <math.h>
#include <stdint.h>

/*
 * Tolerance of a float kernel over n terms: |result - exact| <= VX_KERNEL_TOL(n)
 * times the sum of the absolute values of the terms, where "exact" is the
 * sum in real arithmetic of the terms computed from the float inputs.
 * n * 2^-24 is the classic a-priori bound of recursive summation (the scalar
 * reference; blocked SIMD sums do better); the extra 2 * 2^-24 covers the
 * rounding inside one term ((a - b)^2 rounds twice).  Sums whose terms
 * overflow float are +-Inf or NaN in every variant.
 */
#define VX_KERNEL_TOL(n) ((double) ((n) + 2) * 5.9604644775390625e-8)
#define VX_PQ4_BLOCK	32
#define VX_PQ8_BLOCK	64

typedef float (*VxDistanceFn) (const float *a, const float *b, int n);

/* out[i] = distance(q, vecs[i]) for i < count; prefetches ahead */
typedef void (*VxBatchFn) (const float *q, const float *const *vecs, int count,
						   int n, float *out);

typedef struct VxKernels
{
	const char *name;			/* variant name, see the table above */

	/* ---- float32 ---- */
	VxDistanceFn l2_squared;	/* sum (a[i] - b[i])^2 */
	VxDistanceFn dot;			/* the inner product, sum a[i] * b[i] */
	VxDistanceFn l1;			/* sum |a[i] - b[i]| */
	/* dot product and both squared norms in one pass (cosine distance) */
	void		(*cosine_parts) (const float *a, const float *b, int n,
								 float *dot, float *norm_a, float *norm_b);
	VxBatchFn	l2_squared_batch;
	VxBatchFn	inner_product_batch;

	/* ---- float16 storage, float32 math (x holds IEEE binary16 bits) ---- */
	float		(*l2_squared_f16) (const float *q, const uint16_t *x, int n);
	float		(*inner_product_f16) (const float *q, const uint16_t *x, int n);
	/*
	 * Whole arrays converted (the halfvec type): exact one way, round to
	 * nearest even the other, overflow to +-Inf, exactly as vx_f32_to_f16;
	 * the input of f32_to_f16 is never NaN.
	 */
	void		(*f16_to_f32) (const uint16_t *x, float *out, int n);
	void		(*f32_to_f16) (const float *x, uint16_t *out, int n);

	/*
	 * ---- uint8 scalar quantization, asymmetric ----
	 * A vector x is stored as codes c[i] = round((x[i] - lo[i]) / step[i]).
	 * With the query prepared once as qs[i] = (q[i] - lo[i]) / step[i] and
	 * w[i] = step[i]^2:  |q - x|^2 ~ sq8_l2 = sum w[i] (qs[i] - c[i])^2,
	 * and with qs[i] = q[i] * step[i]:  q.x ~ const + sq8_ip = sum qs[i] c[i].
	 */
	float		(*sq8_l2) (const float *qs, const float *w, const uint8_t *codes, int n);
	float		(*sq8_ip) (const float *qs, const uint8_t *codes, int n);

	/*
	 * ---- uint8 scalar quantization per vector (HNSW elements) ----
	 * A vector is stored as x[i] ~ lo + step * c[i] with one lo and step for
	 * the whole vector; the inner product and L2 of a float query against it
	 * need only sum q[i] c[i] (sq8_ip with qs = q).  L1 needs the decoded
	 * values: sq8v_l1 = sum |q[i] - (lo + step * c[i])|.
	 */
	float		(*sq8v_l1) (const float *q, const uint8_t *codes, int n, float lo, float step);

	/*
	 * Two such vectors against each other, in integers (exact): out[0] =
	 * sum a[i] b[i], out[1] = sum a[i], out[2] = sum b[i]; their inner
	 * product follows as n lo_a lo_b + lo_a step_b out[2] + lo_b step_a
	 * out[1] + step_a step_b out[0].  n <= 2^24.
	 */
	void		(*u8_dot) (const uint8_t *a, const uint8_t *b, int n, uint64_t out[3]);

	/*
	 * ---- bit strings (bit(n): 8 bits to a byte, unused tail bits zero) ----
	 * Popcounts over n bytes, exact: of a; of a XOR b (the Hamming
	 * distance); of a AND b (the intersection of Jaccard's distance).
	 */
	uint64_t	(*bit_count) (const uint8_t *a, int n);
	uint64_t	(*bit_xor_count) (const uint8_t *a, const uint8_t *b, int n);
	uint64_t	(*bit_and_count) (const uint8_t *a, const uint8_t *b, int n);

	/* ---- product quantization, asymmetric distance computation ---- */
	/* out[v] = sum_j lut[j * 256 + codes[v * m + j]], v < count */
	void		(*pq8_scan) (const float *lut, int m, const uint8_t *codes,
							 int count, float *out);
	/* out[b * 32 + i] = sum_j lut8[j * 16 + subcode(b, i, j)], b < nblocks */
	void		(*pq4_scan) (const uint8_t *lut8, int m, const uint8_t *blocks,
							 int nblocks, uint16_t *out);
	/* out[b * 64 + i] = sum_j lut8[j * 256 + blocks[b][j][i]], b < nblocks */
	void		(*pq8_fast_scan) (const uint8_t *lut8, int m, const uint8_t *blocks,
								  int nblocks, uint16_t *out);
	/*
	 * The same blocks with a float LUT (no quantization): where no SIMD
	 * lookup of a 256-entry table exists (all but AVX-512 VBMI), it beats
	 * quantizing the LUT per list.  Sums in float like pq8_scan.
	 */
	void		(*pq8_block_scan) (const float *lut, int m, const uint8_t *blocks,
								   int nblocks, float *out);
} VxKernels;

/* The active table; never NULL (the scalar table until vx_kernels_init). */
extern const VxKernels *vx_kernels;

/* Every variant compiled in, and whether this CPU can run it. */
extern const VxKernels vx_kernels_scalar;
#if defined(__x86_64__)
extern const VxKernels vx_kernels_avx2;
extern const VxKernels vx_kernels_avx512;
extern int	vx_avx512_has_vbmi(void);
#endif
#if defined(__aarch64__)
extern const VxKernels vx_kernels_neon;
#endif

extern void vx_kernels_init(void);
extern const VxKernels *vx_kernels_best(void);
extern const VxKernels *vx_kernels_by_name(const char *name);
extern int	vx_kernels_supported(const VxKernels *k);
extern const VxKernels *const vx_kernels_all[];	/* NULL-terminated */

/*
 * 8-bit ADC for the SIMD tables.  Table lookups do not vectorize well (x86
 * gathers are slower than scalar loads on current AMD cores), so this is
 * plain C arranged for the out-of-order core: eight codes' bytes per 64-bit
 * load and eight independent sums in flight.
 */
extern void vx_pq8_scan_unrolled(const float *lut, int m, const uint8_t *codes,
								 int count, float *out);
extern void vx_pq8_fast_scan_scalar(const uint8_t *lut8, int m, const uint8_t *blocks,
									int nblocks, uint16_t *out);
extern void vx_pq8_block_scan_unrolled(const float *lut, int m, const uint8_t *blocks,
									   int nblocks, float *out);
/* whether the active pq8_fast_scan is a SIMD one (AVX-512 VBMI) */
extern int	vx_pq8_fast_scan_simd(void);

/* binary16 <-> float, round to nearest even (scalar; encoding is not hot) */
extern uint16_t vx_f32_to_f16(float f);
extern float vx_f16_to_f32(uint16_t h);

/*
 * Fast-scan support (scalar, per query / per build): quantize a float LUT
 * (m x ksub, ksub = 16 or 256) to uint8 with one scale for all
 * sub-quantizers, so that  sum_j lut[j][c_j] ~ bias + scale * sum_j lut8[j][c_j]
 * with an error of at most m/2 * scale.
 */
extern void vx_pq_quantize_lut(const float *lut, int m, int ksub, uint8_t *lut8,
							   float *bias, float *scale);
/* pack count vectors' codes (m bytes each) into fast-scan blocks */
extern void vx_pq4_pack(const uint8_t *codes, int count, int m, uint8_t *blocks);
extern void vx_pq8_pack(const uint8_t *codes, int count, int m, uint8_t *blocks);

static inline float
vx_l2_squared(const float *a, const float *b, int n)
{
	return vx_kernels->l2_squared(a, b, n);
}

static inline float
vx_inner_product(const float *a, const float *b, int n)
{
	return vx_kernels->dot(a, b, n);
}

static inline float
vx_l1(const float *a, const float *b, int n)
{
	return vx_kernels->l1(a, b, n);
}

/*
 * Cosine distance 1 - a.b / (|a| |b|), clamped to [0, 2].  A zero vector
 * has no direction: the result is NaN, as in pgvector.
 */
static inline double
vx_cosine_distance(const float *a, const float *b, int n)
{
	float		dot,
				na,
				nb;
	double		sim;

	vx_kernels->cosine_parts(a, b, n, &dot, &na, &nb);
	sim = (double) dot / sqrt((double) na * (double) nb);
	if (sim > 1.0)
		sim = 1.0;
	else if (sim < -1.0)
		sim = -1.0;
	return 1.0 - sim;
}

#endif							/* VECTORX_DISTANCE_H */

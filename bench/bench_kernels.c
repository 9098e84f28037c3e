/*
 * bench/bench_kernels.c: single-core micro-benchmark of the distance
 * kernels, one JSON object per line on stdout (bench/kernels.py turns them
 * into a table beside faiss).  Built by `make bench-kernels`.
 *
 *  {"what":"seqread", ...}        plain sequential-read bandwidth (the reference)
 *  {"what":"l2", "variant", "dim", "resident":"cache"|"memory", "ns", "gbs"}
 *  {"what":"pq", "variant", "m", "nbits", "codes_per_s"}
 *
 * Cache-resident: one query against a set of vectors that fits in L2,
 * repeated.  Memory-resident: one pass over 1 GiB of vectors laid out
 * contiguously, as an exact scan or an index page would present them.
 * Each figure is the median of 5 runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "distance.h"

#define RUNS 5
#define MEMORY_BYTES ((size_t) 1 << 30)
#define CACHE_BYTES ((size_t) 256 << 10)

static double
Now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
CmpDouble(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y;
}

static double
Median(double *v, int n)
{
	qsort(v, n, sizeof(double), CmpDouble);
	return v[n / 2];
}

static volatile float sink;

/* sequential read of the whole buffer with the widest loads available */
#if defined(__x86_64__)
__attribute__((target("avx2"))) static float
ReadAllAvx2(const float *p, size_t n)
{
	__m256		a0 = _mm256_setzero_ps(),
				a1 = a0,
				a2 = a0,
				a3 = a0;

	for (size_t i = 0; i + 32 <= n; i += 32)
	{
		a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
		a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
		a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
		a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
	}
	a0 = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
	return _mm256_cvtss_f32(a0);
}
#endif

static float
ReadAllScalar(const float *p, size_t n)
{
	float		s = 0;

	for (size_t i = 0; i < n; i += 16)
		s += p[i];				/* one load per cache line */
	return s;
}

static void
BenchSeqRead(float *buf, size_t n)
{
	double		t[RUNS];

	for (int r = 0; r < RUNS; r++)
	{
		double		t0 = Now();

#if defined(__x86_64__)
		sink = vx_kernels_supported(&vx_kernels_avx2) ? ReadAllAvx2(buf, n) : ReadAllScalar(buf, n);
#else
		sink = ReadAllScalar(buf, n);
#endif
		t[r] = Now() - t0;
	}
	printf("{\"what\":\"seqread\",\"gbs\":%.2f}\n", n * sizeof(float) / Median(t, RUNS) / 1e9);
}

static void
BenchL2(const VxKernels *k, int dim, float *buf, size_t bufn, const float *q)
{
	double		t[RUNS];
	size_t		ncache = CACHE_BYTES / (sizeof(float) * dim);
	size_t		nmem = bufn / dim;
	int			reps = (int) (20000000 / ((double) ncache * dim) + 1);

	/* cache-resident: ncache vectors, repeated */
	for (int r = 0; r < RUNS; r++)
	{
		double		t0 = Now();
		float		s = 0;

		for (int rep = 0; rep < reps; rep++)
			for (size_t i = 0; i < ncache; i++)
				s += k->l2_squared(q, buf + i * dim, dim);
		sink = s;
		t[r] = (Now() - t0) / ((double) reps * ncache);
	}
	{
		double		ns = Median(t, RUNS);

		printf("{\"what\":\"l2\",\"variant\":\"%s\",\"dim\":%d,\"resident\":\"cache\",\"ns\":%.2f,\"gbs\":%.2f}\n",
			   k->name, dim, ns * 1e9, dim * sizeof(float) / ns / 1e9);
	}
	/* memory-resident: one pass over the whole buffer */
	for (int r = 0; r < RUNS; r++)
	{
		double		t0 = Now();
		float		s = 0;

		for (size_t i = 0; i < nmem; i++)
			s += k->l2_squared(q, buf + i * dim, dim);
		sink = s;
		t[r] = (Now() - t0) / nmem;
	}
	{
		double		ns = Median(t, RUNS);

		printf("{\"what\":\"l2\",\"variant\":\"%s\",\"dim\":%d,\"resident\":\"memory\",\"ns\":%.2f,\"gbs\":%.2f}\n",
			   k->name, dim, ns * 1e9, dim * sizeof(float) / ns / 1e9);
	}
	fflush(stdout);
}

static void
BenchPq(const VxKernels *k, int m, int count)
{
	double		t[RUNS];
	float	   *lut = malloc(sizeof(float) * m * 256);
	uint8_t    *lut8 = malloc(m * 256);
	uint8_t    *codes = malloc((size_t) count * m);
	uint8_t    *blocks = malloc((size_t) (count / VX_PQ4_BLOCK + 1) * m * 64);
	float	   *out = malloc(sizeof(float) * count);
	uint16_t   *out16 = malloc(sizeof(uint16_t) * (count + VX_PQ4_BLOCK));

	for (int i = 0; i < m * 256; i++)
		lut[i] = (float) (rand() % 1000);
	for (int i = 0; i < m * 256; i++)
		lut8[i] = (uint8_t) rand();
	for (size_t i = 0; i < (size_t) count * m; i++)
		codes[i] = (uint8_t) rand();

	for (int r = 0; r < RUNS; r++)
	{
		double		t0 = Now();

		k->pq8_scan(lut, m, codes, count, out);
		t[r] = Now() - t0;
	}
	printf("{\"what\":\"pq\",\"variant\":\"%s\",\"m\":%d,\"nbits\":8,\"lut\":\"float\",\"codes_per_s\":%.0f}\n",
		   k->name, m, count / Median(t, RUNS));

	vx_pq8_pack(codes, count, m, blocks);
	for (int r = 0; r < RUNS; r++)
	{
		double		t0 = Now();

		k->pq8_fast_scan(lut8, m, blocks, count / VX_PQ8_BLOCK, out16);
		t[r] = Now() - t0;
	}
	printf("{\"what\":\"pq\",\"variant\":\"%s\",\"m\":%d,\"nbits\":8,\"lut\":\"uint8\",\"codes_per_s\":%.0f}\n",
		   k->name, m, (count / VX_PQ8_BLOCK) * VX_PQ8_BLOCK / Median(t, RUNS));

	for (size_t i = 0; i < (size_t) count * m; i++)
		codes[i] &= 15;
	vx_pq4_pack(codes, count, m, blocks);
	for (int r = 0; r < RUNS; r++)
	{
		double		t0 = Now();

		k->pq4_scan(lut8, m, blocks, count / VX_PQ4_BLOCK, out16);
		t[r] = Now() - t0;
	}
	printf("{\"what\":\"pq\",\"variant\":\"%s\",\"m\":%d,\"nbits\":4,\"lut\":\"uint8\",\"codes_per_s\":%.0f}\n",
		   k->name, m, (count / VX_PQ4_BLOCK) * VX_PQ4_BLOCK / Median(t, RUNS));
	fflush(stdout);
	free(lut);
	free(lut8);
	free(codes);
	free(blocks);
	free(out);
	free(out16);
}

int
main(int argc, char **argv)
{
	static const int dims[] = {96, 128, 768, 1536, 3072};
	static const int ms[] = {8, 16, 64};
	size_t		bufn = MEMORY_BYTES / sizeof(float);
	float	   *buf = aligned_alloc(64, MEMORY_BYTES);
	float	   *q = aligned_alloc(64, sizeof(float) * 4096);
	const char *only = argc > 1 ? argv[1] : NULL;

	for (size_t i = 0; i < bufn; i++)
		buf[i] = (float) ((i * 2654435761u) % 1000) / 1000.0f;
	for (int i = 0; i < 4096; i++)
		q[i] = (float) i / 4096.0f;

	BenchSeqRead(buf, bufn);
	for (int vi = 0; vx_kernels_all[vi]; vi++)
	{
		const VxKernels *k = vx_kernels_all[vi];

		if (!vx_kernels_supported(k) || (only && strcmp(only, k->name) != 0))
			continue;
		for (int d = 0; d < (int) (sizeof(dims) / sizeof(dims[0])); d++)
			BenchL2(k, dims[d], buf, bufn, q);
		for (int mi = 0; mi < (int) (sizeof(ms) / sizeof(ms[0])); mi++)
			BenchPq(k, ms[mi], 1 << 20);
	}
	BenchSeqRead(buf, bufn);
	free(buf);
	free(q);
	return 0;
}

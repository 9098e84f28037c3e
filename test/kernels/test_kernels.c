/*
 * test/kernels/test_kernels.c: every distance-kernel variant this CPU can
 * run, checked against exact (double) sums and against the scalar reference
 * on random and adversarial inputs.  Built and run by `make check-kernels`
 * (part of scripts/vx-test); links src/distance*.c without a server.
 *
 * Checks, per variant:
 *  - float32 L2^2, inner product, L1, cosine parts and the batch forms, for
 *    every dimension 1..300 and 768, 1536, 2000, 4096, magnitudes 1e-30 ..
 *    1e30, zero vectors, and cancellation-heavy inputs: within
 *    VX_KERNEL_TOL(n) * sum|terms| of the exact sum and of the scalar result
 *    (both non-finite where the terms overflow float);
 *  - float16 L2^2 and inner product the same way, plus binary16 conversion
 *    against the CPU's F16C for all 65536 halves and tricky floats;
 *  - uint8 SQ kernels; 8-bit PQ ADC (float, within tolerance); 4-bit and
 *    8-bit fast scan (integers, exactly equal), code packing and LUT
 *    quantization.
 * Prints which variants ran and which were skipped; exits 1 on any failure.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "distance.h"
#include "floatparse.h"

static int	failures;
static long checks;

/* deterministic xorshift so that every run tests the same inputs */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
Next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double
Uniform(void)					/* [-1, 1) */
{
	return (double) (Next() >> 11) / (double) (1ULL << 52) - 1.0;
}

static void
Fail(const char *variant, const char *what, int n, double got, double want, double tol)
{
	if (failures < 30)
		fprintf(stderr, "FAIL %s %s n=%d: got %.9g want %.9g (tol %.3g)\n",
				variant, what, n, got, want, tol);
	failures++;
}

/* got agrees with the exact sum, given the sum of absolute terms */
static void
Check(const char *variant, const char *what, int n, double got, double exact, double absterms)
{
	checks++;
	if (absterms > FLT_MAX * 0.5)
	{
		/* terms near or beyond float's range: overflow is allowed, and required past it */
		if (absterms > FLT_MAX * 2 && isfinite(got))
			Fail(variant, what, n, got, exact, INFINITY);
		return;
	}
	{
		double		tol = VX_KERNEL_TOL(n) * absterms + 1e-37 * n;

		if (!(fabs(got - exact) <= tol))
			Fail(variant, what, n, got, exact, tol);
	}
}

static const int dims_extra[] = {768, 1536, 2000, 4096};

typedef enum
{
	FILL_RANDOM, FILL_ZERO, FILL_CANCEL, FILL_SPIKY
} FillKind;

static void
Fill(float *a, float *b, int n, double mag, FillKind kind)
{
	for (int i = 0; i < n; i++)
	{
		switch (kind)
		{
			case FILL_ZERO:
				a[i] = 0;
				b[i] = (float) (Uniform() * mag);
				break;
			case FILL_CANCEL:
				/* a.b = sum of +-a[i]^2 cancels; half the elements nearly equal for L2 */
				a[i] = (float) (Uniform() * mag);
				b[i] = (i % 2 ? -1 : 1) * a[i] + (float) (Uniform() * mag * 1e-6);
				break;
			case FILL_SPIKY:
				/* a few huge elements among tiny ones */
				a[i] = (float) (Uniform() * mag * ((Next() % 17) == 0 ? 1.0 : 1e-12));
				b[i] = (float) (Uniform() * mag * ((Next() % 13) == 0 ? 1.0 : 1e-12));
				break;
			default:
				a[i] = (float) (Uniform() * mag);
				b[i] = (float) (Uniform() * mag);
		}
	}
}

static void
TestFloat(const VxKernels *k, int n, double mag, FillKind kind, float *a, float *b)
{
	double		l2 = 0,
				l2abs = 0,
				ip = 0,
				ipabs = 0,
				l1 = 0,
				na = 0,
				nb = 0;
	float		dot,
				fa,
				fb;

	Fill(a, b, n, mag, kind);
	for (int i = 0; i < n; i++)
	{
		double		d = (double) a[i] - b[i];

		l2 += d * d;
		ip += (double) a[i] * b[i];
		ipabs += fabs((double) a[i] * b[i]);
		l1 += fabs(d);
		na += (double) a[i] * a[i];
		nb += (double) b[i] * b[i];
	}
	l2abs = l2;
	/* a[i] - b[i] is rounded to float before squaring: allow for that */
	l2abs += 4 * sqrt(l2) * sqrt(na + nb) * 6e-8;

	Check(k->name, "l2_squared", n, k->l2_squared(a, b, n), l2, l2abs);
	Check(k->name, "inner_product", n, k->dot(a, b, n), ip, ipabs);
	Check(k->name, "l1", n, k->l1(a, b, n), l1, l1 + 2 * (sqrt(na) + sqrt(nb)) * n * 6e-8);
	k->cosine_parts(a, b, n, &dot, &fa, &fb);
	Check(k->name, "cosine dot", n, dot, ip, ipabs);
	Check(k->name, "cosine |a|^2", n, fa, na, na);
	Check(k->name, "cosine |b|^2", n, fb, nb, nb);

	/* against the scalar reference: both within tolerance, so within twice it */
	if (k != &vx_kernels_scalar && l2abs < FLT_MAX * 0.5 && ipabs < FLT_MAX * 0.5)
	{
		Check(k->name, "l2_squared vs scalar", n, k->l2_squared(a, b, n),
			  vx_kernels_scalar.l2_squared(a, b, n), 2 * l2abs);
		Check(k->name, "inner_product vs scalar", n, k->dot(a, b, n),
			  vx_kernels_scalar.dot(a, b, n), 2 * ipabs);
	}
}

static void
TestBatch(const VxKernels *k, int n)
{
	enum
	{
		COUNT = 37
	};
	float	   *data = malloc(sizeof(float) * (size_t) n * (COUNT + 1));
	const float *vecs[COUNT];
	float		out[COUNT];
	float	   *q = data + (size_t) n * COUNT;

	for (size_t i = 0; i < (size_t) n * (COUNT + 1); i++)
		data[i] = (float) Uniform();
	for (int i = 0; i < COUNT; i++)
		vecs[i] = data + (size_t) ((i * 7) % COUNT) * n;	/* not in memory order */
	k->l2_squared_batch(q, vecs, COUNT, n, out);
	for (int i = 0; i < COUNT; i++)
	{
		checks++;
		if (out[i] != k->l2_squared(q, vecs[i], n))
			Fail(k->name, "l2_squared_batch", n, out[i], k->l2_squared(q, vecs[i], n), 0);
	}
	k->inner_product_batch(q, vecs, COUNT, n, out);
	for (int i = 0; i < COUNT; i++)
	{
		checks++;
		if (out[i] != k->dot(q, vecs[i], n))
			Fail(k->name, "inner_product_batch", n, out[i], k->dot(q, vecs[i], n), 0);
	}
	free(data);
}

/*
 * The whole-array conversions of the halfvec type against the scalar
 * reference, bit for bit: random halves (every class but NaN) one way,
 * random floats (including overflow and subnormal results) the other, and
 * nothing written past n.
 */
static void
TestF16Arrays(const VxKernels *k, int n)
{
	uint16_t	h[4096 + 1],
				hout[4096 + 1];
	float		f[4096 + 1],
				fout[4096 + 1];

	for (int i = 0; i < n; i++)
	{
		uint32_t	bits;

		do
			h[i] = (uint16_t) Next();
		while ((h[i] & 0x7c00) == 0x7c00 && (h[i] & 0x3ff) != 0);	/* NaN */
		do
		{
			bits = (uint32_t) Next();
			/* half the time near half's range, where rounding and overflow are */
			if (Next() % 2)
				bits = (bits & 0x807fffff) | ((uint32_t) (100 + Next() % 45) << 23);
			memcpy(&f[i], &bits, sizeof(float));
		} while (isnan(f[i]));
	}
	fout[n] = 12345.0f;
	hout[n] = 0xbeef;
	k->f16_to_f32(h, fout, n);
	k->f32_to_f16(f, hout, n);
	for (int i = 0; i < n; i++)
	{
		float		want = vx_f16_to_f32(h[i]);

		checks += 2;
		if (memcmp(&fout[i], &want, sizeof(float)) != 0)
			Fail(k->name, "f16_to_f32 array", n, fout[i], want, 0);
		if (hout[i] != vx_f32_to_f16(f[i]))
			Fail(k->name, "f32_to_f16 array", n, hout[i], vx_f32_to_f16(f[i]), 0);
	}
	checks++;
	if (fout[n] != 12345.0f || hout[n] != 0xbeef)
		Fail(k->name, "f16 arrays write past n", n, 0, 0, 0);
}

static void
TestF16(const VxKernels *k, int n, double mag, float *q, uint16_t *x)
{
	double		l2 = 0,
				ip = 0,
				ipabs = 0,
				nq = 0,
				nx = 0;

	for (int i = 0; i < n; i++)
	{
		q[i] = (float) (Uniform() * mag);
		x[i] = vx_f32_to_f16((float) (Uniform() * mag));
	}
	for (int i = 0; i < n; i++)
	{
		double		xf = vx_f16_to_f32(x[i]);
		double		d = q[i] - xf;

		l2 += d * d;
		ip += q[i] * xf;
		ipabs += fabs(q[i] * xf);
		nq += (double) q[i] * q[i];
		nx += xf * xf;
	}
	Check(k->name, "l2_squared_f16", n, k->l2_squared_f16(q, x, n), l2,
		  l2 + 4 * sqrt(l2) * sqrt(nq + nx) * 6e-8);
	Check(k->name, "inner_product_f16", n, k->inner_product_f16(q, x, n), ip, ipabs);
}

static void
TestSq8(const VxKernels *k, int n, float *qs, float *w, uint8_t *codes)
{
	double		l2 = 0,
				ip = 0,
				ipabs = 0;

	for (int i = 0; i < n; i++)
	{
		qs[i] = (float) (Uniform() * 300);
		w[i] = (float) fabs(Uniform()) + 0.01f;
		codes[i] = (uint8_t) (Next() & 255);
	}
	for (int i = 0; i < n; i++)
	{
		double		d = (double) qs[i] - codes[i];

		l2 += w[i] * d * d;
		ip += (double) qs[i] * codes[i];
		ipabs += fabs((double) qs[i] * codes[i]);
	}
	Check(k->name, "sq8_l2", n, k->sq8_l2(qs, w, codes, n), l2, 2 * l2);
	Check(k->name, "sq8_ip", n, k->sq8_ip(qs, codes, n), ip, ipabs);

	/*
	 * per-vector affine codes: x = lo + step * c.  Decoding x rounds once
	 * (fused or not), an error of up to 2^-24 |x| per term on top of the
	 * summation's, so the scale covers sum |x| too.
	 */
	{
		float		lo = (float) (Uniform() * 50),
					step = (float) fabs(Uniform()) + 0.001f;
		double		l1 = 0,
					xabs = 0;

		for (int i = 0; i < n; i++)
		{
			double		x = (double) lo + (double) step * codes[i];

			l1 += fabs(qs[i] - x);
			xabs += fabs(x);
		}
		Check(k->name, "sq8v_l1", n, k->sq8v_l1(qs, codes, n, lo, step), l1, l1 + 2 * xabs);
	}

	/* integer dot product of two code vectors: exact (codes against themselves reversed) */
	{
		uint8_t    *other = malloc(n + 1);
		uint64_t	got[3],
					dot = 0,
					sa = 0,
					sb = 0;

		for (int i = 0; i < n; i++)
		{
			other[i] = (uint8_t) (i % 3 == 0 ? 255 : codes[n - 1 - i]);
			dot += (uint64_t) codes[i] * other[i];
			sa += codes[i];
			sb += other[i];
		}
		k->u8_dot(codes, other, n, got);
		Check(k->name, "u8_dot", n, (double) got[0], (double) dot, 0);
		Check(k->name, "u8_dot sum a", n, (double) got[1], (double) sa, 0);
		Check(k->name, "u8_dot sum b", n, (double) got[2], (double) sb, 0);
		free(other);
	}
}

/*
 * Popcounts of bit strings, exact against a bit-by-bit count.  The strings
 * start at an odd address (no kernel may assume alignment), and their
 * density varies (all zero, sparse, half, dense, all one).
 */
static void
TestBits(const VxKernels *k, int n)
{
	uint8_t    *buf = malloc(2 * n + 2);
	uint8_t    *x = buf + 1,
			   *y = buf + n + 2;

	for (int density = 0; density <= 4; density++)
	{
		uint64_t	one = 0,
					xor = 0,
					and = 0;

		for (int i = 0; i < n; i++)
		{
			x[i] = y[i] = 0;
			for (int bit = 0; bit < 8; bit++)
			{
				uint64_t	r = Next();

				if (density == 4 || (density > 0 && (int) (r % 8) < density * density / 2 + 1))
					x[i] |= (uint8_t) (1 << bit);
				if (density == 4 || (density > 0 && (int) ((r >> 8) % 8) < density * 2))
					y[i] |= (uint8_t) (1 << bit);
			}
			for (int bit = 0; bit < 8; bit++)
			{
				int			xb = (x[i] >> bit) & 1,
							yb = (y[i] >> bit) & 1;

				one += xb;
				xor += xb ^ yb;
				and += xb & yb;
			}
		}
		Check(k->name, "bit_count", n, (double) k->bit_count(x, n), (double) one, 0);
		Check(k->name, "bit_xor_count", n, (double) k->bit_xor_count(x, y, n), (double) xor, 0);
		Check(k->name, "bit_and_count", n, (double) k->bit_and_count(x, y, n), (double) and, 0);
	}
	free(buf);
}

static void
TestPq8(const VxKernels *k, int m, int count)
{
	float	   *lut = malloc(sizeof(float) * m * 256);
	uint8_t    *codes = malloc((size_t) m * count + 16);
	float	   *out = malloc(sizeof(float) * count);

	for (int i = 0; i < m * 256; i++)
		lut[i] = (float) (fabs(Uniform()) * 1000);
	for (int i = 0; i < m * count; i++)
		codes[i] = (uint8_t) (Next() & 255);
	k->pq8_scan(lut, m, codes, count, out);
	for (int v = 0; v < count; v++)
	{
		double		exact = 0;

		for (int j = 0; j < m; j++)
			exact += lut[j * 256 + codes[v * m + j]];
		Check(k->name, "pq8_scan", m, out[v], exact, exact);
	}
	free(lut);
	free(codes);
	free(out);
}

static void
TestPq4(const VxKernels *k, int m, int count)
{
	int			nblocks = (count + VX_PQ4_BLOCK - 1) / VX_PQ4_BLOCK;
	uint8_t    *lut8 = malloc((size_t) m * 16);
	uint8_t    *codes = malloc((size_t) m * count);
	uint8_t    *blocks = malloc((size_t) nblocks * m * 16);
	uint16_t   *out = malloc(sizeof(uint16_t) * nblocks * VX_PQ4_BLOCK);
	uint16_t   *ref = malloc(sizeof(uint16_t) * nblocks * VX_PQ4_BLOCK);

	for (int i = 0; i < m * 16; i++)
		lut8[i] = (uint8_t) (Next() & 255);
	for (int i = 0; i < m * count; i++)
		codes[i] = (uint8_t) (Next() & 15);
	vx_pq4_pack(codes, count, m, blocks);
	k->pq4_scan(lut8, m, blocks, nblocks, out);
	vx_kernels_scalar.pq4_scan(lut8, m, blocks, nblocks, ref);
	for (int v = 0; v < count; v++)
	{
		unsigned	exact = 0;

		for (int j = 0; j < m; j++)
			exact += lut8[j * 16 + codes[v * m + j]];
		checks += 2;
		if (out[v] != exact)
			Fail(k->name, "pq4_scan", m, out[v], exact, 0);
		if (ref[v] != exact)
			Fail("scalar", "pq4_scan reference", m, ref[v], exact, 0);
	}
	free(lut8);
	free(codes);
	free(blocks);
	free(out);
	free(ref);
}

static void
TestPq8Fast(const VxKernels *k, int m, int count)
{
	int			nblocks = (count + VX_PQ8_BLOCK - 1) / VX_PQ8_BLOCK;
	uint8_t    *lut8 = malloc((size_t) m * 256);
	uint8_t    *codes = malloc((size_t) m * count);
	uint8_t    *blocks = malloc((size_t) nblocks * m * VX_PQ8_BLOCK);
	uint16_t   *out = malloc(sizeof(uint16_t) * nblocks * VX_PQ8_BLOCK);

	for (int i = 0; i < m * 256; i++)
		lut8[i] = (uint8_t) (Next() & 255);
	for (int i = 0; i < m * count; i++)
		codes[i] = (uint8_t) (Next() & 255);
	vx_pq8_pack(codes, count, m, blocks);
	k->pq8_fast_scan(lut8, m, blocks, nblocks, out);
	for (int v = 0; v < count; v++)
	{
		unsigned	exact = 0;

		for (int j = 0; j < m; j++)
			exact += lut8[j * 256 + codes[v * m + j]];
		checks++;
		if (out[v] != exact)
			Fail(k->name, "pq8_fast_scan", m, out[v], exact, 0);
	}

	/* the same blocks with a float LUT */
	{
		float	   *lut = malloc(sizeof(float) * m * 256);
		float	   *fout = malloc(sizeof(float) * nblocks * VX_PQ8_BLOCK);

		for (int i = 0; i < m * 256; i++)
			lut[i] = (float) (fabs(Uniform()) * 1000);
		k->pq8_block_scan(lut, m, blocks, nblocks, fout);
		for (int v = 0; v < count; v++)
		{
			double		exact = 0;

			for (int j = 0; j < m; j++)
				exact += lut[j * 256 + codes[v * m + j]];
			Check(k->name, "pq8_block_scan", m, fout[v], exact, exact);
		}
		free(lut);
		free(fout);
	}
	free(lut8);
	free(codes);
	free(blocks);
	free(out);
}

static void
TestLutQuantization(int ksub)
{
	int			m = 24;
	float		lut[24 * 256];
	uint8_t		lut8[24 * 256];
	float		bias,
				scale;

	for (int i = 0; i < m * ksub; i++)
		lut[i] = (float) (Uniform() * 50 + (i / ksub) * 3);
	vx_pq_quantize_lut(lut, m, ksub, lut8, &bias, &scale);
	/* every full sum is reproduced to within m/2 quantization steps */
	for (int t = 0; t < 1000; t++)
	{
		double		exact = 0;
		unsigned	q = 0;

		for (int j = 0; j < m; j++)
		{
			int			c = Next() % ksub;

			exact += lut[j * ksub + c];
			q += lut8[j * ksub + c];
		}
		checks++;
		if (fabs(bias + scale * q - exact) > scale * (m / 2.0 + 0.01))
			Fail("scalar", "LUT quantization", ksub, bias + scale * q, exact, scale * m / 2.0);
	}
}

/*
 * A LUT with NaN and infinite entries (a distance that overflowed, or an
 * IVF-PQ index's codebooks read from a corrupt page) must quantize without
 * undefined behaviour, a NaN entry to 0.
 * Under UBSan (make check-kernels-asan) a cast of NaN to uint8_t fails
 * this test; test/fuzz/corpus/fuzz_ivfpq/nan-lut is the index page that
 * found it.
 */
static void
TestLutNonFinite(void)
{
	int			m = 3,
				ksub = 16;
	float		lut[3 * 16];
	uint8_t		lut8[3 * 16];
	float		bias,
				scale;

	for (int i = 0; i < m * ksub; i++)
		lut[i] = (float) (i % 7);
	lut[0] = NAN;
	lut[5] = NAN;
	lut[ksub + 3] = INFINITY;
	lut[2 * ksub] = NAN;
	lut[2 * ksub + 1] = -INFINITY;
	vx_pq_quantize_lut(lut, m, ksub, lut8, &bias, &scale);
	checks++;
	if (lut8[0] != 0 || lut8[5] != 0 || lut8[2 * ksub] != 0)
		Fail("scalar", "LUT quantization of NaN entries", ksub, lut8[5], 0, 0);
}

/*
 * VxParseFloat must give strtof's float, end pointer and range error for
 * every input; random decimals of every length and exponent, printed
 * floats, midpoints, and odd syntax.
 */
static void
CheckParse(const char *s)
{
	char	   *e1,
			   *e2;
	bool		range,
				r1;
	float		a,
				b;

	errno = 0;
	a = strtof(s, &e1);
	r1 = errno == ERANGE && isinf(a);

	b = VxParseFloat(s, &e2, &range);
	checks++;
	if (e1 != e2 || r1 != range || (memcmp(&a, &b, sizeof(float)) != 0 && !(isnan(a) && isnan(b))))
	{
		if (failures < 30)
			fprintf(stderr, "FAIL VxParseFloat(\"%s\"): %.9g end+%d range %d, strtof %.9g end+%d range %d\n",
					s, b, (int) (e2 - s), range, a, (int) (e1 - s), r1);
		failures++;
	}
}

static void
TestParse(void)
{
	static const char *odd[] = {"0", "-0", "+0", "00012", ".5", "5.", ".", "-.", "1e", "1e+", "1e-5x",
		"1E3", "0x1p3", "-0X10", "inf", "-Infinity", "nan", "1e39", "-1e39", "3.4028235e38",
		"3.40282357e38", "3.4028236e38", "1e-38", "1.17549435e-38", "1e-45", "1e-46", "7e-46",
		"16777217", "16777216.5", "0.000000000000000000000001", "123456789012345678901234567890",
		"1.00000005960464477539062500000001", "1.000000059604644775390625", "9007199254740993",
		"0.1", "0.2", "0.3", "2.5e-3", "-7.0", "12.0", "255", "1e22", "1e23", "1e-22", "1e-23", ""};
	char		buf[96];

	for (int i = 0; i < (int) (sizeof(odd) / sizeof(odd[0])); i++)
		CheckParse(odd[i]);
	for (int i = 0; i < 400000; i++)
	{
		int			kind = i % 4;

		if (kind == 0)
		{
			/* a float printed with 6..17 significant digits */
			uint32_t	bits = (uint32_t) Next();
			float		f;

			memcpy(&f, &bits, sizeof(f));
			if (isnan(f))
				continue;
			snprintf(buf, sizeof(buf), "%.*g", 6 + (int) (Next() % 12), f);
		}
		else if (kind == 1)
		{
			/* random decimal: up to 22 digits, a point somewhere, an exponent */
			int			nd = 1 + (int) (Next() % 22);
			int			pt = (int) (Next() % (nd + 1));
			int			n = 0;

			if (Next() % 2)
				buf[n++] = '-';
			for (int d = 0; d < nd; d++)
			{
				if (d == pt)
					buf[n++] = '.';
				buf[n++] = (char) ('0' + Next() % 10);
			}
			if (Next() % 2)
				n += snprintf(buf + n, sizeof(buf) - n, "e%d", (int) (Next() % 100) - 50);
			buf[n] = 0;
		}
		else if (kind == 2)
		{
			/* exact float midpoints and their neighbours, in decimal */
			uint32_t	bits = (uint32_t) (Next() & 0x7f7fffff);
			float		lo,
						hi;
			double		mid;

			memcpy(&lo, &bits, sizeof(lo));
			bits++;
			memcpy(&hi, &bits, sizeof(hi));
			mid = ((double) lo + (double) hi) / 2;
			snprintf(buf, sizeof(buf), "%.*g", 15 + (int) (Next() % 6), mid);
		}
		else
		{
			/* short integers and short decimals, the common case */
			snprintf(buf, sizeof(buf), "%d.%0*d", (int) (Next() % 100000) - 50000,
					 (int) (Next() % 8), (int) (Next() % 10000000));
		}
		CheckParse(buf);
	}
}

#if defined(__x86_64__)
__attribute__((target("f16c"))) static uint16_t
HwF32ToF16(float f)
{
	return (uint16_t) _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0);
}

__attribute__((target("f16c"))) static float
HwF16ToF32(uint16_t h)
{
	return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

static void
TestF16Conversion(void)
{
	static const float tricky[] = {0.0f, -0.0f, 1.0f, 65504.0f, 65519.99f, 65520.0f, 1e10f,
		5.960464477539063e-08f, 2.98e-08f, 2.9802322387695312e-08f, 1e-10f, 6.097555e-05f,
		6.1035156e-05f, 1.0009765625f, 1.00048828125f, 1.00146484375f, 3.0517578125e-05f};

	for (unsigned h = 0; h < 65536; h++)
	{
		float		sw = vx_f16_to_f32((uint16_t) h),
					hw = HwF16ToF32((uint16_t) h);

		checks++;
		if (memcmp(&sw, &hw, sizeof(float)) != 0 && !(isnan(sw) && isnan(hw)))
			Fail("scalar", "f16_to_f32 vs F16C", (int) h, sw, hw, 0);
	}
	for (int i = 0; i < 200000 + (int) (sizeof(tricky) / sizeof(tricky[0])); i++)
	{
		float		f;

		if (i < (int) (sizeof(tricky) / sizeof(tricky[0])))
			f = tricky[i];
		else
		{
			uint32_t	bits = (uint32_t) Next();

			memcpy(&f, &bits, sizeof(f));
			if (isnan(f))
				continue;
		}
		checks++;
		if (vx_f32_to_f16(f) != HwF32ToF16(f))
			Fail("scalar", "f32_to_f16 vs F16C", i, vx_f32_to_f16(f), HwF32ToF16(f), 0);
	}
}
#endif

int
main(void)
{
	static const double mags[] = {1e-30, 1e-15, 1e-5, 1, 1e5, 1e15, 1e30};
	static const int pq_m[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 32, 48, 56, 64, 96, 112};
	float	   *a = malloc(sizeof(float) * 4096);
	float	   *b = malloc(sizeof(float) * 4096);
	uint16_t   *h = malloc(sizeof(uint16_t) * 4096);
	uint8_t    *c = malloc(4096);
	char		ran[256] = "",
				skipped[256] = "";

	for (int vi = 0; vx_kernels_all[vi]; vi++)
	{
		const VxKernels *k = vx_kernels_all[vi];
		int			before = failures;

		if (!vx_kernels_supported(k))
		{
			strcat(skipped, " ");
			strcat(skipped, k->name);
			continue;
		}
		for (int n = 1; n <= 300 + 4; n++)
		{
			int			dim = n <= 300 ? n : dims_extra[n - 301];

			for (int mi = 0; mi < (int) (sizeof(mags) / sizeof(mags[0])); mi++)
				for (int kind = FILL_RANDOM; kind <= FILL_SPIKY; kind++)
					TestFloat(k, dim, mags[mi], (FillKind) kind, a, b);
			TestF16(k, dim, 1.0, a, h);
			TestF16(k, dim, 1000.0, a, h);
			TestF16Arrays(k, dim);
			TestSq8(k, dim, a, b, c);
			TestBits(k, dim);
			if (dim % 7 == 0 || dim > 300)
				TestBatch(k, dim);
		}
		for (int mi = 0; mi < (int) (sizeof(pq_m) / sizeof(pq_m[0])); mi++)
		{
			for (int count = 1; count <= 40; count++)
				TestPq8(k, pq_m[mi], count);
			TestPq8(k, pq_m[mi], 1000);
			for (int count = 1; count <= 70; count += 3)
				TestPq4(k, pq_m[mi], count);
			TestPq4(k, pq_m[mi], 1000);
			for (int count = 1; count <= 140; count += 7)
				TestPq8Fast(k, pq_m[mi], count);
			TestPq8Fast(k, pq_m[mi], 1000);
		}
		printf("variant %-7s %s\n", k->name, failures == before ? "ok" : "FAILED");
		strcat(ran, " ");
		strcat(ran, k->name);
	}
	TestParse();
	TestLutQuantization(16);
	TestLutQuantization(256);
	TestLutNonFinite();
#if defined(__x86_64__)
	if (vx_kernels_supported(&vx_kernels_avx2))
		TestF16Conversion();
	else
		strcat(skipped, " f16-conversion-vs-F16C");
#endif
	printf("kernel tests: %ld checks, %d failures; variants run:%s; skipped (CPU lacks them):%s\n",
		   checks, failures, ran, skipped[0] ? skipped : " none");
	free(a);
	free(b);
	free(h);
	free(c);
	return failures ? 1 : 0;
}

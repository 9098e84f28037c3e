/*-------------------------------------------------------------------------
 *
 * distance_avx2.c
 *	  The AVX2 + FMA + F16C kernel variant (x86-64 from Haswell / Zen 1).
 *
 * Every function carries its own target attribute (VX_AVX2) instead of a
 * global -march, so this file compiles into a library that still loads on
 * a CPU without AVX2; vx_kernels_init() only selects this table when
 * CPUID and XGETBV say the CPU and OS support it.  See distance.h for the
 * contract of each kernel.
 *
 *-------------------------------------------------------------------------
 */
#if defined(__x86_64__)

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "distance.h"

#define VX_AVX2 __attribute__((target("avx2,fma,f16c")))

static inline VX_AVX2 float
HorizontalSum(__m256 v)
{
	__m128		s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* lanes 0..r-1 set, for masked loads of a tail of r < 8 floats */
static inline VX_AVX2 __m256i
TailMask(int r)
{
	return _mm256_cmpgt_epi32(_mm256_set1_epi32(r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static VX_AVX2 float
L2SquaredAvx2(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps(),
				s2 = _mm256_setzero_ps(),
				s3 = _mm256_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
		__m256		d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
		__m256		d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
		s2 = _mm256_fmadd_ps(d2, d2, s2);
		s3 = _mm256_fmadd_ps(d3, d3, s3);
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));

		s0 = _mm256_fmadd_ps(d, d, s0);
	}
	if (i < n)
	{
		__m256i		mask = TailMask(n - i);
		__m256		d = _mm256_sub_ps(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask));

		s1 = _mm256_fmadd_ps(d, d, s1);
	}
	return HorizontalSum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

static VX_AVX2 float
InnerProductAvx2(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps(),
				s2 = _mm256_setzero_ps(),
				s3 = _mm256_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
		s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
		s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
	if (i < n)
	{
		__m256i		mask = TailMask(n - i);

		s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask), s1);
	}
	return HorizontalSum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

static VX_AVX2 float
L1Avx2(const float *a, const float *b, int n)
{
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		s0 = _mm256_add_ps(s0, _mm256_and_ps(absmask, _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))));
		s1 = _mm256_add_ps(s1, _mm256_and_ps(absmask, _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8))));
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_add_ps(s0, _mm256_and_ps(absmask, _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i))));
	if (i < n)
	{
		__m256i		mask = TailMask(n - i);

		s1 = _mm256_add_ps(s1, _mm256_and_ps(absmask, _mm256_sub_ps(_mm256_maskload_ps(a + i, mask),
																	 _mm256_maskload_ps(b + i, mask))));
	}
	return HorizontalSum(_mm256_add_ps(s0, s1));
}

static VX_AVX2 void
CosinePartsAvx2(const float *a, const float *b, int n, float *dot, float *norm_a, float *norm_b)
{
	__m256		sd = _mm256_setzero_ps(),
				sa = _mm256_setzero_ps(),
				sb = _mm256_setzero_ps();
	int			i = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256		x = _mm256_loadu_ps(a + i);
		__m256		y = _mm256_loadu_ps(b + i);

		sd = _mm256_fmadd_ps(x, y, sd);
		sa = _mm256_fmadd_ps(x, x, sa);
		sb = _mm256_fmadd_ps(y, y, sb);
	}
	if (i < n)
	{
		__m256i		mask = TailMask(n - i);
		__m256		x = _mm256_maskload_ps(a + i, mask);
		__m256		y = _mm256_maskload_ps(b + i, mask);

		sd = _mm256_fmadd_ps(x, y, sd);
		sa = _mm256_fmadd_ps(x, x, sa);
		sb = _mm256_fmadd_ps(y, y, sb);
	}
	*dot = HorizontalSum(sd);
	*norm_a = HorizontalSum(sa);
	*norm_b = HorizontalSum(sb);
}

/* prefetch the first cache lines of the vector two ahead */
#define PREFETCH_AHEAD(vecs, i, count, n) \
	do { \
		if ((i) + 2 < (count)) \
		{ \
			const char *p_ = (const char *) (vecs)[(i) + 2]; \
			for (int l_ = 0; l_ < 4 && l_ * 64 < (n) * 4; l_++) \
				_mm_prefetch(p_ + l_ * 64, _MM_HINT_T0); \
		} \
	} while (0)

static VX_AVX2 void
L2SquaredBatchAvx2(const float *q, const float *const *vecs, int count, int n, float *out)
{
	for (int i = 0; i < count; i++)
	{
		PREFETCH_AHEAD(vecs, i, count, n);
		out[i] = L2SquaredAvx2(q, vecs[i], n);
	}
}

static VX_AVX2 void
InnerProductBatchAvx2(const float *q, const float *const *vecs, int count, int n, float *out)
{
	for (int i = 0; i < count; i++)
	{
		PREFETCH_AHEAD(vecs, i, count, n);
		out[i] = InnerProductAvx2(q, vecs[i], n);
	}
}

/* ---- float16 ---- */

static VX_AVX2 float
L2SquaredF16Avx2(const float *q, const uint16_t *x, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(q + i),
									   _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (x + i))));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(q + i + 8),
									   _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (x + i + 8))));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d = _mm256_sub_ps(_mm256_loadu_ps(q + i),
									  _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (x + i))));

		s0 = _mm256_fmadd_ps(d, d, s0);
	}
	{
		float		tail = 0.0f;

		for (; i < n; i++)
		{
			float		d = q[i] - vx_f16_to_f32(x[i]);

			tail += d * d;
		}
		return HorizontalSum(_mm256_add_ps(s0, s1)) + tail;
	}
}

static VX_AVX2 float
InnerProductF16Avx2(const float *q, const uint16_t *x, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		tail = 0.0f;

	for (; i + 16 <= n; i += 16)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i),
							 _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (x + i))), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8),
							 _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (x + i + 8))), s1);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i),
							 _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (x + i))), s0);
	for (; i < n; i++)
		tail += q[i] * vx_f16_to_f32(x[i]);
	return HorizontalSum(_mm256_add_ps(s0, s1)) + tail;
}

/* F16C: eight elements per instruction; round to nearest even */
static VX_AVX2 void
F16ToF32Avx2(const uint16_t *x, float *out, int n)
{
	int			i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (x + i))));
	for (; i < n; i++)
		out[i] = vx_f16_to_f32(x[i]);
}

static VX_AVX2 void
F32ToF16Avx2(const float *x, uint16_t *out, int n)
{
	int			i = 0;

	for (; i + 8 <= n; i += 8)
		_mm_storeu_si128((__m128i *) (out + i),
						 _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	for (; i < n; i++)
		out[i] = vx_f32_to_f16(x[i]);
}

/* ---- uint8 scalar quantization ---- */

static inline VX_AVX2 __m256
LoadCodes8(const uint8_t *c)
{
	return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *) c)));
}

static VX_AVX2 float
Sq8L2Avx2(const float *qs, const float *w, const uint8_t *codes, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		tail = 0.0f;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(qs + i), LoadCodes8(codes + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(qs + i + 8), LoadCodes8(codes + i + 8));

		s0 = _mm256_fmadd_ps(_mm256_mul_ps(d0, d0), _mm256_loadu_ps(w + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_mul_ps(d1, d1), _mm256_loadu_ps(w + i + 8), s1);
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		d = _mm256_sub_ps(_mm256_loadu_ps(qs + i), LoadCodes8(codes + i));

		s0 = _mm256_fmadd_ps(_mm256_mul_ps(d, d), _mm256_loadu_ps(w + i), s0);
	}
	for (; i < n; i++)
	{
		float		d = qs[i] - (float) codes[i];

		tail += w[i] * d * d;
	}
	return HorizontalSum(_mm256_add_ps(s0, s1)) + tail;
}

static VX_AVX2 float
Sq8IpAvx2(const float *qs, const uint8_t *codes, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		tail = 0.0f;

	for (; i + 16 <= n; i += 16)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(qs + i), LoadCodes8(codes + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(qs + i + 8), LoadCodes8(codes + i + 8), s1);
	}
	for (; i + 8 <= n; i += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(qs + i), LoadCodes8(codes + i), s0);
	for (; i < n; i++)
		tail += qs[i] * (float) codes[i];
	return HorizontalSum(_mm256_add_ps(s0, s1)) + tail;
}

static VX_AVX2 float
Sq8vL1Avx2(const float *q, const uint8_t *codes, int n, float lo, float step)
{
	const __m256 vlo = _mm256_set1_ps(lo);
	const __m256 vstep = _mm256_set1_ps(step);
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		tail = 0.0f;

	for (; i + 16 <= n; i += 16)
	{
		__m256		x0 = _mm256_fmadd_ps(LoadCodes8(codes + i), vstep, vlo);
		__m256		x1 = _mm256_fmadd_ps(LoadCodes8(codes + i + 8), vstep, vlo);

		s0 = _mm256_add_ps(s0, _mm256_and_ps(_mm256_sub_ps(_mm256_loadu_ps(q + i), x0), absmask));
		s1 = _mm256_add_ps(s1, _mm256_and_ps(_mm256_sub_ps(_mm256_loadu_ps(q + i + 8), x1), absmask));
	}
	for (; i + 8 <= n; i += 8)
	{
		__m256		x0 = _mm256_fmadd_ps(LoadCodes8(codes + i), vstep, vlo);

		s0 = _mm256_add_ps(s0, _mm256_and_ps(_mm256_sub_ps(_mm256_loadu_ps(q + i), x0), absmask));
	}
	for (; i < n; i++)
		tail += fabsf(q[i] - (lo + step * (float) codes[i]));
	return HorizontalSum(_mm256_add_ps(s0, s1)) + tail;
}

/*
 * Bytes widened to 16 bits (unpack with zero, the same lanes for a and b)
 * and multiplied pairwise into 32-bit sums (PMADDWD: at most 2 * 255^2 per
 * lane and step, so n <= 2^24 cannot overflow); PSADBW sums the bytes.
 */
static VX_AVX2 void
U8DotAvx2(const uint8_t *a, const uint8_t *b, int n, uint64_t out[3])
{
	const __m256i zero = _mm256_setzero_si256();
	__m256i		dot = zero,
				sa = zero,
				sb = zero;
	uint32_t	lanes[8];
	uint64_t	sums[4];
	uint64_t	d = 0,
				ta = 0,
				tb = 0;
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m256i		va = _mm256_loadu_si256((const __m256i *) (a + i));
		__m256i		vb = _mm256_loadu_si256((const __m256i *) (b + i));

		sa = _mm256_add_epi64(sa, _mm256_sad_epu8(va, zero));
		sb = _mm256_add_epi64(sb, _mm256_sad_epu8(vb, zero));
		dot = _mm256_add_epi32(dot, _mm256_madd_epi16(_mm256_unpacklo_epi8(va, zero),
													  _mm256_unpacklo_epi8(vb, zero)));
		dot = _mm256_add_epi32(dot, _mm256_madd_epi16(_mm256_unpackhi_epi8(va, zero),
													  _mm256_unpackhi_epi8(vb, zero)));
	}
	_mm256_storeu_si256((__m256i *) lanes, dot);
	for (int l = 0; l < 8; l++)
		d += lanes[l];
	_mm256_storeu_si256((__m256i *) sums, sa);
	ta = sums[0] + sums[1] + sums[2] + sums[3];
	_mm256_storeu_si256((__m256i *) sums, sb);
	tb = sums[0] + sums[1] + sums[2] + sums[3];
	for (; i < n; i++)
	{
		d += (uint32_t) a[i] * b[i];
		ta += a[i];
		tb += b[i];
	}
	out[0] = d;
	out[1] = ta;
	out[2] = tb;
}

/* ---- product quantization ---- */

/*
 * 4-bit fast scan: the 16-entry LUTs of two sub-quantizers sit in the two
 * 128-bit lanes of a register and PSHUFB looks up 32 sub-codes at once.
 * uint8 results are widened into uint16 sums: even bytes (vectors 0, 2,
 * ...) by masking, odd bytes by shifting.
 */
static VX_AVX2 void
Pq4ScanAvx2(const uint8_t *lut8, int m, const uint8_t *blocks, int nblocks, uint16_t *out)
{
	const __m256i low4 = _mm256_set1_epi8(0x0f);
	const __m256i low8 = _mm256_set1_epi16(0x00ff);

	for (int b = 0; b < nblocks; b++)
	{
		const uint8_t *blk = blocks + (size_t) b * m * 16;
		__m256i		lo_even = _mm256_setzero_si256(),
					lo_odd = _mm256_setzero_si256(),
					hi_even = _mm256_setzero_si256(),
					hi_odd = _mm256_setzero_si256();
		__m128i		e,
					o;
		int			j = 0;

		for (; j + 2 <= m; j += 2)
		{
			__m256i		c = _mm256_loadu_si256((const __m256i *) (blk + j * 16));
			__m256i		t = _mm256_loadu_si256((const __m256i *) (lut8 + j * 16));
			__m256i		rl = _mm256_shuffle_epi8(t, _mm256_and_si256(c, low4));
			__m256i		rh = _mm256_shuffle_epi8(t, _mm256_and_si256(_mm256_srli_epi16(c, 4), low4));

			lo_even = _mm256_add_epi16(lo_even, _mm256_and_si256(rl, low8));
			lo_odd = _mm256_add_epi16(lo_odd, _mm256_srli_epi16(rl, 8));
			hi_even = _mm256_add_epi16(hi_even, _mm256_and_si256(rh, low8));
			hi_odd = _mm256_add_epi16(hi_odd, _mm256_srli_epi16(rh, 8));
		}
		if (j < m)
		{
			/* odd m: the last sub-quantizer in the low lane, zeros above */
			__m256i		c = _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *) (blk + j * 16)));
			__m256i		t = _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *) (lut8 + j * 16)));
			__m256i		rl = _mm256_shuffle_epi8(t, _mm256_and_si256(c, low4));
			__m256i		rh = _mm256_shuffle_epi8(t, _mm256_and_si256(_mm256_srli_epi16(c, 4), low4));

			lo_even = _mm256_add_epi16(lo_even, _mm256_and_si256(rl, low8));
			lo_odd = _mm256_add_epi16(lo_odd, _mm256_srli_epi16(rl, 8));
			hi_even = _mm256_add_epi16(hi_even, _mm256_and_si256(rh, low8));
			hi_odd = _mm256_add_epi16(hi_odd, _mm256_srli_epi16(rh, 8));
		}
		/* add the two lanes, then interleave even and odd vectors */
		e = _mm_add_epi16(_mm256_castsi256_si128(lo_even), _mm256_extracti128_si256(lo_even, 1));
		o = _mm_add_epi16(_mm256_castsi256_si128(lo_odd), _mm256_extracti128_si256(lo_odd, 1));
		_mm_storeu_si128((__m128i *) (out + b * 32), _mm_unpacklo_epi16(e, o));
		_mm_storeu_si128((__m128i *) (out + b * 32 + 8), _mm_unpackhi_epi16(e, o));
		e = _mm_add_epi16(_mm256_castsi256_si128(hi_even), _mm256_extracti128_si256(hi_even, 1));
		o = _mm_add_epi16(_mm256_castsi256_si128(hi_odd), _mm256_extracti128_si256(hi_odd, 1));
		_mm_storeu_si128((__m128i *) (out + b * 32 + 16), _mm_unpacklo_epi16(e, o));
		_mm_storeu_si128((__m128i *) (out + b * 32 + 24), _mm_unpackhi_epi16(e, o));
	}
}

/* ---- bit strings: the POPCNT instruction, four words a step ---- */

#define VX_POPCNT __attribute__((target("popcnt")))

enum
{
	BIT_ONE, BIT_XOR, BIT_AND
};

static inline VX_POPCNT uint64_t
PopWords(const uint8_t *a, const uint8_t *b, int i, int len, int op)
{
	uint64_t	x = 0,
				y = 0;

	memcpy(&x, a + i, len);
	if (op != BIT_ONE)
		memcpy(&y, b + i, len);
	return (uint64_t) _mm_popcnt_u64(op == BIT_XOR ? x ^ y : op == BIT_AND ? x & y : x);
}

static inline VX_POPCNT uint64_t
BitOpCountPopcnt(const uint8_t *a, const uint8_t *b, int n, int op)
{
	uint64_t	c0 = 0,
				c1 = 0,
				c2 = 0,
				c3 = 0;
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		c0 += PopWords(a, b, i, 8, op);
		c1 += PopWords(a, b, i + 8, 8, op);
		c2 += PopWords(a, b, i + 16, 8, op);
		c3 += PopWords(a, b, i + 24, 8, op);
	}
	for (; i + 8 <= n; i += 8)
		c0 += PopWords(a, b, i, 8, op);
	if (i < n)
		c1 += PopWords(a, b, i, n - i, op);
	return c0 + c1 + c2 + c3;
}

static VX_POPCNT uint64_t
BitCountAvx2(const uint8_t *a, int n)
{
	return BitOpCountPopcnt(a, NULL, n, BIT_ONE);
}

static VX_POPCNT uint64_t
BitXorCountAvx2(const uint8_t *a, const uint8_t *b, int n)
{
	return BitOpCountPopcnt(a, b, n, BIT_XOR);
}

static VX_POPCNT uint64_t
BitAndCountAvx2(const uint8_t *a, const uint8_t *b, int n)
{
	return BitOpCountPopcnt(a, b, n, BIT_AND);
}

const VxKernels vx_kernels_avx2 = {
	.name = "avx2",
	.l2_squared = L2SquaredAvx2,
	.dot = InnerProductAvx2,
	.l1 = L1Avx2,
	.cosine_parts = CosinePartsAvx2,
	.l2_squared_batch = L2SquaredBatchAvx2,
	.inner_product_batch = InnerProductBatchAvx2,
	.l2_squared_f16 = L2SquaredF16Avx2,
	.inner_product_f16 = InnerProductF16Avx2,
	.f16_to_f32 = F16ToF32Avx2,
	.f32_to_f16 = F32ToF16Avx2,
	.sq8_l2 = Sq8L2Avx2,
	.sq8_ip = Sq8IpAvx2,
	.sq8v_l1 = Sq8vL1Avx2,
	.u8_dot = U8DotAvx2,
	.bit_count = BitCountAvx2,
	.bit_xor_count = BitXorCountAvx2,
	.bit_and_count = BitAndCountAvx2,
	.pq8_scan = vx_pq8_scan_unrolled,
	.pq4_scan = Pq4ScanAvx2,
	.pq8_fast_scan = vx_pq8_fast_scan_scalar,
	.pq8_block_scan = vx_pq8_block_scan_unrolled,
};

#endif							/* __x86_64__ */

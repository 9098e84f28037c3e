/*-------------------------------------------------------------------------
 *
 * distance_avx512.c
 *	  The AVX-512 kernel variant (F, DQ, BW, VL: Skylake-SP, Ice Lake,
 *	  Zen 4 and later).
 *
 * Same rules as distance_avx2.c: per-function target attributes (VX_AVX512),
 * selected at run time only.  Tails shorter than a register use masked
 * loads, so no scalar clean-up loop changes the summation order.
 *
 *-------------------------------------------------------------------------
 */
#if defined(__x86_64__)

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "distance.h"

#define VX_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,f16c")))

static inline VX_AVX512 __mmask16
Tail16(int r)
{
	return (__mmask16) ((1u << r) - 1);
}

static VX_AVX512 float
L2SquaredAvx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps(),
				s2 = _mm512_setzero_ps(),
				s3 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 64 <= n; i += 64)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
		__m512		d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
		__m512		d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
		s1 = _mm512_fmadd_ps(d1, d1, s1);
		s2 = _mm512_fmadd_ps(d2, d2, s2);
		s3 = _mm512_fmadd_ps(d3, d3, s3);
	}
	for (; i + 16 <= n; i += 16)
	{
		__m512		d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));

		s0 = _mm512_fmadd_ps(d, d, s0);
	}
	if (i < n)
	{
		__mmask16	k = Tail16(n - i);
		__m512		d = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, a + i), _mm512_maskz_loadu_ps(k, b + i));

		s1 = _mm512_fmadd_ps(d, d, s1);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

static VX_AVX512 float
InnerProductAvx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps(),
				s2 = _mm512_setzero_ps(),
				s3 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 64 <= n; i += 64)
	{
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
		s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
		s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
	}
	for (; i + 16 <= n; i += 16)
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
	if (i < n)
	{
		__mmask16	k = Tail16(n - i);

		s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, a + i), _mm512_maskz_loadu_ps(k, b + i), s1);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

static VX_AVX512 float
L1Avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
		s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16))));
	}
	for (; i + 16 <= n; i += 16)
		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
	if (i < n)
	{
		__mmask16	k = Tail16(n - i);

		s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, a + i),
														   _mm512_maskz_loadu_ps(k, b + i))));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static VX_AVX512 void
CosinePartsAvx512(const float *a, const float *b, int n, float *dot, float *norm_a, float *norm_b)
{
	__m512		sd = _mm512_setzero_ps(),
				sa = _mm512_setzero_ps(),
				sb = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m512		x = _mm512_loadu_ps(a + i);
		__m512		y = _mm512_loadu_ps(b + i);

		sd = _mm512_fmadd_ps(x, y, sd);
		sa = _mm512_fmadd_ps(x, x, sa);
		sb = _mm512_fmadd_ps(y, y, sb);
	}
	if (i < n)
	{
		__mmask16	k = Tail16(n - i);
		__m512		x = _mm512_maskz_loadu_ps(k, a + i);
		__m512		y = _mm512_maskz_loadu_ps(k, b + i);

		sd = _mm512_fmadd_ps(x, y, sd);
		sa = _mm512_fmadd_ps(x, x, sa);
		sb = _mm512_fmadd_ps(y, y, sb);
	}
	*dot = _mm512_reduce_add_ps(sd);
	*norm_a = _mm512_reduce_add_ps(sa);
	*norm_b = _mm512_reduce_add_ps(sb);
}

#define PREFETCH_AHEAD(vecs, i, count, n) \
	do { \
		if ((i) + 2 < (count)) \
		{ \
			const char *p_ = (const char *) (vecs)[(i) + 2]; \
			for (int l_ = 0; l_ < 4 && l_ * 64 < (n) * 4; l_++) \
				_mm_prefetch(p_ + l_ * 64, _MM_HINT_T0); \
		} \
	} while (0)

static VX_AVX512 void
L2SquaredBatchAvx512(const float *q, const float *const *vecs, int count, int n, float *out)
{
	for (int i = 0; i < count; i++)
	{
		PREFETCH_AHEAD(vecs, i, count, n);
		out[i] = L2SquaredAvx512(q, vecs[i], n);
	}
}

static VX_AVX512 void
InnerProductBatchAvx512(const float *q, const float *const *vecs, int count, int n, float *out)
{
	for (int i = 0; i < count; i++)
	{
		PREFETCH_AHEAD(vecs, i, count, n);
		out[i] = InnerProductAvx512(q, vecs[i], n);
	}
}

/* ---- float16 ---- */

static inline VX_AVX512 __m512
LoadHalf16(const uint16_t *x)
{
	return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) x));
}

static inline VX_AVX512 __m512
LoadHalfTail(const uint16_t *x, int r)
{
	return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(Tail16(r), x));
}

static VX_AVX512 float
L2SquaredF16Avx512(const float *q, const uint16_t *x, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(q + i), LoadHalf16(x + i));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(q + i + 16), LoadHalf16(x + i + 16));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
		s1 = _mm512_fmadd_ps(d1, d1, s1);
	}
	for (; i + 16 <= n; i += 16)
	{
		__m512		d = _mm512_sub_ps(_mm512_loadu_ps(q + i), LoadHalf16(x + i));

		s0 = _mm512_fmadd_ps(d, d, s0);
	}
	if (i < n)
	{
		__m512		d = _mm512_sub_ps(_mm512_maskz_loadu_ps(Tail16(n - i), q + i), LoadHalfTail(x + i, n - i));

		s1 = _mm512_fmadd_ps(d, d, s1);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static VX_AVX512 float
InnerProductF16Avx512(const float *q, const uint16_t *x, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), LoadHalf16(x + i), s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), LoadHalf16(x + i + 16), s1);
	}
	for (; i + 16 <= n; i += 16)
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), LoadHalf16(x + i), s0);
	if (i < n)
		s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(Tail16(n - i), q + i), LoadHalfTail(x + i, n - i), s1);
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/* halfvec's element arrays: sixteen per instruction, masked tails */
static VX_AVX512 void
F16ToF32Avx512(const uint16_t *x, float *out, int n)
{
	int			i = 0;

	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (x + i))));
	if (i < n)
	{
		__mmask16	m = (__mmask16) ((1u << (n - i)) - 1);

		_mm512_mask_storeu_ps(out + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, x + i)));
	}
}

static VX_AVX512 void
F32ToF16Avx512(const float *x, uint16_t *out, int n)
{
	int			i = 0;

	for (; i + 16 <= n; i += 16)
		_mm256_storeu_si256((__m256i *) (out + i),
							_mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	if (i < n)
	{
		__mmask16	m = (__mmask16) ((1u << (n - i)) - 1);

		_mm256_mask_storeu_epi16(out + i, m,
								 _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	}
}

/* ---- uint8 scalar quantization ---- */

static inline VX_AVX512 __m512
LoadCodes16(const uint8_t *c)
{
	return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) c)));
}

static inline VX_AVX512 __m512
LoadCodesTail(const uint8_t *c, int r)
{
	return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(Tail16(r), c)));
}

static VX_AVX512 float
Sq8L2Avx512(const float *qs, const float *w, const uint8_t *codes, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(qs + i), LoadCodes16(codes + i));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(qs + i + 16), LoadCodes16(codes + i + 16));

		s0 = _mm512_fmadd_ps(_mm512_mul_ps(d0, d0), _mm512_loadu_ps(w + i), s0);
		s1 = _mm512_fmadd_ps(_mm512_mul_ps(d1, d1), _mm512_loadu_ps(w + i + 16), s1);
	}
	for (; i + 16 <= n; i += 16)
	{
		__m512		d = _mm512_sub_ps(_mm512_loadu_ps(qs + i), LoadCodes16(codes + i));

		s0 = _mm512_fmadd_ps(_mm512_mul_ps(d, d), _mm512_loadu_ps(w + i), s0);
	}
	if (i < n)
	{
		__mmask16	k = Tail16(n - i);
		__m512		d = _mm512_sub_ps(_mm512_maskz_loadu_ps(k, qs + i), LoadCodesTail(codes + i, n - i));

		s1 = _mm512_fmadd_ps(_mm512_mul_ps(d, d), _mm512_maskz_loadu_ps(k, w + i), s1);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static VX_AVX512 float
Sq8IpAvx512(const float *qs, const uint8_t *codes, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(qs + i), LoadCodes16(codes + i), s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(qs + i + 16), LoadCodes16(codes + i + 16), s1);
	}
	for (; i + 16 <= n; i += 16)
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(qs + i), LoadCodes16(codes + i), s0);
	if (i < n)
		s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(Tail16(n - i), qs + i), LoadCodesTail(codes + i, n - i), s1);
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static VX_AVX512 float
Sq8vL1Avx512(const float *q, const uint8_t *codes, int n, float lo, float step)
{
	const __m512 vlo = _mm512_set1_ps(lo);
	const __m512 vstep = _mm512_set1_ps(step);
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		x0 = _mm512_fmadd_ps(LoadCodes16(codes + i), vstep, vlo);
		__m512		x1 = _mm512_fmadd_ps(LoadCodes16(codes + i + 16), vstep, vlo);

		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(q + i), x0)));
		s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(q + i + 16), x1)));
	}
	for (; i + 16 <= n; i += 16)
	{
		__m512		x0 = _mm512_fmadd_ps(LoadCodes16(codes + i), vstep, vlo);

		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(q + i), x0)));
	}
	if (i < n)
	{
		__mmask16	k = Tail16(n - i);
		__m512		x0 = _mm512_fmadd_ps(LoadCodesTail(codes + i, n - i), vstep, vlo);

		s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, q + i), x0)));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/* as U8DotAvx2, 64 bytes a step (AVX-512 BW) */
static VX_AVX512 void
U8DotAvx512(const uint8_t *a, const uint8_t *b, int n, uint64_t out[3])
{
	const __m512i zero = _mm512_setzero_si512();
	__m512i		dot = zero,
				sa = zero,
				sb = zero;
	uint64_t	d,
				ta,
				tb;
	int			i = 0;

	for (; i + 64 <= n; i += 64)
	{
		__m512i		va = _mm512_loadu_si512((const void *) (a + i));
		__m512i		vb = _mm512_loadu_si512((const void *) (b + i));

		sa = _mm512_add_epi64(sa, _mm512_sad_epu8(va, zero));
		sb = _mm512_add_epi64(sb, _mm512_sad_epu8(vb, zero));
		dot = _mm512_add_epi32(dot, _mm512_madd_epi16(_mm512_unpacklo_epi8(va, zero),
													  _mm512_unpacklo_epi8(vb, zero)));
		dot = _mm512_add_epi32(dot, _mm512_madd_epi16(_mm512_unpackhi_epi8(va, zero),
													  _mm512_unpackhi_epi8(vb, zero)));
	}
	d = (uint64_t) (uint32_t) _mm512_reduce_add_epi32(dot);
	ta = (uint64_t) _mm512_reduce_add_epi64(sa);
	tb = (uint64_t) _mm512_reduce_add_epi64(sb);
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
 * 8-bit fast scan with AVX-512 VBMI: a sub-quantizer's 256-entry uint8 LUT
 * fills four registers; VPERMI2B looks 64 codes up in each 128-byte half
 * and bit 7 of the code picks the half.  Sums widen to uint16 as in the
 * 4-bit kernel (even/odd bytes).  CPUs with AVX-512 but without VBMI
 * (Skylake-SP, Cascade Lake) take the scalar kernel.
 */
#define VX_AVX512VBMI __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx512vbmi")))

static VX_AVX512VBMI void
Pq8FastScanVbmi(const uint8_t *lut8, int m, const uint8_t *blocks, int nblocks, uint16_t *out)
{
	const __m512i low8 = _mm512_set1_epi16(0x00ff);

	for (int b = 0; b < nblocks; b++)
	{
		const uint8_t *blk = blocks + (size_t) b * m * VX_PQ8_BLOCK;
		__m512i		even = _mm512_setzero_si512(),
					odd = _mm512_setzero_si512(),
					lo,
					hi;

		for (int j = 0; j < m; j++)
		{
			const uint8_t *t = lut8 + j * 256;
			__m512i		c = _mm512_loadu_si512(blk + j * VX_PQ8_BLOCK);
			__m512i		r01 = _mm512_permutex2var_epi8(_mm512_loadu_si512(t), c, _mm512_loadu_si512(t + 64));
			__m512i		r23 = _mm512_permutex2var_epi8(_mm512_loadu_si512(t + 128), c, _mm512_loadu_si512(t + 192));
			__m512i		r = _mm512_mask_blend_epi8(_mm512_movepi8_mask(c), r01, r23);

			even = _mm512_add_epi16(even, _mm512_and_si512(r, low8));
			odd = _mm512_add_epi16(odd, _mm512_srli_epi16(r, 8));
		}
		/* per 128-bit lane L: vectors 16L..16L+7 in lo, 16L+8..16L+15 in hi */
		lo = _mm512_unpacklo_epi16(even, odd);
		hi = _mm512_unpackhi_epi16(even, odd);
		for (int l = 0; l < 4; l++)
		{
			uint16_t   *o = out + b * VX_PQ8_BLOCK + 16 * l;

			_mm_storeu_si128((__m128i *) o, _mm512_extracti32x4_epi32(lo, 0));
			_mm_storeu_si128((__m128i *) (o + 8), _mm512_extracti32x4_epi32(hi, 0));
			lo = _mm512_alignr_epi32(lo, lo, 4);
			hi = _mm512_alignr_epi32(hi, hi, 4);
		}
	}
}

static int	has_vbmi = -1;

int
vx_avx512_has_vbmi(void)
{
	if (has_vbmi < 0)
		has_vbmi = __builtin_cpu_supports("avx512vbmi");
	return has_vbmi;
}

static VX_AVX512 void
Pq8FastScanAvx512(const uint8_t *lut8, int m, const uint8_t *blocks, int nblocks, uint16_t *out)
{
	if (vx_avx512_has_vbmi())
		Pq8FastScanVbmi(lut8, m, blocks, nblocks, out);
	else
		vx_pq8_fast_scan_scalar(lut8, m, blocks, nblocks, out);
}

/*
 * 4-bit fast scan with four sub-quantizers per 512-bit register (one
 * 16-entry LUT per 128-bit lane); the tail of m not divisible by 4 is
 * zero-padded with masked loads.  See Pq4ScanAvx2 for the widening trick.
 */
static VX_AVX512 void
Pq4ScanAvx512(const uint8_t *lut8, int m, const uint8_t *blocks, int nblocks, uint16_t *out)
{
	const __m512i low4 = _mm512_set1_epi8(0x0f);
	const __m512i low8 = _mm512_set1_epi16(0x00ff);
	int			mfull = m & ~3;
	__mmask64	tailmask = (m & 3) ? (~0ULL >> (64 - 16 * (m & 3))) : 0;
	__m512i		ttail = _mm512_maskz_loadu_epi8(tailmask, lut8 + mfull * 16);

	for (int b = 0; b < nblocks; b++)
	{
		const uint8_t *blk = blocks + (size_t) b * m * 16;
		__m512i		lo_even = _mm512_setzero_si512(),
					lo_odd = _mm512_setzero_si512(),
					hi_even = _mm512_setzero_si512(),
					hi_odd = _mm512_setzero_si512();
		__m256i		e2,
					o2;
		__m128i		e,
					o;

#define PQ4_STEP(c, t) \
		do { \
			__m512i rl = _mm512_shuffle_epi8((t), _mm512_and_si512((c), low4)); \
			__m512i rh = _mm512_shuffle_epi8((t), _mm512_and_si512(_mm512_srli_epi16((c), 4), low4)); \
			lo_even = _mm512_add_epi16(lo_even, _mm512_and_si512(rl, low8)); \
			lo_odd = _mm512_add_epi16(lo_odd, _mm512_srli_epi16(rl, 8)); \
			hi_even = _mm512_add_epi16(hi_even, _mm512_and_si512(rh, low8)); \
			hi_odd = _mm512_add_epi16(hi_odd, _mm512_srli_epi16(rh, 8)); \
		} while (0)

		for (int j = 0; j < mfull; j += 4)
			PQ4_STEP(_mm512_loadu_si512(blk + j * 16), _mm512_loadu_si512(lut8 + j * 16));
		if (tailmask)
			PQ4_STEP(_mm512_maskz_loadu_epi8(tailmask, blk + mfull * 16), ttail);
#undef PQ4_STEP

		/* add the four lanes, then interleave even and odd vectors */
		e2 = _mm256_add_epi16(_mm512_castsi512_si256(lo_even), _mm512_extracti64x4_epi64(lo_even, 1));
		o2 = _mm256_add_epi16(_mm512_castsi512_si256(lo_odd), _mm512_extracti64x4_epi64(lo_odd, 1));
		e = _mm_add_epi16(_mm256_castsi256_si128(e2), _mm256_extracti128_si256(e2, 1));
		o = _mm_add_epi16(_mm256_castsi256_si128(o2), _mm256_extracti128_si256(o2, 1));
		_mm_storeu_si128((__m128i *) (out + b * 32), _mm_unpacklo_epi16(e, o));
		_mm_storeu_si128((__m128i *) (out + b * 32 + 8), _mm_unpackhi_epi16(e, o));
		e2 = _mm256_add_epi16(_mm512_castsi512_si256(hi_even), _mm512_extracti64x4_epi64(hi_even, 1));
		o2 = _mm256_add_epi16(_mm512_castsi512_si256(hi_odd), _mm512_extracti64x4_epi64(hi_odd, 1));
		e = _mm_add_epi16(_mm256_castsi256_si128(e2), _mm256_extracti128_si256(e2, 1));
		o = _mm_add_epi16(_mm256_castsi256_si128(o2), _mm256_extracti128_si256(o2, 1));
		_mm_storeu_si128((__m128i *) (out + b * 32 + 16), _mm_unpacklo_epi16(e, o));
		_mm_storeu_si128((__m128i *) (out + b * 32 + 24), _mm_unpackhi_epi16(e, o));
	}
}

/*
 * ---- bit strings: 64 bytes a step, each byte's count from two nibble
 * lookups (vpshufb), summed into eight 64-bit lanes (vpsadbw); the tail
 * through a masked load (zero bytes count nothing) ----
 */

enum
{
	BIT_ONE, BIT_XOR, BIT_AND
};

static inline VX_AVX512 __m512i
PopBytesSum(__m512i v)
{
	const __m512i lut = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3,
															 1, 2, 2, 3, 2, 3, 3, 4));
	const __m512i low = _mm512_set1_epi8(0x0F);
	__m512i		lo = _mm512_and_si512(v, low);
	__m512i		hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
	__m512i		c = _mm512_add_epi8(_mm512_shuffle_epi8(lut, lo), _mm512_shuffle_epi8(lut, hi));

	return _mm512_sad_epu8(c, _mm512_setzero_si512());
}

static inline VX_AVX512 __m512i
BitCombine512(__m512i x, __m512i y, int op)
{
	return op == BIT_XOR ? _mm512_xor_si512(x, y) : op == BIT_AND ? _mm512_and_si512(x, y) : x;
}

static inline VX_AVX512 uint64_t
BitOpCountAvx512(const uint8_t *a, const uint8_t *b, int n, int op)
{
	__m512i		acc = _mm512_setzero_si512();
	int			i = 0;

	for (; i + 64 <= n; i += 64)
	{
		__m512i		x = _mm512_loadu_si512(a + i);
		__m512i		y = op == BIT_ONE ? x : _mm512_loadu_si512(b + i);

		acc = _mm512_add_epi64(acc, PopBytesSum(BitCombine512(x, y, op)));
	}
	if (i < n)
	{
		__mmask64	m = (~(__mmask64) 0) >> (64 - (n - i));
		__m512i		x = _mm512_maskz_loadu_epi8(m, a + i);
		__m512i		y = op == BIT_ONE ? x : _mm512_maskz_loadu_epi8(m, b + i);

		acc = _mm512_add_epi64(acc, PopBytesSum(BitCombine512(x, y, op)));
	}
	return (uint64_t) _mm512_reduce_add_epi64(acc);
}

static VX_AVX512 uint64_t
BitCountAvx512(const uint8_t *a, int n)
{
	return BitOpCountAvx512(a, NULL, n, BIT_ONE);
}

static VX_AVX512 uint64_t
BitXorCountAvx512(const uint8_t *a, const uint8_t *b, int n)
{
	return BitOpCountAvx512(a, b, n, BIT_XOR);
}

static VX_AVX512 uint64_t
BitAndCountAvx512(const uint8_t *a, const uint8_t *b, int n)
{
	return BitOpCountAvx512(a, b, n, BIT_AND);
}

const VxKernels vx_kernels_avx512 = {
	.name = "avx512",
	.l2_squared = L2SquaredAvx512,
	.dot = InnerProductAvx512,
	.l1 = L1Avx512,
	.cosine_parts = CosinePartsAvx512,
	.l2_squared_batch = L2SquaredBatchAvx512,
	.inner_product_batch = InnerProductBatchAvx512,
	.l2_squared_f16 = L2SquaredF16Avx512,
	.inner_product_f16 = InnerProductF16Avx512,
	.f16_to_f32 = F16ToF32Avx512,
	.f32_to_f16 = F32ToF16Avx512,
	.sq8_l2 = Sq8L2Avx512,
	.sq8_ip = Sq8IpAvx512,
	.sq8v_l1 = Sq8vL1Avx512,
	.u8_dot = U8DotAvx512,
	.bit_count = BitCountAvx512,
	.bit_xor_count = BitXorCountAvx512,
	.bit_and_count = BitAndCountAvx512,
	.pq8_scan = vx_pq8_scan_unrolled,
	.pq4_scan = Pq4ScanAvx512,
	.pq8_fast_scan = Pq8FastScanAvx512,
	.pq8_block_scan = vx_pq8_block_scan_unrolled,
};

#endif							/* __x86_64__ */

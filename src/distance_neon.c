/*-------------------------------------------------------------------------
 *
 * distance_neon.c
 *	  The NEON kernel variant for arm64 (Advanced SIMD is mandatory there,
 *	  so this table is always usable when the file is compiled at all).
 *
 * Same contract as the x86 variants (distance.h).  On x86-64 this file
 * compiles to nothing.
 *
 *-------------------------------------------------------------------------
 */
#if defined(__aarch64__)

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "distance.h"

static float
L2SquaredNeon(const float *a, const float *b, int n)
{
	float32x4_t s0 = vdupq_n_f32(0),
				s1 = vdupq_n_f32(0),
				s2 = vdupq_n_f32(0),
				s3 = vdupq_n_f32(0);
	int			i = 0;
	float		tail = 0;

	for (; i + 16 <= n; i += 16)
	{
		float32x4_t d0 = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
		float32x4_t d1 = vsubq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
		float32x4_t d2 = vsubq_f32(vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
		float32x4_t d3 = vsubq_f32(vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));

		s0 = vfmaq_f32(s0, d0, d0);
		s1 = vfmaq_f32(s1, d1, d1);
		s2 = vfmaq_f32(s2, d2, d2);
		s3 = vfmaq_f32(s3, d3, d3);
	}
	for (; i + 4 <= n; i += 4)
	{
		float32x4_t d = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));

		s0 = vfmaq_f32(s0, d, d);
	}
	for (; i < n; i++)
	{
		float		d = a[i] - b[i];

		tail += d * d;
	}
	return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))) + tail;
}

static float
InnerProductNeon(const float *a, const float *b, int n)
{
	float32x4_t s0 = vdupq_n_f32(0),
				s1 = vdupq_n_f32(0),
				s2 = vdupq_n_f32(0),
				s3 = vdupq_n_f32(0);
	int			i = 0;
	float		tail = 0;

	for (; i + 16 <= n; i += 16)
	{
		s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
		s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
		s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
		s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
	}
	for (; i + 4 <= n; i += 4)
		s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
	for (; i < n; i++)
		tail += a[i] * b[i];
	return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))) + tail;
}

static float
L1Neon(const float *a, const float *b, int n)
{
	float32x4_t s0 = vdupq_n_f32(0),
				s1 = vdupq_n_f32(0);
	int			i = 0;
	float		tail = 0;

	for (; i + 8 <= n; i += 8)
	{
		s0 = vaddq_f32(s0, vabdq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
		s1 = vaddq_f32(s1, vabdq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4)));
	}
	for (; i + 4 <= n; i += 4)
		s0 = vaddq_f32(s0, vabdq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
	for (; i < n; i++)
		tail += a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
	return vaddvq_f32(vaddq_f32(s0, s1)) + tail;
}

static void
CosinePartsNeon(const float *a, const float *b, int n, float *dot, float *norm_a, float *norm_b)
{
	float32x4_t sd = vdupq_n_f32(0),
				sa = vdupq_n_f32(0),
				sb = vdupq_n_f32(0);
	int			i = 0;
	float		td = 0,
				ta = 0,
				tb = 0;

	for (; i + 4 <= n; i += 4)
	{
		float32x4_t x = vld1q_f32(a + i);
		float32x4_t y = vld1q_f32(b + i);

		sd = vfmaq_f32(sd, x, y);
		sa = vfmaq_f32(sa, x, x);
		sb = vfmaq_f32(sb, y, y);
	}
	for (; i < n; i++)
	{
		td += a[i] * b[i];
		ta += a[i] * a[i];
		tb += b[i] * b[i];
	}
	*dot = vaddvq_f32(sd) + td;
	*norm_a = vaddvq_f32(sa) + ta;
	*norm_b = vaddvq_f32(sb) + tb;
}

static void
L2SquaredBatchNeon(const float *q, const float *const *vecs, int count, int n, float *out)
{
	for (int i = 0; i < count; i++)
	{
		if (i + 2 < count)
			__builtin_prefetch(vecs[i + 2]);
		out[i] = L2SquaredNeon(q, vecs[i], n);
	}
}

static void
InnerProductBatchNeon(const float *q, const float *const *vecs, int count, int n, float *out)
{
	for (int i = 0; i < count; i++)
	{
		if (i + 2 < count)
			__builtin_prefetch(vecs[i + 2]);
		out[i] = InnerProductNeon(q, vecs[i], n);
	}
}

static float
L2SquaredF16Neon(const float *q, const uint16_t *x, int n)
{
	float32x4_t s = vdupq_n_f32(0);
	int			i = 0;
	float		tail = 0;

	for (; i + 4 <= n; i += 4)
	{
		float32x4_t d = vsubq_f32(vld1q_f32(q + i),
								  vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x + i))));

		s = vfmaq_f32(s, d, d);
	}
	for (; i < n; i++)
	{
		float		d = q[i] - vx_f16_to_f32(x[i]);

		tail += d * d;
	}
	return vaddvq_f32(s) + tail;
}

static float
InnerProductF16Neon(const float *q, const uint16_t *x, int n)
{
	float32x4_t s = vdupq_n_f32(0);
	int			i = 0;
	float		tail = 0;

	for (; i + 4 <= n; i += 4)
		s = vfmaq_f32(s, vld1q_f32(q + i), vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x + i))));
	for (; i < n; i++)
		tail += q[i] * vx_f16_to_f32(x[i]);
	return vaddvq_f32(s) + tail;
}

static float
Sq8L2Neon(const float *qs, const float *w, const uint8_t *codes, int n)
{
	float		sum = 0;

	for (int i = 0; i < n; i++)
	{
		float		d = qs[i] - (float) codes[i];

		sum += w[i] * d * d;
	}
	return sum;
}

static float
Sq8IpNeon(const float *qs, const uint8_t *codes, int n)
{
	float		sum = 0;

	for (int i = 0; i < n; i++)
		sum += qs[i] * (float) codes[i];
	return sum;
}

static float
Sq8vL1Neon(const float *q, const uint8_t *codes, int n, float lo, float step)
{
	float32x4_t vlo = vdupq_n_f32(lo);
	float32x4_t s0 = vdupq_n_f32(0);
	float		sum;
	int			i = 0;

	for (; i + 8 <= n; i += 8)
	{
		uint16x8_t	c16 = vmovl_u8(vld1_u8(codes + i));
		float32x4_t c0 = vcvtq_f32_u32(vmovl_u16(vget_low_u16(c16)));
		float32x4_t c1 = vcvtq_f32_u32(vmovl_u16(vget_high_u16(c16)));

		s0 = vaddq_f32(s0, vabdq_f32(vld1q_f32(q + i), vfmaq_n_f32(vlo, c0, step)));
		s0 = vaddq_f32(s0, vabdq_f32(vld1q_f32(q + i + 4), vfmaq_n_f32(vlo, c1, step)));
	}
	sum = vaddvq_f32(s0);
	for (; i < n; i++)
		sum += fabsf(q[i] - (lo + step * (float) codes[i]));
	return sum;
}

/* halfvec's element arrays: FCVTL / FCVTN, four at a time */
static void
F16ToF32Neon(const uint16_t *x, float *out, int n)
{
	int			i = 0;

	for (; i + 4 <= n; i += 4)
		vst1q_f32(out + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x + i))));
	for (; i < n; i++)
		out[i] = vx_f16_to_f32(x[i]);
}

static void
F32ToF16Neon(const float *x, uint16_t *out, int n)
{
	int			i = 0;

	for (; i + 4 <= n; i += 4)
		vst1_u16(out + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(x + i))));
	for (; i < n; i++)
		out[i] = vx_f32_to_f16(x[i]);
}

/* UMULL widens the products to 16 bits, UADALP sums them into 32 */
static void
U8DotNeon(const uint8_t *a, const uint8_t *b, int n, uint64_t out[3])
{
	uint32x4_t	dot = vdupq_n_u32(0);
	uint32x4_t	sa = vdupq_n_u32(0),
				sb = vdupq_n_u32(0);
	uint64_t	d,
				ta,
				tb;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		uint8x16_t	va = vld1q_u8(a + i);
		uint8x16_t	vb = vld1q_u8(b + i);

		dot = vpadalq_u16(dot, vmull_u8(vget_low_u8(va), vget_low_u8(vb)));
		dot = vpadalq_u16(dot, vmull_u8(vget_high_u8(va), vget_high_u8(vb)));
		sa = vpadalq_u16(sa, vpaddlq_u8(va));
		sb = vpadalq_u16(sb, vpaddlq_u8(vb));
	}
	d = vaddlvq_u32(dot);
	ta = vaddlvq_u32(sa);
	tb = vaddlvq_u32(sb);
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

/* 4-bit fast scan with TBL: one sub-quantizer's 16-entry LUT per lookup */
static void
Pq4ScanNeon(const uint8_t *lut8, int m, const uint8_t *blocks, int nblocks, uint16_t *out)
{
	for (int b = 0; b < nblocks; b++)
	{
		const uint8_t *blk = blocks + (size_t) b * m * 16;
		uint16x8_t	lo0 = vdupq_n_u16(0),
					lo1 = vdupq_n_u16(0),
					hi0 = vdupq_n_u16(0),
					hi1 = vdupq_n_u16(0);

		for (int j = 0; j < m; j++)
		{
			uint8x16_t	c = vld1q_u8(blk + j * 16);
			uint8x16_t	t = vld1q_u8(lut8 + j * 16);
			uint8x16_t	rl = vqtbl1q_u8(t, vandq_u8(c, vdupq_n_u8(15)));
			uint8x16_t	rh = vqtbl1q_u8(t, vshrq_n_u8(c, 4));

			lo0 = vaddw_u8(lo0, vget_low_u8(rl));
			lo1 = vaddw_u8(lo1, vget_high_u8(rl));
			hi0 = vaddw_u8(hi0, vget_low_u8(rh));
			hi1 = vaddw_u8(hi1, vget_high_u8(rh));
		}
		vst1q_u16(out + b * 32, lo0);
		vst1q_u16(out + b * 32 + 8, lo1);
		vst1q_u16(out + b * 32 + 16, hi0);
		vst1q_u16(out + b * 32 + 24, hi1);
	}
}

/* ---- bit strings: 16 bytes a step through vcnt, the tail bytewise ---- */

enum
{
	BIT_ONE, BIT_XOR, BIT_AND
};

static inline uint64_t
BitOpCountNeon(const uint8_t *a, const uint8_t *b, int n, int op)
{
	uint64_t	count = 0;
	int			i = 0;

	for (; i + 16 <= n; i += 16)
	{
		uint8x16_t	x = vld1q_u8(a + i);

		if (op == BIT_XOR)
			x = veorq_u8(x, vld1q_u8(b + i));
		else if (op == BIT_AND)
			x = vandq_u8(x, vld1q_u8(b + i));
		count += vaddlvq_u8(vcntq_u8(x));
	}
	for (; i < n; i++)
	{
		uint8_t		x = a[i];

		if (op == BIT_XOR)
			x ^= b[i];
		else if (op == BIT_AND)
			x &= b[i];
		count += (uint64_t) __builtin_popcount(x);
	}
	return count;
}

static uint64_t
BitCountNeon(const uint8_t *a, int n)
{
	return BitOpCountNeon(a, NULL, n, BIT_ONE);
}

static uint64_t
BitXorCountNeon(const uint8_t *a, const uint8_t *b, int n)
{
	return BitOpCountNeon(a, b, n, BIT_XOR);
}

static uint64_t
BitAndCountNeon(const uint8_t *a, const uint8_t *b, int n)
{
	return BitOpCountNeon(a, b, n, BIT_AND);
}

const VxKernels vx_kernels_neon = {
	.name = "neon",
	.l2_squared = L2SquaredNeon,
	.dot = InnerProductNeon,
	.l1 = L1Neon,
	.cosine_parts = CosinePartsNeon,
	.l2_squared_batch = L2SquaredBatchNeon,
	.inner_product_batch = InnerProductBatchNeon,
	.l2_squared_f16 = L2SquaredF16Neon,
	.inner_product_f16 = InnerProductF16Neon,
	.f16_to_f32 = F16ToF32Neon,
	.f32_to_f16 = F32ToF16Neon,
	.sq8_l2 = Sq8L2Neon,
	.sq8_ip = Sq8IpNeon,
	.sq8v_l1 = Sq8vL1Neon,
	.u8_dot = U8DotNeon,
	.bit_count = BitCountNeon,
	.bit_xor_count = BitXorCountNeon,
	.bit_and_count = BitAndCountNeon,
	.pq8_scan = vx_pq8_scan_unrolled,
	.pq4_scan = Pq4ScanNeon,
	.pq8_fast_scan = vx_pq8_fast_scan_scalar,
	.pq8_block_scan = vx_pq8_block_scan_unrolled,
};

#else							/* !__aarch64__ */

/* ISO C forbids an empty translation unit */
typedef int vx_distance_neon_unused;

#endif

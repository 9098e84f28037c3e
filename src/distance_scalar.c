/*-------------------------------------------------------------------------
 *
 * distance_scalar.c
 *	  The scalar reference kernels (the table vx_kernels_scalar) and the
 *	  scalar helpers of distance.h that every variant shares: binary16
 *	  conversion, 4-bit PQ LUT quantization, code packing, and the unrolled
 *	  PQ scans that SIMD tables use where they have no form of their own.
 *
 * The scalar kernels define "correct" for every faster variant and are the
 * baseline the SIMD speed-ups are quoted against, so they are compiled
 * without auto-vectorization.  The dispatch (which table this process
 * uses) is distance.c, above this file and the SIMD variants.  Plain C
 * only: no PostgreSQL headers (see distance.h).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "distance.h"

/* Keep the reference scalar: GCC vectorizes loops at -O2 since version 12. */
#if defined(__GNUC__) && !defined(__clang__)
#define VX_SCALAR __attribute__((optimize("no-tree-vectorize")))
#else
#define VX_SCALAR
#endif

static VX_SCALAR float
L2SquaredScalar(const float *a, const float *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
	{
		float		d = a[i] - b[i];

		sum += d * d;
	}
	return sum;
}

static VX_SCALAR float
InnerProductScalar(const float *a, const float *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += a[i] * b[i];
	return sum;
}

static VX_SCALAR float
L1Scalar(const float *a, const float *b, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += fabsf(a[i] - b[i]);
	return sum;
}

static VX_SCALAR void
CosinePartsScalar(const float *a, const float *b, int n,
				  float *dot, float *norm_a, float *norm_b)
{
	float		d = 0.0f,
				na = 0.0f,
				nb = 0.0f;

	for (int i = 0; i < n; i++)
	{
		d += a[i] * b[i];
		na += a[i] * a[i];
		nb += b[i] * b[i];
	}
	*dot = d;
	*norm_a = na;
	*norm_b = nb;
}

static VX_SCALAR void
L2SquaredBatchScalar(const float *q, const float *const *vecs, int count, int n, float *out)
{
	for (int i = 0; i < count; i++)
		out[i] = L2SquaredScalar(q, vecs[i], n);
}

static VX_SCALAR void
InnerProductBatchScalar(const float *q, const float *const *vecs, int count, int n, float *out)
{
	for (int i = 0; i < count; i++)
		out[i] = InnerProductScalar(q, vecs[i], n);
}

/* ---- binary16 ---- */

float
vx_f16_to_f32(uint16_t h)
{
	uint32_t	sign = (uint32_t) (h & 0x8000) << 16;
	uint32_t	exp = (h >> 10) & 0x1f;
	uint32_t	mant = h & 0x3ff;
	uint32_t	bits;
	float		f;

	if (exp == 0)
	{
		/* zero or subnormal: mant * 2^-24, exact in float */
		f = (float) mant * (1.0f / 16777216.0f);
		return sign ? -f : f;
	}
	if (exp == 31)
		bits = sign | 0x7f800000 | (mant << 13);	/* inf or NaN */
	else
		bits = sign | ((exp + 112) << 23) | (mant << 13);
	memcpy(&f, &bits, sizeof(f));
	return f;
}

uint16_t
vx_f32_to_f16(float f)
{
	uint32_t	bits;
	uint32_t	sign;
	uint32_t	absbits;
	int			exp;

	memcpy(&bits, &f, sizeof(bits));
	sign = (bits >> 16) & 0x8000;
	absbits = bits & 0x7fffffff;
	if (absbits >= 0x7f800000)	/* inf or NaN */
		return sign | 0x7c00 | (absbits > 0x7f800000 ? 0x200 : 0);
	if (absbits >= 0x477ff000)	/* rounds to >= 65520: overflow */
		return sign | 0x7c00;
	exp = (int) (absbits >> 23) - 127;
	if (exp < -14)
	{
		/* subnormal half: value / 2^-24, rounded to nearest even */
		float		a;
		float		scaled;
		uint32_t	r;

		memcpy(&a, &absbits, sizeof(a));
		scaled = a * 16777216.0f;
		r = (uint32_t) scaled;
		if (scaled - (float) r > 0.5f || (scaled - (float) r == 0.5f && (r & 1)))
			r++;
		return sign | r;
	}
	else
	{
		uint32_t	mant = absbits & 0x7fffff;
		uint32_t	h = ((uint32_t) (exp + 15) << 10) | (mant >> 13);
		uint32_t	rest = mant & 0x1fff;

		if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
			h++;				/* may carry into the exponent: correct */
		return sign | h;
	}
}

static VX_SCALAR float
L2SquaredF16Scalar(const float *q, const uint16_t *x, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
	{
		float		d = q[i] - vx_f16_to_f32(x[i]);

		sum += d * d;
	}
	return sum;
}

static VX_SCALAR float
InnerProductF16Scalar(const float *q, const uint16_t *x, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += q[i] * vx_f16_to_f32(x[i]);
	return sum;
}

/* halfvec's element arrays, converted as a whole (distance.h) */
static VX_SCALAR void
F16ToF32Scalar(const uint16_t *x, float *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = vx_f16_to_f32(x[i]);
}

static VX_SCALAR void
F32ToF16Scalar(const float *x, uint16_t *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = vx_f32_to_f16(x[i]);
}

/* ---- uint8 scalar quantization ---- */

static VX_SCALAR float
Sq8L2Scalar(const float *qs, const float *w, const uint8_t *codes, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
	{
		float		d = qs[i] - (float) codes[i];

		sum += w[i] * d * d;
	}
	return sum;
}

static VX_SCALAR float
Sq8IpScalar(const float *qs, const uint8_t *codes, int n)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += qs[i] * (float) codes[i];
	return sum;
}

static VX_SCALAR float
Sq8vL1Scalar(const float *q, const uint8_t *codes, int n, float lo, float step)
{
	float		sum = 0.0f;

	for (int i = 0; i < n; i++)
		sum += fabsf(q[i] - (lo + step * (float) codes[i]));
	return sum;
}

static VX_SCALAR void
U8DotScalar(const uint8_t *a, const uint8_t *b, int n, uint64_t out[3])
{
	uint64_t	dot = 0,
				sa = 0,
				sb = 0;

	for (int i = 0; i < n; i++)
	{
		dot += (uint32_t) a[i] * b[i];
		sa += a[i];
		sb += b[i];
	}
	out[0] = dot;
	out[1] = sa;
	out[2] = sb;
}

/* ---- bit strings ---- */

/* the bits set in x, by halving (no POPCNT instruction assumed) */
static inline uint64_t
Pop64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

/* bytes p[0..n), n <= 8, as one word (zero-filled: popcounts ignore order) */
static inline uint64_t
LoadBytes(const uint8_t *p, int n)
{
	uint64_t	x = 0;

	memcpy(&x, p, n);
	return x;
}

/* what a bit kernel counts */
enum
{
	BIT_ONE,					/* bits of a */
	BIT_XOR,					/* bits of a XOR b */
	BIT_AND						/* bits of a AND b */
};

static inline uint64_t
BitCombine(uint64_t x, uint64_t y, int op)
{
	return op == BIT_XOR ? x ^ y : op == BIT_AND ? x & y : x;
}

static inline uint64_t
BitOpCount(const uint8_t *a, const uint8_t *b, int n, int op)
{
	uint64_t	count = 0;
	int			i = 0;

	for (; i + 8 <= n; i += 8)
		count += Pop64(BitCombine(LoadBytes(a + i, 8), op == BIT_ONE ? 0 : LoadBytes(b + i, 8), op));
	if (i < n)
		count += Pop64(BitCombine(LoadBytes(a + i, n - i), op == BIT_ONE ? 0 : LoadBytes(b + i, n - i), op));
	return count;
}

static VX_SCALAR uint64_t
BitCountScalar(const uint8_t *a, int n)
{
	return BitOpCount(a, NULL, n, BIT_ONE);
}

static VX_SCALAR uint64_t
BitXorCountScalar(const uint8_t *a, const uint8_t *b, int n)
{
	return BitOpCount(a, b, n, BIT_XOR);
}

static VX_SCALAR uint64_t
BitAndCountScalar(const uint8_t *a, const uint8_t *b, int n)
{
	return BitOpCount(a, b, n, BIT_AND);
}

/* ---- product quantization ---- */

static VX_SCALAR void
Pq8ScanScalar(const float *lut, int m, const uint8_t *codes, int count, float *out)
{
	for (int v = 0; v < count; v++)
	{
		const uint8_t *c = codes + (size_t) v * m;
		float		sum = 0.0f;

		for (int j = 0; j < m; j++)
			sum += lut[j * 256 + c[j]];
		out[v] = sum;
	}
}

static VX_SCALAR void
Pq4ScanScalar(const uint8_t *lut8, int m, const uint8_t *blocks, int nblocks, uint16_t *out)
{
	for (int b = 0; b < nblocks; b++)
	{
		const uint8_t *blk = blocks + (size_t) b * m * 16;

		for (int i = 0; i < VX_PQ4_BLOCK; i++)
		{
			unsigned	sum = 0;

			for (int j = 0; j < m; j++)
			{
				uint8_t		byte = blk[j * 16 + (i & 15)];
				int			c = i < 16 ? (byte & 15) : (byte >> 4);

				sum += lut8[j * 16 + c];
			}
			out[b * VX_PQ4_BLOCK + i] = (uint16_t) sum;
		}
	}
}

void
vx_pq8_scan_unrolled(const float *lut, int m, const uint8_t *codes, int count, float *out)
{
	int			v = 0;
	int			m8 = m & ~7;

	for (; v + 4 <= count; v += 4)
	{
		const uint8_t *c0 = codes + (size_t) v * m;
		const uint8_t *c1 = c0 + m;
		const uint8_t *c2 = c1 + m;
		const uint8_t *c3 = c2 + m;
		/* two sums per vector (even and odd sub-quantizers): 8 chains */
		float		a0 = 0,
					a1 = 0,
					a2 = 0,
					a3 = 0,
					b0 = 0,
					b1 = 0,
					b2 = 0,
					b3 = 0;
		int			j = 0;

		for (; j < m8; j += 8)
		{
			const float *t = lut + j * 256;
			uint64_t	w0,
						w1,
						w2,
						w3;

			memcpy(&w0, c0 + j, 8);
			memcpy(&w1, c1 + j, 8);
			memcpy(&w2, c2 + j, 8);
			memcpy(&w3, c3 + j, 8);
#define PQ8_PAIR(b) \
			a0 += t[(b) * 256 + ((w0 >> (8 * (b))) & 255)]; \
			a1 += t[(b) * 256 + ((w1 >> (8 * (b))) & 255)]; \
			a2 += t[(b) * 256 + ((w2 >> (8 * (b))) & 255)]; \
			a3 += t[(b) * 256 + ((w3 >> (8 * (b))) & 255)]; \
			b0 += t[((b) + 1) * 256 + ((w0 >> (8 * (b) + 8)) & 255)]; \
			b1 += t[((b) + 1) * 256 + ((w1 >> (8 * (b) + 8)) & 255)]; \
			b2 += t[((b) + 1) * 256 + ((w2 >> (8 * (b) + 8)) & 255)]; \
			b3 += t[((b) + 1) * 256 + ((w3 >> (8 * (b) + 8)) & 255)]
			PQ8_PAIR(0);
			PQ8_PAIR(2);
			PQ8_PAIR(4);
			PQ8_PAIR(6);
#undef PQ8_PAIR
		}
		for (; j < m; j++)
		{
			const float *t = lut + j * 256;

			a0 += t[c0[j]];
			a1 += t[c1[j]];
			a2 += t[c2[j]];
			a3 += t[c3[j]];
		}
		out[v] = a0 + b0;
		out[v + 1] = a1 + b1;
		out[v + 2] = a2 + b2;
		out[v + 3] = a3 + b3;
	}
	for (; v < count; v++)
	{
		const uint8_t *c = codes + (size_t) v * m;
		float		s = 0;

		for (int j = 0; j < m; j++)
			s += lut[j * 256 + c[j]];
		out[v] = s;
	}
}

void
vx_pq_quantize_lut(const float *lut, int m, int ksub, uint8_t *lut8, float *bias, float *scale)
{
	float		maxspan = 0.0f;
	float		b = 0.0f;

	/*
	 * Plain comparisons, not fminf: no library call per entry.  A NaN entry
	 * (a distance that overflowed to inf - inf, or codebooks read from a
	 * corrupt page) fails them all: it is skipped here and quantizes to 0
	 * below, where a cast of NaN to uint8_t would be undefined.
	 */
	for (int j = 0; j < m; j++)
	{
		const float *t = lut + j * ksub;
		float		lo = t[0],
					hi = t[0];

		for (int c = 1; c < ksub; c++)
		{
			lo = t[c] < lo ? t[c] : lo;
			hi = t[c] > hi ? t[c] : hi;
		}
		maxspan = hi - lo > maxspan ? hi - lo : maxspan;
	}
	*scale = maxspan > 0.0f ? maxspan / 255.0f : 1.0f;
	for (int j = 0; j < m; j++)
	{
		const float *t = lut + j * ksub;
		float		lo = t[0];

		for (int c = 1; c < ksub; c++)
			lo = t[c] < lo ? t[c] : lo;
		b += lo;
		for (int c = 0; c < ksub; c++)
		{
			float		q = rintf((t[c] - lo) / *scale);

			lut8[j * ksub + c] = (uint8_t) (q > 0 ? (q < 255 ? q : 255) : 0);
		}
	}
	*bias = b;
}

/*
 * Float-LUT scan of fast-scan blocks: sub-quantizer by sub-quantizer, 64
 * independent sums per block, so the loads overlap (table lookups do not
 * vectorize well; see vx_pq8_scan_unrolled).
 */
void
vx_pq8_block_scan_unrolled(const float *lut, int m, const uint8_t *blocks, int nblocks, float *out)
{
	for (int b = 0; b < nblocks; b++)
	{
		const uint8_t *blk = blocks + (size_t) b * m * VX_PQ8_BLOCK;
		float	   *acc = out + (size_t) b * VX_PQ8_BLOCK;

		for (int i = 0; i < VX_PQ8_BLOCK; i++)
			acc[i] = 0.0f;
		for (int j = 0; j < m; j++)
		{
			const float *t = lut + j * 256;
			const uint8_t *row = blk + j * VX_PQ8_BLOCK;

			for (int i = 0; i < VX_PQ8_BLOCK; i += 8)
			{
				acc[i] += t[row[i]];
				acc[i + 1] += t[row[i + 1]];
				acc[i + 2] += t[row[i + 2]];
				acc[i + 3] += t[row[i + 3]];
				acc[i + 4] += t[row[i + 4]];
				acc[i + 5] += t[row[i + 5]];
				acc[i + 6] += t[row[i + 6]];
				acc[i + 7] += t[row[i + 7]];
			}
		}
	}
}


void
vx_pq8_pack(const uint8_t *codes, int count, int m, uint8_t *blocks)
{
	int			nblocks = (count + VX_PQ8_BLOCK - 1) / VX_PQ8_BLOCK;

	memset(blocks, 0, (size_t) nblocks * m * VX_PQ8_BLOCK);
	for (int v = 0; v < count; v++)
	{
		uint8_t    *blk = blocks + (size_t) (v / VX_PQ8_BLOCK) * m * VX_PQ8_BLOCK;

		for (int j = 0; j < m; j++)
			blk[j * VX_PQ8_BLOCK + v % VX_PQ8_BLOCK] = codes[(size_t) v * m + j];
	}
}

static VX_SCALAR void
Pq8FastScanScalar(const uint8_t *lut8, int m, const uint8_t *blocks, int nblocks, uint16_t *out)
{
	for (int b = 0; b < nblocks; b++)
	{
		const uint8_t *blk = blocks + (size_t) b * m * VX_PQ8_BLOCK;

		for (int i = 0; i < VX_PQ8_BLOCK; i++)
		{
			unsigned	sum = 0;

			for (int j = 0; j < m; j++)
				sum += lut8[j * 256 + blk[j * VX_PQ8_BLOCK + i]];
			out[b * VX_PQ8_BLOCK + i] = (uint16_t) sum;
		}
	}
}

void
vx_pq4_pack(const uint8_t *codes, int count, int m, uint8_t *blocks)
{
	int			nblocks = (count + VX_PQ4_BLOCK - 1) / VX_PQ4_BLOCK;

	memset(blocks, 0, (size_t) nblocks * m * 16);
	for (int v = 0; v < count; v++)
	{
		uint8_t    *blk = blocks + (size_t) (v / VX_PQ4_BLOCK) * m * 16;
		int			i = v % VX_PQ4_BLOCK;

		for (int j = 0; j < m; j++)
		{
			uint8_t		c = codes[(size_t) v * m + j] & 15;

			if (i < 16)
				blk[j * 16 + i] |= c;
			else
				blk[j * 16 + i - 16] |= c << 4;
		}
	}
}

const VxKernels vx_kernels_scalar = {
	.name = "scalar",
	.l2_squared = L2SquaredScalar,
	.dot = InnerProductScalar,
	.l1 = L1Scalar,
	.cosine_parts = CosinePartsScalar,
	.l2_squared_batch = L2SquaredBatchScalar,
	.inner_product_batch = InnerProductBatchScalar,
	.l2_squared_f16 = L2SquaredF16Scalar,
	.inner_product_f16 = InnerProductF16Scalar,
	.f16_to_f32 = F16ToF32Scalar,
	.f32_to_f16 = F32ToF16Scalar,
	.sq8_l2 = Sq8L2Scalar,
	.sq8_ip = Sq8IpScalar,
	.sq8v_l1 = Sq8vL1Scalar,
	.u8_dot = U8DotScalar,
	.bit_count = BitCountScalar,
	.bit_xor_count = BitXorCountScalar,
	.bit_and_count = BitAndCountScalar,
	.pq8_scan = Pq8ScanScalar,
	.pq4_scan = Pq4ScanScalar,
	.pq8_fast_scan = Pq8FastScanScalar,
	.pq8_block_scan = vx_pq8_block_scan_unrolled,
};


/* for variants without a SIMD form of a kernel */
void
vx_pq8_fast_scan_scalar(const uint8_t *lut8, int m, const uint8_t *blocks, int nblocks, uint16_t *out)
{
	Pq8FastScanScalar(lut8, m, blocks, nblocks, out);
}

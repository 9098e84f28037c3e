/*-------------------------------------------------------------------------
 *
 * distance.c
 *	  Scalar reference distance kernels and the per-backend choice of the
 *	  kernel table (see distance.h for the seam).
 *
 * The scalar functions are the definition of "correct" for every faster
 * variant.  They are compiled without auto-vectorization so that they stay
 * the plain reference (and the baseline the SIMD speed-ups are quoted
 * against).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "distance.h"

/*
 * Keep the reference scalar: GCC vectorizes loops at -O2 since version 12.
 * (clang builds only the JIT bitcode of this file, where it does not matter.)
 */
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

const VxKernels vx_kernels_scalar = {
	.name = "scalar",
	.l2_squared = L2SquaredScalar,
	.inner_product = InnerProductScalar,
	.l1 = L1Scalar,
	.cosine_parts = CosinePartsScalar,
};

const VxKernels *vx_kernels = &vx_kernels_scalar;

/*
 * Choose the kernel table for this backend.  Called once from _PG_init.
 */
void
vx_kernels_init(void)
{
	vx_kernels = &vx_kernels_scalar;
}

/*-------------------------------------------------------------------------
 *
 * distance.h
 *	  The distance-kernel seam: every distance vectorx computes, in SQL
 *	  functions, index builds and scans, goes through the functions here.
 *
 * Kernels work on plain float arrays and never allocate.  They are reached
 * through a table of function pointers (VxKernels) that vx_kernels_init()
 * fills once per backend; the scalar table in distance.c is the reference
 * every other variant is tested against.  Callers use the inline wrappers
 * (vx_l2_squared() etc.) and never look at the table directly.
 *
 * Accumulation is in float, as in pgvector; the callers that need double
 * (norms returned to SQL) say so.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_DISTANCE_H
#define VECTORX_DISTANCE_H

#include <math.h>

typedef float (*VxDistanceFn) (const float *a, const float *b, int n);

typedef struct VxKernels
{
	const char *name;			/* variant name reported by vectorx_simd() */
	VxDistanceFn l2_squared;	/* sum (a[i] - b[i])^2 */
	VxDistanceFn inner_product; /* sum a[i] * b[i] */
	VxDistanceFn l1;			/* sum |a[i] - b[i]| */
	/* dot product and both squared norms in one pass (cosine distance) */
	void		(*cosine_parts) (const float *a, const float *b, int n,
								 float *dot, float *norm_a, float *norm_b);
} VxKernels;

/* The active table, set by vx_kernels_init(); never NULL after _PG_init. */
extern const VxKernels *vx_kernels;

/* The scalar reference variant. */
extern const VxKernels vx_kernels_scalar;

extern void vx_kernels_init(void);

static inline float
vx_l2_squared(const float *a, const float *b, int n)
{
	return vx_kernels->l2_squared(a, b, n);
}

static inline float
vx_inner_product(const float *a, const float *b, int n)
{
	return vx_kernels->inner_product(a, b, n);
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

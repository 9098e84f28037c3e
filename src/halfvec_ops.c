/*-------------------------------------------------------------------------
 *
 * halfvec_ops.c
 *	  SQL-callable operations on halfvec: the four distances, norms,
 *	  element-wise arithmetic, concatenation, comparison (the btree operator
 *	  class) and the sum/avg aggregates; binary_quantize(halfvec) is in
 *	  bitvec.c with the other bit functions.
 *
 * Distances convert both arguments to float4 (exact) with the kernel
 * table's f16_to_f32 into scratch space kept per call site, then run the
 * float4 kernels: the same numbers as vector's distances on the same
 * values, and no palloc per row.  Results of arithmetic are rounded back
 * through VxHalfFromFloats (halfvec.c), which refuses to overflow.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/array.h"
#include "utils/builtins.h"

#include "distance.h"
#include "halfvec.h"
#include "vector.h"

/* ---- arguments as float4 ---- */

typedef struct HalfScratch
{
	int			cap;			/* elements each buffer holds */
	float	   *x[2];			/* the arguments' elements as float4 */
	uint16	   *raw;			/* an aligned copy of a short-header value */
	VxArgCache	toasted[2];		/* a toasted argument that keeps coming back
								 * (the query of an exact scan, vector.h) */
} HalfScratch;

/* the call site's scratch (a new one per call without an FmgrInfo) */
static HalfScratch *
GetScratch(FunctionCallInfo fcinfo)
{
	HalfScratch *st;

	if (fcinfo->flinfo && fcinfo->flinfo->fn_extra)
		return (HalfScratch *) fcinfo->flinfo->fn_extra;
	st = MemoryContextAllocZero(fcinfo->flinfo ? fcinfo->flinfo->fn_mcxt : CurrentMemoryContext,
								sizeof(HalfScratch));
	if (fcinfo->flinfo)
		fcinfo->flinfo->fn_extra = st;
	return st;
}

/* room for dim elements in each buffer */
static void
GrowScratch(FunctionCallInfo fcinfo, HalfScratch *st, int dim)
{
	MemoryContext cxt = fcinfo->flinfo ? fcinfo->flinfo->fn_mcxt : CurrentMemoryContext;

	if (st->cap < dim)
	{
		int			cap = Max(dim, 64);
		float	   *x0 = MemoryContextAlloc(cxt, sizeof(float) * cap);
		float	   *x1 = MemoryContextAlloc(cxt, sizeof(float) * cap);
		uint16	   *raw = MemoryContextAlloc(cxt, sizeof(uint16) * cap);

		/* the old buffers go only once the new ones exist (an error between leaves st whole) */
		if (st->cap > 0)
		{
			pfree(st->x[0]);
			pfree(st->x[1]);
			pfree(st->raw);
		}
		st->x[0] = x0;
		st->x[1] = x1;
		st->raw = raw;
		st->cap = cap;
	}
}

/*
 * Both arguments' elements as float4, in *a and *b (call-site scratch).  A
 * plain value is read in place, a short-header one (a small halfvec stored
 * inline) through an aligned copy, a toasted one detoasted, and kept while
 * the same one keeps coming back (VARATT_IS_SHORT is true of a TOAST
 * pointer too: the order of the tests matters).
 */
static int
HalfArgs(FunctionCallInfo fcinfo, const float **a, const float **b)
{
	int			dims[2];
	const uint16 *elems[2];
	bool		shortv[2];
	HalfScratch *st = GetScratch(fcinfo);

	for (int i = 0; i < 2; i++)
	{
		struct varlena *p = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(i));

		shortv[i] = false;
		if (!VARATT_IS_EXTENDED(p))
		{
			dims[i] = ((const HalfVector *) p)->dim;
			elems[i] = ((const HalfVector *) p)->x;
		}
		else if (VARATT_IS_SHORT(p) && !VARATT_IS_EXTERNAL(p))
		{
			int16		d;

			memcpy(&d, VARDATA_SHORT(p), sizeof(int16));
			dims[i] = d;
			elems[i] = (const uint16 *) (VARDATA_SHORT(p) + 2 * sizeof(int16));
			shortv[i] = true;
		}
		else
		{
			const HalfVector *h = fcinfo->flinfo ?
				(const HalfVector *) VxArgCacheGet(&st->toasted[i], fcinfo, i) :
				DatumGetHalfVector(PG_GETARG_DATUM(i));

			dims[i] = h->dim;
			elems[i] = h->x;
		}
	}
	if (dims[0] != dims[1])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different halfvec dimensions %d and %d", dims[0], dims[1])));
	GrowScratch(fcinfo, st, dims[0]);
	for (int i = 0; i < 2; i++)
	{
		const uint16 *x = elems[i];

		if (shortv[i])
		{
			memcpy(st->raw, elems[i], sizeof(uint16) * dims[i]);
			x = st->raw;
		}
		vx_kernels->f16_to_f32(x, st->x[i], dims[i]);
	}
	*a = st->x[0];
	*b = st->x[1];
	return dims[0];
}

/* one argument as a palloc'd float4 array (functions off the hot path) */
static float *
HalfFloats(const HalfVector *h)
{
	float	   *x = palloc(sizeof(float) * h->dim);

	vx_kernels->f16_to_f32(h->x, x, h->dim);
	return x;
}

/* ---- distances ---- */

PG_FUNCTION_INFO_V1(halfvec_l2_distance);
Datum
halfvec_l2_distance(PG_FUNCTION_ARGS)
{
	const float *a,
			   *b;
	int			n = HalfArgs(fcinfo, &a, &b);

	PG_RETURN_FLOAT8(sqrt((double) vx_l2_squared(a, b, n)));
}

PG_FUNCTION_INFO_V1(halfvec_l2_squared_distance);
Datum
halfvec_l2_squared_distance(PG_FUNCTION_ARGS)
{
	const float *a,
			   *b;
	int			n = HalfArgs(fcinfo, &a, &b);

	PG_RETURN_FLOAT8((double) vx_l2_squared(a, b, n));
}

PG_FUNCTION_INFO_V1(halfvec_inner_product);
Datum
halfvec_inner_product(PG_FUNCTION_ARGS)
{
	const float *a,
			   *b;
	int			n = HalfArgs(fcinfo, &a, &b);

	PG_RETURN_FLOAT8((double) vx_inner_product(a, b, n));
}

PG_FUNCTION_INFO_V1(halfvec_negative_inner_product);
Datum
halfvec_negative_inner_product(PG_FUNCTION_ARGS)
{
	const float *a,
			   *b;
	int			n = HalfArgs(fcinfo, &a, &b);

	PG_RETURN_FLOAT8(-(double) vx_inner_product(a, b, n));
}

PG_FUNCTION_INFO_V1(halfvec_cosine_distance);
Datum
halfvec_cosine_distance(PG_FUNCTION_ARGS)
{
	const float *a,
			   *b;
	int			n = HalfArgs(fcinfo, &a, &b);

	PG_RETURN_FLOAT8(vx_cosine_distance(a, b, n));
}

PG_FUNCTION_INFO_V1(halfvec_l1_distance);
Datum
halfvec_l1_distance(PG_FUNCTION_ARGS)
{
	const float *a,
			   *b;
	int			n = HalfArgs(fcinfo, &a, &b);

	PG_RETURN_FLOAT8((double) vx_l1(a, b, n));
}

/* ---- single-halfvec functions ---- */

PG_FUNCTION_INFO_V1(halfvec_vector_dims);
Datum
halfvec_vector_dims(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_HALFVEC_P(0)->dim);
}

static double
HalfNorm(const HalfVector *h)
{
	double		sum = 0.0;

	for (int i = 0; i < h->dim; i++)
	{
		double		x = vx_f16_to_f32(h->x[i]);

		sum += x * x;
	}
	return sqrt(sum);
}

PG_FUNCTION_INFO_V1(halfvec_l2_norm);
Datum
halfvec_l2_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(HalfNorm(PG_GETARG_HALFVEC_P(0)));
}

/* Unit vector in the direction of h; a zero halfvec is returned unchanged. */
PG_FUNCTION_INFO_V1(halfvec_l2_normalize);
Datum
halfvec_l2_normalize(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	double		norm = HalfNorm(h);
	float	   *x = HalfFloats(h);

	if (norm > 0)
		for (int i = 0; i < h->dim; i++)
			x[i] = (float) (x[i] / norm);
	PG_RETURN_POINTER(VxHalfFromFloats(x, h->dim));
}

PG_FUNCTION_INFO_V1(halfvec_subvector);
Datum
halfvec_subvector(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	int			from;
	int			n = VxSubvectorRange(h->dim, PG_GETARG_INT32(1), PG_GETARG_INT32(2), "halfvec", &from);
	HalfVector *result = VxNewHalfVector(n);

	memcpy(result->x, h->x + from, sizeof(uint16) * n);
	PG_RETURN_POINTER(result);
}

/* ---- element-wise arithmetic, in float4, rounded back ---- */

typedef enum HalfOp
{
	HALF_ADD,
	HALF_SUB,
	HALF_MUL
} HalfOp;

static HalfVector *
HalfArith(FunctionCallInfo fcinfo, HalfOp op)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	float	   *x,
			   *y;
	HalfVector *result;

	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different halfvec dimensions %d and %d", a->dim, b->dim)));
	x = HalfFloats(a);
	y = HalfFloats(b);
	for (int i = 0; i < a->dim; i++)
		x[i] = op == HALF_ADD ? x[i] + y[i] : op == HALF_SUB ? x[i] - y[i] : x[i] * y[i];
	result = VxHalfFromFloats(x, a->dim);
	if (op == HALF_MUL)
		for (int i = 0; i < a->dim; i++)
			if (unlikely((result->x[i] & 0x7fff) == 0 && (a->x[i] & 0x7fff) != 0 && (b->x[i] & 0x7fff) != 0))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("value out of range: underflow"),
						 errdetail("Element %d of the result is too small for type halfvec but not zero.", i + 1),
						 errhint("Scale the operands up, or compute in vector.")));
	pfree(x);
	pfree(y);
	return result;
}

PG_FUNCTION_INFO_V1(halfvec_add);
Datum
halfvec_add(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(HalfArith(fcinfo, HALF_ADD));
}

PG_FUNCTION_INFO_V1(halfvec_sub);
Datum
halfvec_sub(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(HalfArith(fcinfo, HALF_SUB));
}

PG_FUNCTION_INFO_V1(halfvec_mul);
Datum
halfvec_mul(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(HalfArith(fcinfo, HALF_MUL));
}

PG_FUNCTION_INFO_V1(halfvec_concat);
Datum
halfvec_concat(PG_FUNCTION_ARGS)
{
	HalfVector *a = PG_GETARG_HALFVEC_P(0);
	HalfVector *b = PG_GETARG_HALFVEC_P(1);
	HalfVector *result;

	VxCheckDimOf("halfvec", a->dim + b->dim, HALFVEC_MAX_DIM);
	result = VxNewHalfVector(a->dim + b->dim);
	memcpy(result->x, a->x, sizeof(uint16) * a->dim);
	memcpy(result->x + a->dim, b->x, sizeof(uint16) * b->dim);
	PG_RETURN_POINTER(result);
}

/* ---- comparison (btree) ---- */

/*
 * vector's total order: element by element as numbers (so -0 equals 0),
 * then the shorter first.
 */
static int
HalfCmp(const HalfVector *a, const HalfVector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		float		x = vx_f16_to_f32(a->x[i]),
					y = vx_f16_to_f32(b->x[i]);

		if (x < y)
			return -1;
		if (x > y)
			return 1;
	}
	return a->dim < b->dim ? -1 : a->dim > b->dim ? 1 : 0;
}

#define HALFVEC_CMP_FN(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int			c = HalfCmp(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)); \
	PG_RETURN_BOOL(expr); \
}

HALFVEC_CMP_FN(halfvec_lt, c < 0)
HALFVEC_CMP_FN(halfvec_le, c <= 0)
HALFVEC_CMP_FN(halfvec_eq, c == 0)
HALFVEC_CMP_FN(halfvec_ne, c != 0)
HALFVEC_CMP_FN(halfvec_ge, c >= 0)
HALFVEC_CMP_FN(halfvec_gt, c > 0)

PG_FUNCTION_INFO_V1(halfvec_cmp);
Datum
halfvec_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(HalfCmp(PG_GETARG_HALFVEC_P(0), PG_GETARG_HALFVEC_P(1)));
}

/* ---- aggregates: avg(vector)'s state (vector_ops.c), sum in halfvec ---- */

PG_FUNCTION_INFO_V1(halfvec_accum);
Datum
halfvec_accum(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(1);
	float	   *x = HalfFloats(h);
	ArrayType  *state = VxAccumAdd(fcinfo, x, h->dim, "halfvec");

	pfree(x);
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(halfvec_avg);
Datum
halfvec_avg(PG_FUNCTION_ARGS)
{
	int			dim;
	float	   *means = VxAccumMeans(PG_GETARG_ARRAYTYPE_P(0), &dim);

	if (means == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(VxHalfFromFloats(means, dim));
}

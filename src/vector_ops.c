/*-------------------------------------------------------------------------
 *
 * vector_ops.c
 *	  SQL-callable operations on vectors: the four distances, norms,
 *	  element-wise arithmetic, concatenation, comparison and hashing (for
 *	  the btree and hash operator classes), and the sum/avg aggregates.
 *
 * Distances go through the kernel seam of distance.h and never allocate:
 * an exact k-NN scan calls them once per row.  Arguments are only detoasted
 * when they are actually toasted (PG_DETOAST_DATUM is a no-op otherwise).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "distance.h"
#include "vector.h"

/* ---- distances ---- */

PG_FUNCTION_INFO_V1(l2_distance);
Datum
l2_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = VxVectorArg(fcinfo, 0);
	Vector	   *b = VxVectorArg(fcinfo, 1);

	VxCheckSameDims(a, b);
	VxPrefetchNextRows(fcinfo, a, b);
	PG_RETURN_FLOAT8(sqrt((double) vx_l2_squared(a->x, b->x, a->dim)));
}

/* Squared L2: what the indexes order by; monotone in l2_distance. */
PG_FUNCTION_INFO_V1(vector_l2_squared_distance);
Datum
vector_l2_squared_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = VxVectorArg(fcinfo, 0);
	Vector	   *b = VxVectorArg(fcinfo, 1);

	VxCheckSameDims(a, b);
	VxPrefetchNextRows(fcinfo, a, b);
	PG_RETURN_FLOAT8((double) vx_l2_squared(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(inner_product);
Datum
inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = VxVectorArg(fcinfo, 0);
	Vector	   *b = VxVectorArg(fcinfo, 1);

	VxCheckSameDims(a, b);
	VxPrefetchNextRows(fcinfo, a, b);
	PG_RETURN_FLOAT8((double) vx_inner_product(a->x, b->x, a->dim));
}

/* <#>: negated so that "smaller is closer" like every other distance. */
PG_FUNCTION_INFO_V1(vector_negative_inner_product);
Datum
vector_negative_inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = VxVectorArg(fcinfo, 0);
	Vector	   *b = VxVectorArg(fcinfo, 1);

	VxCheckSameDims(a, b);
	VxPrefetchNextRows(fcinfo, a, b);
	PG_RETURN_FLOAT8(-(double) vx_inner_product(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(cosine_distance);
Datum
cosine_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = VxVectorArg(fcinfo, 0);
	Vector	   *b = VxVectorArg(fcinfo, 1);

	VxCheckSameDims(a, b);
	VxPrefetchNextRows(fcinfo, a, b);
	PG_RETURN_FLOAT8(vx_cosine_distance(a->x, b->x, a->dim));
}

PG_FUNCTION_INFO_V1(l1_distance);
Datum
l1_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = VxVectorArg(fcinfo, 0);
	Vector	   *b = VxVectorArg(fcinfo, 1);

	VxCheckSameDims(a, b);
	VxPrefetchNextRows(fcinfo, a, b);
	PG_RETURN_FLOAT8((double) vx_l1(a->x, b->x, a->dim));
}

/* ---- single-vector functions ---- */

PG_FUNCTION_INFO_V1(vector_dims);
Datum
vector_dims(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(a->dim);
}

/* Euclidean norm, accumulated in double for a precise answer to SQL. */
static double
NormDouble(const Vector *a)
{
	double		sum = 0.0;

	for (int i = 0; i < a->dim; i++)
		sum += (double) a->x[i] * (double) a->x[i];
	return sqrt(sum);
}

PG_FUNCTION_INFO_V1(vector_norm);
Datum
vector_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(NormDouble(PG_GETARG_VECTOR_P(0)));
}

/* Unit vector in the direction of a; a zero vector is returned unchanged. */
PG_FUNCTION_INFO_V1(l2_normalize);
Datum
l2_normalize(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	double		norm = NormDouble(a);
	Vector	   *result = VxNewVector(a->dim);

	if (norm > 0)
	{
		for (int i = 0; i < a->dim; i++)
			result->x[i] = (float) (a->x[i] / norm);
	}
	PG_RETURN_VECTOR_P(result);
}

/*
 * subvector(v, start, count): elements start .. start+count-1 (1-based),
 * clipped to the vector like substring(); an empty result is an error.
 * Returns the count and the 0-based first element in *from; for vector
 * and halfvec alike.
 */
int
VxSubvectorRange(int dim, int32 start32, int32 count32, const char *typname, int *from)
{
	int64		start = start32;
	int64		end = start + count32;

	if (count32 < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SUBSTRING_ERROR),
				 errmsg("negative subvector length not allowed")));
	if (start < 1)
		start = 1;
	if (end > dim + 1)
		end = dim + 1;
	if (end <= start)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname),
				 errdetail("The requested range lies outside the %d dimensions of the %s.",
						   dim, typname)));
	*from = (int) (start - 1);
	return (int) (end - start);
}

PG_FUNCTION_INFO_V1(subvector);
Datum
subvector(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	int			from;
	int			n = VxSubvectorRange(a->dim, PG_GETARG_INT32(1), PG_GETARG_INT32(2), "vector", &from);
	Vector	   *result = VxNewVector(n);

	memcpy(result->x, a->x + from, sizeof(float) * n);
	PG_RETURN_VECTOR_P(result);
}

/* ---- element-wise arithmetic ---- */

/*
 * The result of arithmetic on finite elements can still leave float4's
 * range (V2 forbids infinities), and a product of two non-zero elements
 * can underflow to zero; both are errors, with pgvector's messages.  NaN
 * cannot come from finite operands under + - *, but avg(vector) divides
 * sums that a caller-built state may hold, so it is checked too.
 */
static void
ReportOverflow(int i)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value out of range: overflow"),
			 errdetail("Element %d of the result is beyond the range of type real.", i + 1),
			 errhint("Scale the operands down, or compute in double precision[].")));
}

static void
CheckResultElements(const Vector *result)
{
	for (int i = 0; i < result->dim; i++)
		if (unlikely(isinf(result->x[i]) || isnan(result->x[i])))
			ReportOverflow(i);
}

PG_FUNCTION_INFO_V1(vector_add);
Datum
vector_add(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VxCheckSameDims(a, b);
	result = VxNewVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] + b->x[i];
	CheckResultElements(result);
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_sub);
Datum
vector_sub(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VxCheckSameDims(a, b);
	result = VxNewVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] - b->x[i];
	CheckResultElements(result);
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_mul);
Datum
vector_mul(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VxCheckSameDims(a, b);
	result = VxNewVector(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] * b->x[i];
	CheckResultElements(result);
	for (int i = 0; i < a->dim; i++)
		if (unlikely(result->x[i] == 0 && a->x[i] != 0 && b->x[i] != 0))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range: underflow"),
					 errdetail("Element %d of the result is too small for type real but not zero.", i + 1),
					 errhint("Scale the operands up, or compute in double precision[].")));
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_concat);
Datum
vector_concat(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	VxCheckDim(a->dim + b->dim);
	result = VxNewVector(a->dim + b->dim);
	memcpy(result->x, a->x, sizeof(float) * a->dim);
	memcpy(result->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(result);
}

/* ---- comparison (btree) and hashing ---- */

/*
 * Total order: element by element, then the shorter vector first.  Elements
 * compare as floats, so -0 equals 0 (the hash below agrees).
 */
static int
VectorCmp(const Vector *a, const Vector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	if (a->dim < b->dim)
		return -1;
	if (a->dim > b->dim)
		return 1;
	return 0;
}

#define VECTOR_CMP_FN(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	Vector	   *a = PG_GETARG_VECTOR_P(0); \
	Vector	   *b = PG_GETARG_VECTOR_P(1); \
	int			c = VectorCmp(a, b); \
	PG_RETURN_BOOL(expr); \
}

VECTOR_CMP_FN(vector_lt, c < 0)
VECTOR_CMP_FN(vector_le, c <= 0)
VECTOR_CMP_FN(vector_eq, c == 0)
VECTOR_CMP_FN(vector_ne, c != 0)
VECTOR_CMP_FN(vector_ge, c >= 0)
VECTOR_CMP_FN(vector_gt, c > 0)

PG_FUNCTION_INFO_V1(vector_cmp);
Datum
vector_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(VectorCmp(PG_GETARG_VECTOR_P(0), PG_GETARG_VECTOR_P(1)));
}

/*
 * Hash of the elements with -0 folded into +0, so that values equal under
 * VectorCmp hash alike.  The dimension is part of the hashed bytes.
 */
static uint64
VectorHash(const Vector *a, uint64 seed)
{
	int			dim = a->dim;
	float	   *tmp = palloc(sizeof(float) * dim);
	uint64		h;

	for (int i = 0; i < dim; i++)
		tmp[i] = a->x[i] + 0.0f;	/* -0 + 0 = +0 */
	h = DatumGetUInt64(hash_any_extended((unsigned char *) tmp,
										 sizeof(float) * dim, seed));
	pfree(tmp);
	return h;
}

PG_FUNCTION_INFO_V1(vector_hash);
Datum
vector_hash(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((int32) VectorHash(PG_GETARG_VECTOR_P(0), 0));
}

PG_FUNCTION_INFO_V1(vector_hash_extended);
Datum
vector_hash_extended(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) VectorHash(PG_GETARG_VECTOR_P(0), PG_GETARG_INT64(1)));
}

/* ---- aggregates ---- */

/*
 * avg(vector) keeps a float8[] state {count, sum_1, ..., sum_dim}: a plain
 * SQL type, so partial states travel between parallel workers without
 * serialization functions.  The initial state is '{0}' (no rows yet).
 * Inside an aggregate the state is updated in place; called directly from
 * SQL (as pgvector allows) the functions work on a copy.
 *
 * The state is a SQL value: anyone can pass any float8[] to these three
 * functions, directly or through an aggregate of their own with another
 * INITCOND, so its shape is checked before it is read (AccumStateDim) and
 * its sums before they become a vector (vector_avg).  A valid state is
 *	S1. one-dimensional, no NULLs, of float8;
 *	S2. {0} (no rows), or {count, sum_1, ..., sum_dim} with
 *		1 <= dim <= VECTOR_MAX_DIM and count a whole number >= 1.
 */
#define ACCUM_MAX_COUNT 9007199254740992.0	/* 2^53: counts stay exact */

static void
ReportBadState(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("invalid vector aggregate state"),
			 errdetail_internal("%s", detail),
			 errhint("The state of avg(vector) is a double precision array {count, sum_1, ..., sum_n} built by vector_accum.")));
}

/* Check S1 and S2; returns dim (0 for {0}). */
static int
AccumStateDim(ArrayType *state)
{
	int			n;
	float8		count;

	if (ARR_ELEMTYPE(state) != FLOAT8OID)
		ReportBadState(psprintf("The state is of type %s[], not double precision[].",
								format_type_be(ARR_ELEMTYPE(state))));
	if (ARR_NDIM(state) != 1)
		ReportBadState(psprintf("The state has %d dimensions, not 1.", ARR_NDIM(state)));
	if (array_contains_nulls(state))
		ReportBadState("The state contains NULL.");
	n = ARR_DIMS(state)[0];
	if (n - 1 > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vector cannot have more than %d dimensions", VECTOR_MAX_DIM),
				 errdetail("The vector aggregate state holds %d sums.", n - 1),
				 errhint("The state of avg(vector) is a double precision array {count, sum_1, ..., sum_n} built by vector_accum.")));
	count = ((float8 *) ARR_DATA_PTR(state))[0];
	if (!(count >= 0 && count <= ACCUM_MAX_COUNT) || count != floor(count))
		ReportBadState(psprintf("The row count %g is not a whole number from 0 to 2^53.", count));
	if (n == 1 && count != 0)
		ReportBadState(psprintf("The state counts %g rows but holds no sums.", count));
	if (n > 1 && count == 0)
		ReportBadState("The state holds sums but counts no rows.");
	return n - 1;
}

/* A {0, 0, ..., 0} state for dim dimensions in cxt. */
static ArrayType *
NewAccumState(int dim, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Datum	   *zeros = palloc(sizeof(Datum) * (dim + 1));
	ArrayType  *result;

	for (int i = 0; i <= dim; i++)
		zeros[i] = Float8GetDatum(0.0);
	result = construct_array(zeros, dim + 1, FLOAT8OID, sizeof(float8),
							 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	pfree(zeros);
	MemoryContextSwitchTo(old);
	return result;
}

/*
 * The state argument, to be updated in place: the aggregate's own value in
 * an aggregate, a copy in *cxt (the current context) otherwise.
 */
static ArrayType *
WritableState(FunctionCallInfo fcinfo, MemoryContext *cxt)
{
	if (AggCheckCallContext(fcinfo, cxt))
		return PG_GETARG_ARRAYTYPE_P(0);
	*cxt = CurrentMemoryContext;
	return PG_GETARG_ARRAYTYPE_P_COPY(0);
}

/*
 * Add dim elements to the state (argument 0 of fcinfo), for avg(vector)
 * and avg(halfvec) alike; typname names the type in the error.
 */
ArrayType *
VxAccumAdd(FunctionCallInfo fcinfo, const float *x, int dim, const char *typname)
{
	MemoryContext cxt;
	ArrayType  *state = WritableState(fcinfo, &cxt);
	int			sdim = AccumStateDim(state);
	float8	   *s;

	if (sdim == 0)
		state = NewAccumState(dim, cxt);
	else if (sdim != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different %s dimensions %d and %d", typname, sdim, dim)));

	s = (float8 *) ARR_DATA_PTR(state);
	s[0] += 1.0;
	for (int i = 0; i < dim; i++)
		s[i + 1] += x[i];
	return state;
}

PG_FUNCTION_INFO_V1(vector_accum);
Datum
vector_accum(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(1);

	PG_RETURN_ARRAYTYPE_P(VxAccumAdd(fcinfo, v->x, v->dim, "vector"));
}

PG_FUNCTION_INFO_V1(vector_combine);
Datum
vector_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;
	ArrayType  *a = WritableState(fcinfo, &cxt);
	ArrayType  *b = PG_GETARG_ARRAYTYPE_P(1);
	int			da = AccumStateDim(a);
	int			db = AccumStateDim(b);
	float8	   *sa,
			   *sb;

	if (db == 0)
		PG_RETURN_ARRAYTYPE_P(a);
	if (da == 0)
	{
		/* the state must live in the aggregate context, not b's */
		a = NewAccumState(db, cxt);
		da = db;
	}
	else if (da != db)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", da, db)));
	sa = (float8 *) ARR_DATA_PTR(a);
	sb = (float8 *) ARR_DATA_PTR(b);
	for (int i = 0; i <= da; i++)
		sa[i] += sb[i];
	PG_RETURN_ARRAYTYPE_P(a);
}

/*
 * The means of a valid state as float4, palloc'd, *dim of them; NULL for
 * the state of no rows (SQL's avg of no rows is NULL).
 */
float *
VxAccumMeans(ArrayType *state, int *dim)
{
	float8	   *s = (float8 *) ARR_DATA_PTR(state);
	float	   *result;

	*dim = AccumStateDim(state);
	if (*dim == 0)
		return NULL;
	for (int i = 1; i <= *dim; i++)
		if (!isfinite(s[i]))
			ReportBadState(psprintf("Sum %d is %g.", i, s[i]));
	result = palloc(sizeof(float) * *dim);
	for (int i = 0; i < *dim; i++)
		result[i] = (float) (s[i + 1] / s[0]);
	return result;
}

PG_FUNCTION_INFO_V1(vector_avg);
Datum
vector_avg(PG_FUNCTION_ARGS)
{
	int			dim;
	float	   *means = VxAccumMeans(PG_GETARG_ARRAYTYPE_P(0), &dim);
	Vector	   *result;

	if (means == NULL)
		PG_RETURN_NULL();
	result = VxNewVector(dim);
	memcpy(result->x, means, sizeof(float) * dim);
	pfree(means);
	CheckResultElements(result);
	PG_RETURN_VECTOR_P(result);
}

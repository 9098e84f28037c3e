/*-------------------------------------------------------------------------
 *
 * sparsevec.c
 *	  The sparsevec type (sparsevec.h): text and binary I/O, the typmod
 *	  sparsevec(n), casts to and from vector and halfvec, the four
 *	  distances computed on the sparse form (a merge of the two index
 *	  lists: the work is the stored elements, never the dimensions), norms
 *	  and the btree comparison.
 *
 * Everything that builds a SparseVector passes through VxNewSparseVector
 * and the checks here (S1 to S3), including the casts from dense types,
 * which drop zeros.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "distance.h"
#include "floatparse.h"
#include "halfvec.h"
#include "sparsevec.h"
#include "vector.h"

SparseVector *
VxNewSparseVector(int dim, int nnz)
{
	SparseVector *result;
	Size		size;

	VxCheckDimOf("sparsevec", dim, SPARSEVEC_MAX_DIM);
	if (nnz < 0 || nnz > SPARSEVEC_MAX_NNZ || nnz > dim)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sparsevec cannot have more than %d non-zero elements",
						Min(dim, SPARSEVEC_MAX_NNZ)),
				 errdetail("It has %d.", nnz)));
	size = SPARSEVEC_SIZE(nnz);
	result = (SparseVector *) palloc0(size);
	SET_VARSIZE(result, size);
	result->dim = dim;
	result->nnz = nnz;
	return result;
}

static void
ReportSyntax(const char *lit, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type sparsevec: \"%s\"", lit),
			 errdetail("%s", detail),
			 errhint("A sparsevec literal looks like '{1:1.5,3:2}/5': 1-based index:value pairs, then the dimensions.")));
}

static inline bool
IsSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* S2 for element i, given as 0-based index */
static void
CheckIndex(const int32 *indices, int i, int dim)
{
	if (indices[i] < 0 || indices[i] >= dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("index %d is out of range for %d dimensions", indices[i] + 1, dim),
				 errdetail("Indexes run from 1 to the dimensions in text, from 0 in binary.")));
	if (i > 0 && indices[i] <= indices[i - 1])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg(indices[i] == indices[i - 1] ? "indexes must not contain duplicates"
						: "indexes must be in ascending order"),
				 errdetail("Index %d follows index %d.", indices[i] + 1, indices[i - 1] + 1)));
}

typedef struct InputElement
{
	int32		index;			/* 0-based */
	float		value;
} InputElement;

static int
CompareInput(const void *a, const void *b)
{
	int32		x = ((const InputElement *) a)->index,
				y = ((const InputElement *) b)->index;

	return x < y ? -1 : x > y;
}

/*
 * Text input: '{' [index ':' value { ',' index ':' value }] '}' '/' dim,
 * whitespace around every token; indexes 1-based, in any order, no
 * duplicates; zero values are not stored.
 */
PG_FUNCTION_INFO_V1(sparsevec_in);
Datum
sparsevec_in(PG_FUNCTION_ARGS)
{
	char	   *lit = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	const char *p = lit;
	InputElement *elems;
	int			n = 0;
	int			cap = 16;
	long		dim;
	char	   *end;
	SparseVector *result;
	float	   *values;

	while (IsSpace(*p))
		p++;
	if (*p != '{')
		ReportSyntax(lit, "Vector contents must start with \"{\".");
	p++;
	while (IsSpace(*p))
		p++;
	elems = palloc(sizeof(InputElement) * cap);
	if (*p == '}')
		p++;
	else
		for (;;)
		{
			long		index;
			float		value;
			bool		range_error;

			while (IsSpace(*p))
				p++;
			errno = 0;
			index = strtol(p, &end, 10);
			if (end == p)
				ReportSyntax(lit, "Expected an index.");
			if (errno == ERANGE || index < 1 || index > INT_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("index \"%s\" is out of range for type sparsevec", pnstrdup(p, end - p)),
						 errdetail("Indexes run from 1 to the dimensions.")));
			p = end;
			while (IsSpace(*p))
				p++;
			if (*p != ':')
				ReportSyntax(lit, "Expected \":\" after an index.");
			p++;
			while (IsSpace(*p))
				p++;
			value = VxParseFloat(p, &end, &range_error);
			if (end == p)
				ReportSyntax(lit, "Expected a number.");
			if (range_error)
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("\"%s\" is out of range for type sparsevec", pnstrdup(p, end - p))));
			VxCheckElementOf("sparsevec", value);
			if (value != 0)
			{
				if (n == SPARSEVEC_MAX_NNZ)
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("sparsevec cannot have more than %d non-zero elements", SPARSEVEC_MAX_NNZ)));
				if (n == cap)
				{
					cap *= 2;
					elems = repalloc(elems, sizeof(InputElement) * cap);
				}
				elems[n].index = (int32) (index - 1);
				elems[n].value = value;
				n++;
			}
			p = end;
			while (IsSpace(*p))
				p++;
			if (*p == ',')
			{
				p++;
				continue;
			}
			if (*p == '}')
			{
				p++;
				break;
			}
			ReportSyntax(lit, *p == '\0' ? "Unexpected end of input." : "Expected \",\" or \"}\" after a value.");
		}
	while (IsSpace(*p))
		p++;
	if (*p != '/')
		ReportSyntax(lit, "Expected \"/\" and the dimensions after \"}\".");
	p++;
	while (IsSpace(*p))
		p++;
	errno = 0;
	dim = strtol(p, &end, 10);
	if (end == p)
		ReportSyntax(lit, "Expected the dimensions after \"/\".");
	p = end;
	while (IsSpace(*p))
		p++;
	if (*p != '\0')
		ReportSyntax(lit, "Junk after the dimensions.");
	if (errno == ERANGE || dim > SPARSEVEC_MAX_DIM)
		dim = (long) SPARSEVEC_MAX_DIM + 1;
	if (dim < 0)
		dim = 0;
	VxCheckDimOf("sparsevec", (int) dim, SPARSEVEC_MAX_DIM);
	VxCheckExpectedDim(typmod, (int) dim);

	qsort(elems, n, sizeof(InputElement), CompareInput);
	result = VxNewSparseVector((int) dim, n);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0; i < n; i++)
	{
		result->indices[i] = elems[i].index;
		values[i] = elems[i].value;
		CheckIndex(result->indices, i, result->dim);
	}
	pfree(elems);
	PG_RETURN_POINTER(result);
}

PG_FUNCTION_INFO_V1(sparsevec_out);
Datum
sparsevec_out(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);
	const float *values = SPARSEVEC_VALUES(s);
	char	   *buf = palloc((Size) s->nnz * (12 + FLOAT_SHORTEST_DECIMAL_LEN) + 16);
	char	   *p = buf;

	*p++ = '{';
	for (int i = 0; i < s->nnz; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += sprintf(p, "%d", s->indices[i] + 1);
		*p++ = ':';
		p += float_to_shortest_decimal_bufn(values[i], p);
	}
	*p++ = '}';
	*p++ = '/';
	p += sprintf(p, "%d", s->dim);
	*p = '\0';
	PG_FREE_IF_COPY(s, 0);
	PG_RETURN_CSTRING(buf);
}

PG_FUNCTION_INFO_V1(sparsevec_typmod_in);
Datum
sparsevec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(VxTypmodIn(PG_GETARG_ARRAYTYPE_P(0), "sparsevec", SPARSEVEC_MAX_DIM));
}

/*
 * Binary input, pgvector's wire format: int32 dim, int32 nnz, int32 unused
 * (0), nnz int32 0-based indexes, nnz float4 values, nothing else.  Zero
 * values are refused (S3: text input drops them, binary has one encoding).
 */
PG_FUNCTION_INFO_V1(sparsevec_recv);
Datum
sparsevec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int32		dim,
				nnz,
				unused;
	SparseVector *result;
	float	   *values;

	if (buf->len - buf->cursor < 12)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary sparsevec: header needs 12 bytes, got %d", buf->len - buf->cursor)));
	dim = (int32) pq_getmsgint(buf, sizeof(int32));
	nnz = (int32) pq_getmsgint(buf, sizeof(int32));
	unused = (int32) pq_getmsgint(buf, sizeof(int32));
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary sparsevec: reserved field is %d, expected 0", unused)));
	VxCheckDimOf("sparsevec", dim, SPARSEVEC_MAX_DIM);
	if (nnz < 0 || nnz > Min(dim, SPARSEVEC_MAX_NNZ))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary sparsevec: %d elements for %d dimensions", nnz, dim),
				 errdetail("A sparsevec holds at most %d non-zero elements.", SPARSEVEC_MAX_NNZ)));
	if (buf->len - buf->cursor != nnz * 8)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary sparsevec: %d elements need %d bytes of data, got %d",
						nnz, nnz * 8, buf->len - buf->cursor)));
	VxCheckExpectedDim(typmod, dim);

	result = VxNewSparseVector(dim, nnz);
	values = SPARSEVEC_VALUES(result);
	for (int i = 0; i < nnz; i++)
	{
		result->indices[i] = (int32) pq_getmsgint(buf, sizeof(int32));
		CheckIndex(result->indices, i, dim);
	}
	for (int i = 0; i < nnz; i++)
	{
		values[i] = pq_getmsgfloat4(buf);
		VxCheckElementOf("sparsevec", values[i]);
		if (values[i] == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("binary representation of sparsevec cannot contain zero values")));
	}
	PG_RETURN_POINTER(result);
}

PG_FUNCTION_INFO_V1(sparsevec_send);
Datum
sparsevec_send(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);
	const float *values = SPARSEVEC_VALUES(s);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, s->dim);
	pq_sendint32(&buf, s->nnz);
	pq_sendint32(&buf, 0);
	for (int i = 0; i < s->nnz; i++)
		pq_sendint32(&buf, s->indices[i]);
	for (int i = 0; i < s->nnz; i++)
		pq_sendfloat4(&buf, values[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* sparsevec(sparsevec, typmod, explicit): enforces sparsevec(n) */
PG_FUNCTION_INFO_V1(sparsevec);
Datum
sparsevec(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);

	VxCheckExpectedDim(PG_GETARG_INT32(1), s->dim);
	PG_RETURN_POINTER(s);
}

/* ---- casts to and from the dense types ---- */

/* a sparsevec of x[0..dim), its zeros dropped */
static SparseVector *
FromDense(const float *x, int dim, int32 typmod)
{
	int			nnz = 0;
	SparseVector *result;
	float	   *values;

	VxCheckExpectedDim(typmod, dim);
	for (int i = 0; i < dim; i++)
		nnz += x[i] != 0;
	result = VxNewSparseVector(dim, nnz);
	values = SPARSEVEC_VALUES(result);
	nnz = 0;
	for (int i = 0; i < dim; i++)
		if (x[i] != 0)
		{
			result->indices[nnz] = i;
			values[nnz++] = x[i];
		}
	return result;
}

PG_FUNCTION_INFO_V1(vector_to_sparsevec);
Datum
vector_to_sparsevec(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	PG_RETURN_POINTER(FromDense(v->x, v->dim, PG_GETARG_INT32(1)));
}

PG_FUNCTION_INFO_V1(halfvec_to_sparsevec);
Datum
halfvec_to_sparsevec(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	float	   *x = palloc(sizeof(float) * h->dim);

	vx_kernels->f16_to_f32(h->x, x, h->dim);
	PG_RETURN_POINTER(FromDense(x, h->dim, PG_GETARG_INT32(1)));
}

/* the dense elements of s, palloc'd; its dimensions must suit a dense type */
static float *
ToDense(const SparseVector *s, const char *typname, int maxdim, int32 typmod)
{
	const float *values = SPARSEVEC_VALUES(s);
	float	   *x;

	VxCheckDimOf(typname, s->dim, maxdim);
	VxCheckExpectedDim(typmod, s->dim);
	x = palloc0(sizeof(float) * s->dim);
	for (int i = 0; i < s->nnz; i++)
		x[s->indices[i]] = values[i];
	return x;
}

PG_FUNCTION_INFO_V1(sparsevec_to_vector);
Datum
sparsevec_to_vector(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);
	float	   *x = ToDense(s, "vector", VECTOR_MAX_DIM, PG_GETARG_INT32(1));
	Vector	   *result = VxNewVector(s->dim);

	memcpy(result->x, x, sizeof(float) * s->dim);
	pfree(x);
	PG_RETURN_POINTER(result);
}

PG_FUNCTION_INFO_V1(sparsevec_to_halfvec);
Datum
sparsevec_to_halfvec(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);
	float	   *x = ToDense(s, "halfvec", HALFVEC_MAX_DIM, PG_GETARG_INT32(1));

	for (int i = 0; i < s->dim; i++)
		if (!(fabsf(x[i]) < HALF_OVERFLOW))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value %g is out of range for type halfvec", x[i]),
					 errdetail("Element %d of the sparsevec is beyond the range of type halfvec (65504).", i + 1)));
	PG_RETURN_POINTER(VxHalfFromFloats(x, s->dim));
}

/* ---- distances: a merge of the two index lists ---- */

static void
CheckSameDims(const SparseVector *a, const SparseVector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different sparsevec dimensions %d and %d", a->dim, b->dim)));
}

typedef enum SparseSum
{
	SUM_L2,						/* sum (a_i - b_i)^2 */
	SUM_DOT,					/* sum a_i b_i */
	SUM_L1						/* sum |a_i - b_i| */
} SparseSum;

/* float4 accumulation over the union (or, for the dot, the intersection) */
static float
Merge(const SparseVector *a, const SparseVector *b, SparseSum what)
{
	const float *av = SPARSEVEC_VALUES(a),
			   *bv = SPARSEVEC_VALUES(b);
	float		sum = 0;
	int			i = 0,
				j = 0;

	while (i < a->nnz || j < b->nnz)
	{
		float		x,
					y;

		if (j == b->nnz || (i < a->nnz && a->indices[i] < b->indices[j]))
			x = av[i++], y = 0;
		else if (i == a->nnz || b->indices[j] < a->indices[i])
			x = 0, y = bv[j++];
		else
			x = av[i++], y = bv[j++];
		switch (what)
		{
			case SUM_L2:
				sum += (x - y) * (x - y);
				break;
			case SUM_DOT:
				sum += x * y;
				break;
			case SUM_L1:
				sum += fabsf(x - y);
				break;
		}
	}
	return sum;
}

static float
SquaredNorm(const SparseVector *s)
{
	const float *v = SPARSEVEC_VALUES(s);
	float		sum = 0;

	for (int i = 0; i < s->nnz; i++)
		sum += v[i] * v[i];
	return sum;
}

#define SPARSE_DISTANCE_FN(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0); \
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1); \
	CheckSameDims(a, b); \
	PG_RETURN_FLOAT8(expr); \
}

SPARSE_DISTANCE_FN(sparsevec_l2_distance, sqrt((double) Merge(a, b, SUM_L2)))
SPARSE_DISTANCE_FN(sparsevec_l2_squared_distance, (double) Merge(a, b, SUM_L2))
SPARSE_DISTANCE_FN(sparsevec_inner_product, (double) Merge(a, b, SUM_DOT))
SPARSE_DISTANCE_FN(sparsevec_negative_inner_product, -(double) Merge(a, b, SUM_DOT))
SPARSE_DISTANCE_FN(sparsevec_l1_distance, (double) Merge(a, b, SUM_L1))

/* 1 - cosine similarity, clamped to [0, 2]; NaN when either is zero */
PG_FUNCTION_INFO_V1(sparsevec_cosine_distance);
Datum
sparsevec_cosine_distance(PG_FUNCTION_ARGS)
{
	SparseVector *a = PG_GETARG_SPARSEVEC_P(0);
	SparseVector *b = PG_GETARG_SPARSEVEC_P(1);
	double		sim;

	CheckSameDims(a, b);
	sim = (double) Merge(a, b, SUM_DOT) / sqrt((double) SquaredNorm(a) * (double) SquaredNorm(b));
	if (sim > 1)
		sim = 1;
	else if (sim < -1)
		sim = -1;
	PG_RETURN_FLOAT8(1 - sim);
}

/* ---- norms ---- */

static double
NormDouble(const SparseVector *s)
{
	const float *v = SPARSEVEC_VALUES(s);
	double		sum = 0;

	for (int i = 0; i < s->nnz; i++)
		sum += (double) v[i] * v[i];
	return sqrt(sum);
}

PG_FUNCTION_INFO_V1(sparsevec_l2_norm);
Datum
sparsevec_l2_norm(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(NormDouble(PG_GETARG_SPARSEVEC_P(0)));
}

/* unit vector; a zero vector stays zero; values that underflow are dropped (S3) */
PG_FUNCTION_INFO_V1(sparsevec_l2_normalize);
Datum
sparsevec_l2_normalize(PG_FUNCTION_ARGS)
{
	SparseVector *s = PG_GETARG_SPARSEVEC_P(0);
	double		norm = NormDouble(s);
	const float *v = SPARSEVEC_VALUES(s);
	float	   *x = palloc(sizeof(float) * Max(s->nnz, 1));
	int			nnz = 0;
	SparseVector *result;

	for (int i = 0; i < s->nnz; i++)
		x[i] = norm > 0 ? (float) (v[i] / norm) : v[i];
	for (int i = 0; i < s->nnz; i++)
		nnz += x[i] != 0;
	result = VxNewSparseVector(s->dim, nnz);
	nnz = 0;
	for (int i = 0; i < s->nnz; i++)
		if (x[i] != 0)
		{
			result->indices[nnz] = s->indices[i];
			SPARSEVEC_VALUES(result)[nnz++] = x[i];
		}
	PG_RETURN_POINTER(result);
}

/* ---- comparison (btree) ---- */

/*
 * vector's order on the dense forms: element by element (an absent element
 * is 0), then the fewer dimensions first.
 */
static int
SparseCmp(const SparseVector *a, const SparseVector *b)
{
	const float *av = SPARSEVEC_VALUES(a),
			   *bv = SPARSEVEC_VALUES(b);
	int			i = 0,
				j = 0;
	int			common = Min(a->dim, b->dim);

	while (i < a->nnz || j < b->nnz)
	{
		int32		at;
		float		x,
					y;

		if (j == b->nnz || (i < a->nnz && a->indices[i] < b->indices[j]))
			at = a->indices[i], x = av[i++], y = 0;
		else if (i == a->nnz || b->indices[j] < a->indices[i])
			at = b->indices[j], x = 0, y = bv[j++];
		else
			at = a->indices[i], x = av[i++], y = bv[j++];
		if (at >= common)
			break;
		if (x < y)
			return -1;
		if (x > y)
			return 1;
	}
	return a->dim < b->dim ? -1 : a->dim > b->dim ? 1 : 0;
}

#define SPARSEVEC_CMP_FN(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int			c = SparseCmp(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)); \
	PG_RETURN_BOOL(expr); \
}

SPARSEVEC_CMP_FN(sparsevec_lt, c < 0)
SPARSEVEC_CMP_FN(sparsevec_le, c <= 0)
SPARSEVEC_CMP_FN(sparsevec_eq, c == 0)
SPARSEVEC_CMP_FN(sparsevec_ne, c != 0)
SPARSEVEC_CMP_FN(sparsevec_ge, c >= 0)
SPARSEVEC_CMP_FN(sparsevec_gt, c > 0)

PG_FUNCTION_INFO_V1(sparsevec_cmp);
Datum
sparsevec_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(SparseCmp(PG_GETARG_SPARSEVEC_P(0), PG_GETARG_SPARSEVEC_P(1)));
}

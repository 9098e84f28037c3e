/*-------------------------------------------------------------------------
 *
 * vector.c
 *	  The vector type itself: text and binary I/O, the typmod vector(n),
 *	  casts to and from arrays, and the input guards of vector.h.
 *
 * Everything that turns outside data into a Vector passes through here, so
 * this is where invariants V1 and V2 of vector.h are enforced.  Operators,
 * distances and aggregates live in vector_ops.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "floatparse.h"
#include "vector.h"

/*
 * Allocate a zeroed vector of the given dimension in the current memory
 * context.  Every vector this extension builds comes from here, so V1 is
 * checked here once more: dim is stored in 16 bits, and a count that
 * slipped past a caller's check would otherwise wrap into a vector whose
 * header lies about its size.
 */
Vector *
VxNewVector(int dim)
{
	Size		size;
	Vector	   *result;

	VxCheckDim(dim);
	size = VECTOR_SIZE(dim);
	result = (Vector *) palloc0(size);

	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

/*
 * The slow path of VxVectorArg (vector.h).  State lives in fn_extra of the
 * calling expression, so it is private to one call site and dies with it.
 */
#define ARG_SLOTS 2
#define ARG_GIVE_UP 3			/* stop caching after this many misses in a row */

typedef struct ArgSlot
{
	VxArgCache	cache;			/* a toasted value and its detoasted copy */
	union
	{
		char		data[VECTOR_SIZE(32)];
		double		align;
	}			shortbuf;		/* 4-byte-header copy of a short value */
} ArgSlot;

typedef struct CallState
{
	const Vector *last[ARG_SLOTS];	/* arguments of the previous call */
	const char *next_lo[ARG_SLOTS]; /* where a sequential scan's next row */
	const char *next_hi[ARG_SLOTS]; /* would be: [next_lo, next_hi) */
	ArgSlot		slots[ARG_SLOTS];
} CallState;

static CallState *
GetCallState(FunctionCallInfo fcinfo)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;

	if (flinfo->fn_extra == NULL)
		flinfo->fn_extra = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(CallState));
	return (CallState *) flinfo->fn_extra;
}

void
VxPrefetchNextRows(FunctionCallInfo fcinfo, const Vector *a, const Vector *b)
{
	CallState  *st;
	const Vector *args[ARG_SLOTS] = {a, b};

	if (fcinfo->flinfo == NULL)
		return;
	st = GetCallState(fcinfo);
	for (int i = 0; i < ARG_SLOTS; i++)
	{
		if (args[i] != st->last[i])
		{
			const char *p = (const char *) args[i];
			const char *from = p - VARSIZE(args[i]) - 64;
			bool		in_order;

			/*
			 * The lowest row of a shared-buffer page: its successor is the
			 * top row of the next page, which a table read in order has
			 * usually placed in the next buffer slot.
			 */
			if (p >= BufferBlocks && p < BufferBlocks + (Size) NBuffers * BLCKSZ)
			{
				const char *page = BufferBlocks + ((Size) (p - BufferBlocks) / BLCKSZ) * BLCKSZ;

				if (from < page + SizeOfPageHeaderData)
				{
					from = page + 2 * BLCKSZ - (p - from);
					if (from >= BufferBlocks + (Size) NBuffers * BLCKSZ)
						from = NULL;
					p = from ? page + 2 * BLCKSZ : NULL;
				}
			}

			/*
			 * Prefetch only while rows come in storage order, each in the
			 * region the previous call predicted (with room for other
			 * columns): an index scan's rows are random, and prefetching
			 * their neighbours only takes memory bandwidth from it.  The
			 * first row of a call site counts as in order.
			 */
			in_order = st->last[i] == NULL ||
				((const char *) args[i] >= st->next_lo[i] && (const char *) args[i] < st->next_hi[i]);
			st->last[i] = args[i];
			st->next_lo[i] = from ? from - VARSIZE(args[i]) - 1024 : NULL;
			st->next_hi[i] = from ? p : NULL;
			if (in_order)
				for (const char *a = from; a && a < p; a += 64)
					__builtin_prefetch(a);
		}
	}
}

Vector *
VxVectorArgSlow(FunctionCallInfo fcinfo, int argno)
{
	struct varlena *p = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno));
	FmgrInfo   *flinfo = fcinfo->flinfo;
	ArgSlot    *slot;

	if (argno >= ARG_SLOTS || flinfo == NULL)
		return (Vector *) PG_DETOAST_DATUM(PG_GETARG_DATUM(argno));
	slot = &GetCallState(fcinfo)->slots[argno];

	/* short header, uncompressed and inline: copy to scratch, no palloc */
	if (!VARATT_IS_EXTERNAL(p) && VARATT_IS_SHORT(p) &&
		VARSIZE_SHORT(p) - VARHDRSZ_SHORT + VARHDRSZ <= sizeof(slot->shortbuf.data))
	{
		Size		datalen = VARSIZE_SHORT(p) - VARHDRSZ_SHORT;

		SET_VARSIZE(slot->shortbuf.data, datalen + VARHDRSZ);
		memcpy(slot->shortbuf.data + VARHDRSZ, VARDATA_SHORT(p), datalen);
		return (Vector *) slot->shortbuf.data;
	}

	return (Vector *) VxArgCacheGet(&slot->cache, fcinfo, argno);
}

/*
 * A toasted argument, detoasted and remembered while the same bytes keep
 * coming back (vector.h); after ARG_GIVE_UP misses in a row it stops
 * caching and detoasts per call.  fcinfo->flinfo must be set.
 */
struct varlena *
VxArgCacheGet(VxArgCache *c, FunctionCallInfo fcinfo, int argno)
{
	struct varlena *p = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno));
	Size		rawlen = VARSIZE_ANY(p);
	MemoryContext old;

	if (c->raw != NULL && c->rawlen == rawlen && memcmp(c->raw, p, rawlen) == 0)
	{
		c->misses = 0;
		return c->value;
	}
	if (c->misses >= ARG_GIVE_UP)
		return PG_DETOAST_DATUM(PG_GETARG_DATUM(argno));

	c->misses++;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	{
		char	   *raw = palloc(rawlen);
		struct varlena *value = PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(argno));

		memcpy(raw, p, rawlen);
		if (c->raw != NULL)
		{
			pfree(c->raw);
			pfree(c->value);
		}
		c->raw = raw;
		c->rawlen = rawlen;
		c->value = value;
	}
	MemoryContextSwitchTo(old);
	return c->value;
}

/* V1: a vector has 1..VECTOR_MAX_DIM elements. */
void
VxCheckDim(int dim)
{
	VxCheckDimOf("vector", dim, VECTOR_MAX_DIM);
}

/* The same rule for any of the vector types (halfvec.h), by name. */
void
VxCheckDimOf(const char *typname, int dim, int maxdim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));
	if (dim > maxdim)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot have more than %d dimensions", typname, maxdim)));
}

/* A value stored in (or cast to) vector(n) must have exactly n elements. */
void
VxCheckExpectedDim(int32 typmod, int dim)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

/* Binary operators need operands of the same dimension. */
void
VxCheckSameDims(const Vector *a, const Vector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", a->dim, b->dim)));
}

/* V2: the slow path of VxCheckElement and VxCheckElementOf. */
void
VxReportBadElement(float value)
{
	VxReportBadElementOf("vector", value);
}

void
VxReportBadElementOf(const char *typname, float value)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in %s", typname)));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("infinite value not allowed in %s", typname)));
}

static void
ReportMalformed(const char *typname, const char *lit, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("malformed %s literal: \"%s\"", typname, lit),
			 errdetail("%s", detail),
			 errhint("A %s literal looks like '[1,2.5,-3e-2]'.", typname)));
}

static inline bool
IsSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Text input of vector and halfvec: '[' number { ',' number } ']' with
 * optional whitespace around every token.  Numbers are whatever strtof
 * accepts apart from NaN and infinities (V2); a value whose magnitude is
 * limit or more (float4's overflow for vector, 65520 for halfvec, which
 * rounds to infinity there) is out of range for the type; values below the
 * smallest denormal round to zero.  Returns the elements, palloc'd, and
 * their count in *dim (1..maxdim).
 */
float *
VxParseVectorLiteral(const char *lit, const char *typname, int maxdim, float limit, int *dim)
{
	float	   *x;
	int			n = 0;
	int			cap = 16;
	const char *p = lit;

	while (IsSpace(*p))
		p++;
	if (*p != '[')
		ReportMalformed(typname, lit, "Vector contents must start with \"[\".");
	p++;
	while (IsSpace(*p))
		p++;
	if (*p == ']')
		VxCheckDimOf(typname, 0, maxdim);

	x = palloc(sizeof(float) * cap);
	for (;;)
	{
		char	   *end;
		float		val;
		bool		range_error;

		if (n == maxdim)
			VxCheckDimOf(typname, n + 1, maxdim);
		while (IsSpace(*p))
			p++;
		if (*p == '\0')
			ReportMalformed(typname, lit, "Unexpected end of input.");
		if (*p == ',' || *p == ']')
			ReportMalformed(typname, lit, "Expected a number.");

		val = VxParseFloat(p, &end, &range_error);
		if (end == p)
			ReportMalformed(typname, lit, "Expected a number.");
		if (range_error || (isfinite(val) && fabsf(val) >= limit))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%s\" is out of range for type %s",
							pnstrdup(p, end - p), typname)));
		VxCheckElementOf(typname, val);

		if (n == cap)
		{
			cap *= 2;
			x = repalloc(x, sizeof(float) * cap);
		}
		x[n++] = val;

		p = end;
		while (IsSpace(*p))
			p++;
		if (*p == ',')
		{
			p++;
			continue;
		}
		if (*p == ']')
		{
			p++;
			break;
		}
		if (*p == '\0')
			ReportMalformed(typname, lit, "Unexpected end of input.");
		ReportMalformed(typname, lit, "Expected \",\" or \"]\" after a number.");
	}

	while (IsSpace(*p))
		p++;
	if (*p != '\0')
		ReportMalformed(typname, lit, "Junk after closing right bracket.");
	*dim = n;
	return x;
}

PG_FUNCTION_INFO_V1(vector_in);
Datum
vector_in(PG_FUNCTION_ARGS)
{
	char	   *lit = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	float	   *x = VxParseVectorLiteral(lit, "vector", VECTOR_MAX_DIM, INFINITY, &dim);
	Vector	   *result;

	VxCheckExpectedDim(typmod, dim);
	result = VxNewVector(dim);
	memcpy(result->x, x, sizeof(float) * dim);
	pfree(x);
	PG_RETURN_VECTOR_P(result);
}

/*
 * Text output: shortest decimal that reads back as the same float4, the
 * same digits as pgvector and float4out with extra_float_digits >= 1.
 */
PG_FUNCTION_INFO_V1(vector_out);
Datum
vector_out(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	char	   *buf = palloc(v->dim * (FLOAT_SHORTEST_DECIMAL_LEN + 1) + 2);
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < v->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(v->x[i], p);
	}
	*p++ = ']';
	*p = '\0';
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(buf);
}

/* vector(n): 1 <= n <= VECTOR_MAX_DIM; the same rule for halfvec(n). */
int32
VxTypmodIn(ArrayType *ta, const char *typname, int maxdim)
{
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errdetail("%s takes exactly one modifier, its number of dimensions.", typname)));
	if (tl[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s must be at least 1", typname)));
	if (tl[0] > maxdim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s cannot exceed %d", typname, maxdim)));
	return tl[0];
}

PG_FUNCTION_INFO_V1(vector_typmod_in);
Datum
vector_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(VxTypmodIn(PG_GETARG_ARRAYTYPE_P(0), "vector", VECTOR_MAX_DIM));
}

PG_FUNCTION_INFO_V1(vector_typmod_out);
Datum
vector_typmod_out(PG_FUNCTION_ARGS)
{
	int32		typmod = PG_GETARG_INT32(0);

	PG_RETURN_CSTRING(typmod < 0 ? pstrdup("") : psprintf("(%d)", typmod));
}

/*
 * The header of vector's and halfvec's binary form, pgvector's wire
 * format: int16 dim, int16 unused (0), then dim elements of elemsize bytes
 * in network byte order, and nothing else in the message.  Checks it all
 * (and the typmod) and returns dim; the caller reads the elements.
 */
int
VxRecvHeader(StringInfo buf, int32 typmod, const char *typname, int maxdim, int elemsize)
{
	int			dim;
	int			unused;
	int			left;

	if (buf->len - buf->cursor < 4)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary %s: header needs 4 bytes, got %d",
						typname, buf->len - buf->cursor)));
	dim = (int16) pq_getmsgint(buf, sizeof(int16));
	unused = (int16) pq_getmsgint(buf, sizeof(int16));
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary %s: reserved field is %d, expected 0", typname, unused)));
	VxCheckDimOf(typname, dim, maxdim);
	left = buf->len - buf->cursor;
	if (left != dim * elemsize)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary %s: %d dimensions need %d bytes of data, got %d",
						typname, dim, dim * elemsize, left)));
	VxCheckExpectedDim(typmod, dim);
	return dim;
}

/* Binary input (VxRecvHeader); every element finite (V2). */
PG_FUNCTION_INFO_V1(vector_recv);
Datum
vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			dim = VxRecvHeader(buf, PG_GETARG_INT32(2), "vector", VECTOR_MAX_DIM, sizeof(float));
	Vector	   *result = VxNewVector(dim);

	for (int i = 0; i < dim; i++)
	{
		result->x[i] = pq_getmsgfloat4(buf);
		VxCheckElement(result->x[i]);
	}
	PG_RETURN_VECTOR_P(result);
}

PG_FUNCTION_INFO_V1(vector_send);
Datum
vector_send(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, 0);
	for (int i = 0; i < v->dim; i++)
		pq_sendfloat4(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * vector(vector, typmod, explicit): the length-coercion cast that enforces
 * vector(n) on assignment.  Dimensions are never truncated or padded.
 */
PG_FUNCTION_INFO_V1(vector);
Datum
vector(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	VxCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_VECTOR_P(v);
}

/*
 * The elements of an integer[], real[], double precision[] or numeric[]
 * cast to vector or halfvec, as float4 (palloc'd, *n of them): checks the
 * array's shape, type, element count (1..maxdim, before deconstructing a
 * huge array to refuse it) and the typmod, then each element in order: not
 * NULL, a finite value whose float4 magnitude is below limit (float4's
 * overflow for vector, 65520 for halfvec), not NaN or infinite.
 */
float *
VxArrayElements(ArrayType *array, int32 typmod, const char *typname, int maxdim,
				float limit, int *n)
{
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	float	   *result;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be one-dimensional to be cast to %s", typname)));
	if (elemtype != INT4OID && elemtype != FLOAT4OID &&
		elemtype != FLOAT8OID && elemtype != NUMERICOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot cast %s to %s", format_type_be(ARR_ELEMTYPE(array)), typname)));

	*n = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	VxCheckDimOf(typname, *n, maxdim);
	VxCheckExpectedDim(typmod, *n);
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign,
					  &elems, &nulls, n);

	result = palloc(sizeof(float) * *n);
	for (int i = 0; i < *n; i++)
	{
		double		d;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("array must not contain nulls"),
					 errdetail("Element %d is NULL.", i + 1)));
		switch (elemtype)
		{
			case INT4OID:
				d = DatumGetInt32(elems[i]);
				break;
			case FLOAT4OID:
				d = DatumGetFloat4(elems[i]);
				break;
			case FLOAT8OID:
				d = DatumGetFloat8(elems[i]);
				break;
			default:
				/* beyond double's range is an out-of-range error here */
				d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, elems[i]));
				break;
		}
		result[i] = (float) d;
		/* a finite value beyond the type's range is out of range, not "infinite" */
		if (isfinite(d) && !(fabsf(result[i]) < limit))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value %g is out of range for type %s", d, typname)));
		VxCheckElementOf(typname, result[i]);
	}
	pfree(elems);
	pfree(nulls);
	return result;
}

/* Casts from integer[], real[], double precision[] and numeric[]. */
PG_FUNCTION_INFO_V1(array_to_vector);
Datum
array_to_vector(PG_FUNCTION_ARGS)
{
	int			n;
	float	   *x = VxArrayElements(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_INT32(1),
									"vector", VECTOR_MAX_DIM, INFINITY, &n);
	Vector	   *result = VxNewVector(n);

	memcpy(result->x, x, sizeof(float) * n);
	pfree(x);
	PG_RETURN_VECTOR_P(result);
}

/* Cast to real[]. */
PG_FUNCTION_INFO_V1(vector_to_float4);
Datum
vector_to_float4(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Datum	   *d = palloc(sizeof(Datum) * v->dim);
	ArrayType  *result;

	for (int i = 0; i < v->dim; i++)
		d[i] = Float4GetDatum(v->x[i]);
	result = construct_array(d, v->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
	pfree(d);
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_POINTER(result);
}

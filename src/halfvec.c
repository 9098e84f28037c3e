/*-------------------------------------------------------------------------
 *
 * halfvec.c
 *	  The halfvec type itself (halfvec.h): text and binary I/O, the typmod
 *	  halfvec(n), casts to and from arrays and vector, and the conversion
 *	  of vector and halfvec datums to float4 for the index access methods.
 *
 * Everything that turns outside data into a HalfVector passes through
 * here (and VxHalfFromFloats, through which halfvec_ops.c builds its
 * results), so this is where H1 and H2 are enforced.  The text parser,
 * the typmod rule and the array decoding are vector.c's, told the type.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "distance.h"
#include "halfvec.h"
#include "vector.h"

HalfVector *
VxNewHalfVector(int dim)
{
	Size		size;
	HalfVector *result;

	VxCheckDimOf("halfvec", dim, HALFVEC_MAX_DIM);
	size = HALFVEC_SIZE(dim);
	result = (HalfVector *) palloc0(size);
	SET_VARSIZE(result, size);
	result->dim = dim;
	return result;
}

/*
 * A halfvec of dim float4 values rounded to binary16 (nearest even).  A
 * value beyond binary16's range (or a NaN) is an error, not an infinity:
 * H2 holds for every result.
 */
HalfVector *
VxHalfFromFloats(const float *x, int dim)
{
	HalfVector *result = VxNewHalfVector(dim);

	vx_kernels->f32_to_f16(x, result->x, dim);
	for (int i = 0; i < dim; i++)
		if (unlikely(HALF_IS_NONFINITE(result->x[i])))
		{
			if (isnan(x[i]) || isinf(x[i]))
				VxReportBadElementOf("halfvec", x[i]);
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value out of range: overflow"),
					 errdetail("Element %d is %g, beyond the range of type halfvec (65504).", i + 1, x[i]),
					 errhint("Scale the values down, or use vector.")));
		}
	return result;
}

/*
 * The indexes take a value's type from the operator class's support
 * function (VxIndexElem); a class whose function does not fit its column's
 * type (only a superuser can build one, and CREATE INDEX does not run
 * amvalidate) would hand them values of another size: refused, never read
 * past.
 */
static void
CheckSize(Size size, Size expected, const char *typname)
{
	if (size != expected)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("indexed value is not a %s", typname),
				 errdetail("Its size is %zu bytes, a %s of its dimensions takes %zu.", size, typname, expected),
				 errhint("The operator class's support function must be for the indexed column's type.")));
}

int
VxVectorDatumFloats(Datum value, float *out, int maxdim)
{
	Vector	   *v = DatumGetVector(value);
	int			dim = v->dim;

	CheckSize(VARSIZE(v), VECTOR_SIZE(dim), "vector");
	if (dim <= maxdim)
		memcpy(out, v->x, sizeof(float) * dim);
	if ((Pointer) v != DatumGetPointer(value))
		pfree(v);
	return dim;
}

int
VxHalfDatumFloats(Datum value, float *out, int maxdim)
{
	HalfVector *h = DatumGetHalfVector(value);
	int			dim = h->dim;

	CheckSize(VARSIZE(h), HALFVEC_SIZE(dim), "halfvec");
	if (dim <= maxdim)
		vx_kernels->f16_to_f32(h->x, out, dim);
	if ((Pointer) h != DatumGetPointer(value))
		pfree(h);
	return dim;
}

static void
CheckHalfElement(uint16 h)
{
	if (unlikely(HALF_IS_NONFINITE(h)))
		VxReportBadElementOf("halfvec", vx_f16_to_f32(h));
}

/* ---- text and binary I/O ---- */

/*
 * Text input: vector's grammar; a number whose magnitude rounds beyond
 * binary16's range (65520 or more) is out of range for the type.
 */
PG_FUNCTION_INFO_V1(halfvec_in);
Datum
halfvec_in(PG_FUNCTION_ARGS)
{
	char	   *lit = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			dim;
	float	   *x = VxParseVectorLiteral(lit, "halfvec", HALFVEC_MAX_DIM, HALF_OVERFLOW, &dim);
	HalfVector *result;

	VxCheckExpectedDim(typmod, dim);
	result = VxHalfFromFloats(x, dim);
	pfree(x);
	PG_RETURN_POINTER(result);
}

/* Text output: each element's shortest float4 decimal, as pgvector prints it. */
PG_FUNCTION_INFO_V1(halfvec_out);
Datum
halfvec_out(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	char	   *buf = palloc(h->dim * (FLOAT_SHORTEST_DECIMAL_LEN + 1) + 2);
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < h->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(vx_f16_to_f32(h->x[i]), p);
	}
	*p++ = ']';
	*p = '\0';
	PG_FREE_IF_COPY(h, 0);
	PG_RETURN_CSTRING(buf);
}

PG_FUNCTION_INFO_V1(halfvec_typmod_in);
Datum
halfvec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(VxTypmodIn(PG_GETARG_ARRAYTYPE_P(0), "halfvec", HALFVEC_MAX_DIM));
}

/* Binary input (VxRecvHeader, vector.c), binary16 elements; H2 checked. */
PG_FUNCTION_INFO_V1(halfvec_recv);
Datum
halfvec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			dim = VxRecvHeader(buf, PG_GETARG_INT32(2), "halfvec", HALFVEC_MAX_DIM, sizeof(uint16));
	HalfVector *result = VxNewHalfVector(dim);

	for (int i = 0; i < dim; i++)
	{
		result->x[i] = (uint16) pq_getmsgint(buf, sizeof(uint16));
		CheckHalfElement(result->x[i]);
	}
	PG_RETURN_POINTER(result);
}

PG_FUNCTION_INFO_V1(halfvec_send);
Datum
halfvec_send(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, h->dim);
	pq_sendint16(&buf, 0);
	for (int i = 0; i < h->dim; i++)
		pq_sendint16(&buf, h->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---- casts ---- */

/* halfvec(halfvec, typmod, explicit): enforces halfvec(n) */
PG_FUNCTION_INFO_V1(halfvec);
Datum
halfvec(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);

	VxCheckExpectedDim(PG_GETARG_INT32(1), h->dim);
	PG_RETURN_POINTER(h);
}

/* From integer[], real[], double precision[] and numeric[]. */
PG_FUNCTION_INFO_V1(array_to_halfvec);
Datum
array_to_halfvec(PG_FUNCTION_ARGS)
{
	int			n;
	float	   *x = VxArrayElements(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_INT32(1),
									"halfvec", HALFVEC_MAX_DIM, HALF_OVERFLOW, &n);
	HalfVector *result = VxHalfFromFloats(x, n);

	pfree(x);
	PG_RETURN_POINTER(result);
}

/* To real[]: exact. */
PG_FUNCTION_INFO_V1(halfvec_to_float4);
Datum
halfvec_to_float4(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	Datum	   *d = palloc(sizeof(Datum) * h->dim);
	ArrayType  *result;

	for (int i = 0; i < h->dim; i++)
		d[i] = Float4GetDatum(vx_f16_to_f32(h->x[i]));
	result = construct_array(d, h->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT);
	pfree(d);
	PG_FREE_IF_COPY(h, 0);
	PG_RETURN_POINTER(result);
}

/* vector -> halfvec: rounded to nearest even; beyond 65504 is an error */
PG_FUNCTION_INFO_V1(vector_to_halfvec);
Datum
vector_to_halfvec(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);

	VxCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	for (int i = 0; i < v->dim; i++)
		if (!(fabsf(v->x[i]) < HALF_OVERFLOW))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value %g is out of range for type halfvec", v->x[i]),
					 errdetail("Element %d of the vector is beyond the range of type halfvec (65504).", i + 1)));
	PG_RETURN_POINTER(VxHalfFromFloats(v->x, v->dim));
}

/* halfvec -> vector: exact */
PG_FUNCTION_INFO_V1(halfvec_to_vector);
Datum
halfvec_to_vector(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	Vector	   *result;

	VxCheckExpectedDim(PG_GETARG_INT32(1), h->dim);
	result = VxNewVector(h->dim);
	vx_kernels->f16_to_f32(h->x, result->x, h->dim);
	PG_RETURN_POINTER(result);
}

/*-------------------------------------------------------------------------
 *
 * fuzz_array_to_vector.c
 *	  Fuzz target: the casts from integer[], real[], double precision[]
 *	  and numeric[] to vector, array_to_vector (src/vector.c), with and
 *	  without a typmod.  The arrays are built as the server builds them
 *	  (any number of dimensions up to 2 here, lower bounds, NULLs with their
 *	  bitmap); the fuzzer chooses their shape and element values.
 *
 * Input:
 *	byte 0		element type: integer, real, double precision, numeric
 *	byte 1		bits 0-1: dimensions (0: an empty array, 1, 2, 3: 1);
 *				bit 2: element (byte 3 mod count) is NULL;
 *				bit 3: a typmod, byte 2 + 1;
 *				bit 4: the elements repeat to a count from bytes 2-3 (big-endian
 *				n): n itself (mod VECTOR_MAX_DIM + 500) from VECTOR_MAX_DIM -
 *				256 on, to reach the limit and pass it, else n mod 1024 (an
 *				input of 16000 elements takes 40 times longer to run)
 *	bytes 2-3	see byte 1 (and the first dimension of two: 1 + byte 2 % 3)
 *	then		the elements: integer 4 bytes, real 4, double 8 (native
 *				order); numeric: a kind byte (0 positive, 1 negative, 2
 *				NaN, 3 Infinity, 4 -Infinity, mod 5), a count of base-10000
 *				digits (mod 8), a 16-bit weight, the digits (16 bits each,
 *				mod 10000)
 * Seeds: corpus/fuzz_array_to_vector.
 *
 * An array may be refused with any ERROR.  An accepted one must give a
 * vector that keeps V1 and V2 of vector.h, has the typmod's dimensions,
 * one element per array element, each the element's value as float4;
 * anything else aborts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"

#include "distance.h"
#include "fuzz.h"
#include "vector.h"

extern Datum array_to_vector(PG_FUNCTION_ARGS);

#define MAX_PARSED 64

typedef struct Input
{
	ArrayType  *array;
	int32		typmod;
	Oid			elemtype;
	int			ndim;
	int			nelems;			/* the array's, NULLs included */
	int			nparsed;		/* distinct values: elems[i] is elems[i % nparsed] */
	Datum	   *elems;			/* [nelems] */
	bool	   *nulls;			/* [nelems] */
} Input;

/* a numeric in the long form (numeric_float8 in shim.c says the layout) */
static Datum
MakeNumeric(const uint8 *p, size_t left, size_t *used)
{
	int			kind,
				ndigits;
	int16		weight;
	int16		digits[8];
	char	   *v;
	uint16		head;
	Size		size;

	if (left < 4)
		return (Datum) 0;
	kind = p[0] % 5;
	ndigits = p[1] % 8;
	memcpy(&weight, p + 2, 2);
	if (left < 4 + 2 * (size_t) ndigits)
		return (Datum) 0;
	for (int i = 0; i < ndigits; i++)
	{
		uint16		d;

		memcpy(&d, p + 4 + 2 * i, 2);
		digits[i] = (int16) (d % 10000);
	}
	*used = 4 + 2 * ndigits;
	if (kind >= 2)
	{
		size = VARHDRSZ + 2;
		v = palloc0(size);
		head = kind == 2 ? 0xC000 : kind == 3 ? 0xD000 : 0xF000;
		memcpy(v + VARHDRSZ, &head, 2);
		SET_VARSIZE(v, size);
		return PointerGetDatum(v);
	}
	/* normalised as the server keeps it: no leading or trailing zero digits */
	while (ndigits > 0 && digits[0] == 0)
	{
		memmove(digits, digits + 1, sizeof(int16) * --ndigits);
		weight--;
	}
	while (ndigits > 0 && digits[ndigits - 1] == 0)
		ndigits--;
	if (ndigits == 0)
		weight = 0, kind = 0;
	size = VARHDRSZ + 4 + 2 * ndigits;
	v = palloc0(size);
	head = (kind == 1 ? 0x4000 : 0) | (uint16) Min(Max(4 * (ndigits - weight - 1), 0), 0x3FFF);
	memcpy(v + VARHDRSZ, &head, 2);
	memcpy(v + VARHDRSZ + 2, &weight, 2);
	memcpy(v + VARHDRSZ + 4, digits, 2 * ndigits);
	SET_VARSIZE(v, size);
	return PointerGetDatum(v);
}

/* the array the server would have built: header, dimensions, bitmap, data */
static ArrayType *
BuildArray(Input *in, int ndim, const int *dims, const int *lbs)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	bool		hasnulls = false;
	Size		datasize = 0;
	Size		overhead;
	ArrayType  *a;
	char	   *p;
	bits8	   *bitmap;

	get_typlenbyvalalign(in->elemtype, &typlen, &typbyval, &typalign);
	for (int i = 0; i < in->nelems; i++)
	{
		if (in->nulls[i])
		{
			hasnulls = true;
			continue;
		}
		datasize = att_addlength_datum(datasize, typlen, in->elems[i]);
		datasize = att_align_nominal(datasize, typalign);
	}
	overhead = hasnulls ? ARR_OVERHEAD_WITHNULLS(ndim, in->nelems) : ARR_OVERHEAD_NONULLS(ndim);
	a = palloc0(overhead + datasize);
	SET_VARSIZE(a, overhead + datasize);
	a->ndim = ndim;
	a->dataoffset = hasnulls ? overhead : 0;
	a->elemtype = in->elemtype;
	memcpy(ARR_DIMS(a), dims, sizeof(int) * ndim);
	memcpy(ARR_LBOUND(a), lbs, sizeof(int) * ndim);
	p = ARR_DATA_PTR(a);
	bitmap = ARR_NULLBITMAP(a);
	for (int i = 0; i < in->nelems; i++)
	{
		if (bitmap && !in->nulls[i])
			bitmap[i / 8] |= 1 << (i % 8);
		if (in->nulls[i])
			continue;
		if (typbyval)
			store_att_byval(p, in->elems[i], typlen);
		else
			memcpy(p, DatumGetPointer(in->elems[i]), VARSIZE(DatumGetPointer(in->elems[i])));
		p = att_addlength_pointer(p, typlen, p);
		p = (char *) att_align_nominal(p, typalign);
	}
	return a;
}

static void
Cast(void *arg)
{
	Input	   *in = arg;
	Vector	   *v = (Vector *) DatumGetPointer(DirectFunctionCall3(array_to_vector,
																  PointerGetDatum(in->array),
																  Int32GetDatum(in->typmod),
																  BoolGetDatum(false)));
	bool		bad = in->ndim != 1 || v->dim != in->nelems || v->dim < 1 || v->dim > VECTOR_MAX_DIM ||
		v->unused != 0 || VARSIZE(v) != VECTOR_SIZE(v->dim) ||
		(in->typmod != -1 && v->dim != in->typmod);
	double		expect[MAX_PARSED];

	/* each distinct value once (numeric goes through its text form) */
	for (int j = 0; !bad && j < Min(in->nparsed, v->dim); j++)
	{
		switch (in->elemtype)
		{
			case INT4OID:
				expect[j] = DatumGetInt32(in->elems[j]);
				break;
			case FLOAT4OID:
				expect[j] = DatumGetFloat4(in->elems[j]);
				break;
			case FLOAT8OID:
				expect[j] = DatumGetFloat8(in->elems[j]);
				break;
			default:
				expect[j] = DatumGetFloat8(DirectFunctionCall1(numeric_float8, in->elems[j]));
				break;
		}
	}
	for (int i = 0; !bad && i < v->dim; i++)
	{
		if (in->nulls[i])
		{
			bad = true;
			break;
		}
		bad = isnan(v->x[i]) || isinf(v->x[i]) || v->x[i] != (float) expect[i % in->nparsed];
	}
	if (bad)
	{
		fprintf(stderr, "array_to_vector accepted an array of %d elements, type %u, typmod %d, "
				"and gave a vector of %d that does not match it\n",
				in->nelems, in->elemtype, in->typmod, v->dim);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	vx_kernels_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const Oid types[] = {INT4OID, FLOAT4OID, FLOAT8OID, NUMERICOID};
	Input		in;
	Datum		parsed[MAX_PARSED];
	int			nparsed = 0;
	int			ndim;
	int			dims[2];
	int			lbs[2];
	size_t		pos = 4;

	if (size < 4)
		return 0;
	VxFuzzBeginInput();
	in.elemtype = types[data[0] % 4];
	ndim = (data[1] & 3) == 3 ? 1 : data[1] & 3;
	in.typmod = (data[1] & 8) ? data[2] + 1 : -1;

	while (nparsed < MAX_PARSED && pos < size)
	{
		size_t		used = 0;

		switch (in.elemtype)
		{
			case INT4OID:
				if (size - pos < 4)
					break;
				{
					int32		x;

					memcpy(&x, data + pos, 4);
					parsed[nparsed++] = Int32GetDatum(x);
				}
				used = 4;
				break;
			case FLOAT4OID:
				if (size - pos < 4)
					break;
				{
					float4		x;

					memcpy(&x, data + pos, 4);
					parsed[nparsed++] = Float4GetDatum(x);
				}
				used = 4;
				break;
			case FLOAT8OID:
				if (size - pos < 8)
					break;
				{
					float8		x;

					memcpy(&x, data + pos, 8);
					parsed[nparsed++] = Float8GetDatum(x);
				}
				used = 8;
				break;
			default:
				{
					Datum		n = MakeNumeric(data + pos, size - pos, &used);

					if (n != (Datum) 0)
						parsed[nparsed++] = n;
				}
				break;
		}
		if (used == 0)
			break;
		pos += used;
	}

	if (data[1] & 16)
	{
		int			n = data[2] << 8 | data[3];

		in.nelems = n >= VECTOR_MAX_DIM - 256 ? n % (VECTOR_MAX_DIM + 500) : n % 1024;
	}
	else
		in.nelems = nparsed;
	in.nparsed = nparsed;
	if (nparsed == 0 || ndim == 0)
		in.nelems = 0, ndim = 0;
	if (ndim == 2)
	{
		dims[0] = 1 + data[2] % 3;
		dims[1] = in.nelems / dims[0];
		in.nelems = dims[0] * dims[1];
		lbs[0] = lbs[1] = 1;
	}
	else
	{
		dims[0] = in.nelems;
		lbs[0] = 1 - (int) (data[3] % 3);
	}
	in.elems = palloc(sizeof(Datum) * Max(in.nelems, 1));
	in.nulls = palloc0(sizeof(bool) * Max(in.nelems, 1));
	for (int i = 0; i < in.nelems; i++)
		in.elems[i] = parsed[i % nparsed];
	if ((data[1] & 4) && in.nelems > 0)
		in.nulls[data[3] % in.nelems] = true;
	in.ndim = ndim;
	in.array = BuildArray(&in, ndim, dims, lbs);
	(void) VxFuzzStep(Cast, &in);
	VxFuzzEndInput();
	return 0;
}

/*-------------------------------------------------------------------------
 *
 * fuzz_vector_in.c
 *	  Fuzz target: the text input of the vector type, vector_in
 *	  (src/vector.c), as the server calls it for a literal, with and
 *	  without the typmod of a vector(n) column.
 *
 * Input: byte 0 chooses the typmod (below 128: none, -1; else n = byte -
 * 127, 1..128); the rest is the literal, up to its first NUL (a cstring).
 * Dictionary: fuzz_vector_in.dict.  Seeds: corpus/fuzz_vector_in.
 *
 * A literal may be refused with any ERROR.  One that is accepted must give
 * a vector that keeps V1 and V2 of vector.h and has the typmod's
 * dimensions, whose text output (vector_out) reads back as the same bits,
 * and whose binary form (vector_send, vector_recv) does too; anything
 * else aborts, as do crashes and sanitizer reports (fuzz.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"

#include "distance.h"
#include "fuzz.h"
#include "vector.h"

extern Datum vector_in(PG_FUNCTION_ARGS);
extern Datum vector_out(PG_FUNCTION_ARGS);
extern Datum vector_recv(PG_FUNCTION_ARGS);
extern Datum vector_send(PG_FUNCTION_ARGS);

typedef struct Input
{
	char	   *literal;
	int32		typmod;
	Vector	   *result;
} Input;

static Vector *
CallIn(char *literal, int32 typmod)
{
	return (Vector *) DatumGetPointer(DirectFunctionCall3(vector_in, CStringGetDatum(literal),
														  ObjectIdGetDatum(InvalidOid),
														  Int32GetDatum(typmod)));
}

static void
Parse(void *arg)
{
	Input	   *in = arg;
	Vector	   *v = CallIn(in->literal, in->typmod);

	/* kept in the input's memory, past the step */
	in->result = MemoryContextAlloc(VxFuzzInputMemory(), VARSIZE(v));
	memcpy(in->result, v, VARSIZE(v));
}

/* V1, V2 and the typmod: what every function may assume of a vector */
static void
CheckVector(const Vector *v, int32 typmod, const char *from)
{
	bool		bad = v->dim < 1 || v->dim > VECTOR_MAX_DIM || v->unused != 0 ||
		VARSIZE(v) != VECTOR_SIZE(v->dim) || (typmod != -1 && v->dim != typmod);

	for (int i = 0; !bad && i < v->dim; i++)
		bad = isnan(v->x[i]) || isinf(v->x[i]);
	if (bad)
	{
		fprintf(stderr, "vector_in accepted an invalid vector (%s)\n", from);
		abort();
	}
}

static void
RoundTrip(void *arg)
{
	Input	   *in = arg;
	Vector	   *v = in->result;
	char	   *text = DatumGetCString(DirectFunctionCall1(vector_out, PointerGetDatum(v)));
	Vector	   *again = CallIn(text, -1);
	bytea	   *bin = DatumGetByteaPP(DirectFunctionCall1(vector_send, PointerGetDatum(v)));
	StringInfoData msg;
	Vector	   *recv;

	if (VARSIZE(again) != VARSIZE(v) || memcmp(again, v, VARSIZE(v)) != 0)
	{
		fprintf(stderr, "vector_out gave \"%.200s\", which reads back as another vector\n", text);
		abort();
	}
	msg.data = VARDATA_ANY(bin);
	msg.len = VARSIZE_ANY_EXHDR(bin);
	msg.maxlen = msg.len;
	msg.cursor = 0;
	recv = (Vector *) DatumGetPointer(DirectFunctionCall3(vector_recv, PointerGetDatum(&msg),
														  ObjectIdGetDatum(InvalidOid),
														  Int32GetDatum(-1)));
	if (VARSIZE(recv) != VARSIZE(v) || memcmp(recv, v, VARSIZE(v)) != 0)
	{
		fprintf(stderr, "vector_send and vector_recv do not give back the vector\n");
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
	Input		in;

	if (size < 1)
		return 0;
	VxFuzzBeginInput();
	in.typmod = data[0] < 128 ? -1 : data[0] - 127;
	in.literal = pnstrdup((const char *) data + 1, size - 1);
	in.result = NULL;
	if (VxFuzzStep(Parse, &in))
	{
		CheckVector(in.result, in.typmod, in.literal);
		if (!VxFuzzStep(RoundTrip, &in))
		{
			fprintf(stderr, "an accepted vector failed its round trip\n");
			abort();
		}
	}
	VxFuzzEndInput();
	return 0;
}

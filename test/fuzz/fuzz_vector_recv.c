/*-------------------------------------------------------------------------
 *
 * fuzz_vector_recv.c
 *	  Fuzz target: the binary input of the vector and halfvec types,
 *	  vector_recv (src/vector.c) and halfvec_recv (src/halfvec.c), as the
 *	  server calls them for a bind parameter or a field of binary COPY: a
 *	  StringInfo holding exactly the field's bytes.  Each input goes to both.
 *
 * Input: byte 0 chooses the typmod (below 128: none, -1; else n = byte -
 * 127, 1..128); the rest is the field.  Seeds: corpus/fuzz_vector_recv.
 *
 * A field may be refused with any ERROR.  One that is accepted must give
 * a vector that keeps V1 and V2 of vector.h (H1 and H2 of halfvec.h) and has the typmod's
 * dimensions, after reading the whole field (the server refuses a field
 * with bytes left over), and vector_send must give the field back byte
 * for byte (the format has one encoding per vector); anything else aborts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"

#include "distance.h"
#include "fuzz.h"
#include "halfvec.h"
#include "vector.h"

extern Datum vector_recv(PG_FUNCTION_ARGS);
extern Datum vector_send(PG_FUNCTION_ARGS);
extern Datum halfvec_recv(PG_FUNCTION_ARGS);
extern Datum halfvec_send(PG_FUNCTION_ARGS);

typedef struct Input
{
	StringInfoData msg;
	int32		typmod;
} Input;

static void
Receive(void *arg)
{
	Input	   *in = arg;
	Vector	   *v = (Vector *) DatumGetPointer(DirectFunctionCall3(vector_recv, PointerGetDatum(&in->msg),
																  ObjectIdGetDatum(InvalidOid),
																  Int32GetDatum(in->typmod)));
	bytea	   *back;
	bool		bad = v->dim < 1 || v->dim > VECTOR_MAX_DIM || v->unused != 0 ||
		VARSIZE(v) != VECTOR_SIZE(v->dim) || (in->typmod != -1 && v->dim != in->typmod) ||
		in->msg.cursor != in->msg.len;

	for (int i = 0; !bad && i < v->dim; i++)
		bad = isnan(v->x[i]) || isinf(v->x[i]);
	if (bad)
	{
		fprintf(stderr, "vector_recv accepted an invalid vector, or left bytes unread\n");
		abort();
	}
	back = DatumGetByteaPP(DirectFunctionCall1(vector_send, PointerGetDatum(v)));
	if (VARSIZE_ANY_EXHDR(back) != in->msg.len ||
		memcmp(VARDATA_ANY(back), in->msg.data, in->msg.len) != 0)
	{
		fprintf(stderr, "vector_send does not give back the field vector_recv accepted\n");
		abort();
	}
}

static void
ReceiveHalf(void *arg)
{
	Input	   *in = arg;
	HalfVector *h = (HalfVector *) DatumGetPointer(DirectFunctionCall3(halfvec_recv, PointerGetDatum(&in->msg),
																	   ObjectIdGetDatum(InvalidOid),
																	   Int32GetDatum(in->typmod)));
	bytea	   *back;
	bool		bad = h->dim < 1 || h->dim > HALFVEC_MAX_DIM || h->unused != 0 ||
		VARSIZE(h) != HALFVEC_SIZE(h->dim) || (in->typmod != -1 && h->dim != in->typmod) ||
		in->msg.cursor != in->msg.len;

	for (int i = 0; !bad && i < h->dim; i++)
		bad = HALF_IS_NONFINITE(h->x[i]);
	if (bad)
	{
		fprintf(stderr, "halfvec_recv accepted an invalid halfvec, or left bytes unread\n");
		abort();
	}
	back = DatumGetByteaPP(DirectFunctionCall1(halfvec_send, PointerGetDatum(h)));
	if (VARSIZE_ANY_EXHDR(back) != in->msg.len ||
		memcmp(VARDATA_ANY(back), in->msg.data, in->msg.len) != 0)
	{
		fprintf(stderr, "halfvec_send does not give back the field halfvec_recv accepted\n");
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
	/* as the server builds it: the bytes, then a NUL not counted in len */
	in.msg.len = in.msg.maxlen = (int) (size - 1);
	in.msg.data = palloc(size);
	memcpy(in.msg.data, data + 1, size - 1);
	in.msg.data[size - 1] = '\0';
	in.msg.cursor = 0;
	(void) VxFuzzStep(Receive, &in);
	in.msg.cursor = 0;
	(void) VxFuzzStep(ReceiveHalf, &in);
	VxFuzzEndInput();
	return 0;
}

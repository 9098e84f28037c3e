/*-------------------------------------------------------------------------
 *
 * fuzz_sparsevec.c
 *	  Fuzz target: the text and binary input of the sparsevec type,
 *	  sparsevec_in and sparsevec_recv (src/sparsevec.c), as the server
 *	  calls them.
 *
 * Input: byte 0 chooses the path and the typmod: bit 0 clear, text (the
 * rest up to its first NUL is the literal); set, binary (the rest is the
 * field).  Bits 1-7 give the typmod: 0 none (-1), else that many
 * dimensions.  Seeds: corpus/fuzz_sparsevec.
 *
 * An input may be refused with any ERROR.  One that is accepted must give
 * a sparsevec that keeps S1 to S3 of sparsevec.h and has the typmod's
 * dimensions, with nothing of a binary field left unread; its text output
 * must read back as the same bytes, and its binary form too (for a binary
 * input: byte for byte the field).  Anything else aborts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"

#include "distance.h"
#include "fuzz.h"
#include "sparsevec.h"

extern Datum sparsevec_in(PG_FUNCTION_ARGS);
extern Datum sparsevec_out(PG_FUNCTION_ARGS);
extern Datum sparsevec_recv(PG_FUNCTION_ARGS);
extern Datum sparsevec_send(PG_FUNCTION_ARGS);

typedef struct Input
{
	bool		binary;
	int32		typmod;
	char	   *literal;
	StringInfoData msg;
	SparseVector *result;
} Input;

static SparseVector *
Recv(StringInfo msg, int32 typmod)
{
	return (SparseVector *) DatumGetPointer(DirectFunctionCall3(sparsevec_recv, PointerGetDatum(msg),
																ObjectIdGetDatum(InvalidOid),
																Int32GetDatum(typmod)));
}

static SparseVector *
In(char *literal, int32 typmod)
{
	return (SparseVector *) DatumGetPointer(DirectFunctionCall3(sparsevec_in, CStringGetDatum(literal),
																ObjectIdGetDatum(InvalidOid),
																Int32GetDatum(typmod)));
}

static void
Parse(void *arg)
{
	Input	   *in = arg;
	SparseVector *s = in->binary ? Recv(&in->msg, in->typmod) : In(in->literal, in->typmod);

	if (in->binary && in->msg.cursor != in->msg.len)
	{
		fprintf(stderr, "sparsevec_recv left %d bytes unread\n", in->msg.len - in->msg.cursor);
		abort();
	}
	in->result = MemoryContextAlloc(VxFuzzInputMemory(), VARSIZE(s));
	memcpy(in->result, s, VARSIZE(s));
}

static void
Check(const SparseVector *s, int32 typmod)
{
	const float *v = SPARSEVEC_VALUES(s);
	bool		bad = s->dim < 1 || s->dim > SPARSEVEC_MAX_DIM || s->nnz < 0 ||
		s->nnz > SPARSEVEC_MAX_NNZ || s->nnz > s->dim || s->unused != 0 ||
		VARSIZE(s) != SPARSEVEC_SIZE(s->nnz) || (typmod != -1 && s->dim != typmod);

	for (int i = 0; !bad && i < s->nnz; i++)
		bad = s->indices[i] < 0 || s->indices[i] >= s->dim ||
			(i > 0 && s->indices[i] <= s->indices[i - 1]) ||
			isnan(v[i]) || isinf(v[i]) || v[i] == 0;
	if (bad)
	{
		fprintf(stderr, "sparsevec input accepted an invalid sparsevec\n");
		abort();
	}
}

static void
RoundTrip(void *arg)
{
	Input	   *in = arg;
	SparseVector *s = in->result;
	char	   *text = DatumGetCString(DirectFunctionCall1(sparsevec_out, PointerGetDatum(s)));
	SparseVector *again = In(text, -1);
	bytea	   *bin = DatumGetByteaPP(DirectFunctionCall1(sparsevec_send, PointerGetDatum(s)));
	StringInfoData msg;
	SparseVector *recv;

	if (VARSIZE(again) != VARSIZE(s) || memcmp(again, s, VARSIZE(s)) != 0)
	{
		fprintf(stderr, "sparsevec_out gave \"%.200s\", which reads back as another sparsevec\n", text);
		abort();
	}
	if (in->binary && (VARSIZE_ANY_EXHDR(bin) != in->msg.len ||
					   memcmp(VARDATA_ANY(bin), in->msg.data, in->msg.len) != 0))
	{
		fprintf(stderr, "sparsevec_send does not give back the field sparsevec_recv accepted\n");
		abort();
	}
	msg.data = VARDATA_ANY(bin);
	msg.len = msg.maxlen = VARSIZE_ANY_EXHDR(bin);
	msg.cursor = 0;
	recv = Recv(&msg, -1);
	if (VARSIZE(recv) != VARSIZE(s) || memcmp(recv, s, VARSIZE(s)) != 0)
	{
		fprintf(stderr, "sparsevec_send and sparsevec_recv do not give back the sparsevec\n");
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
	in.binary = data[0] & 1;
	in.typmod = (data[0] >> 1) == 0 ? -1 : (data[0] >> 1);
	in.result = NULL;
	in.literal = pnstrdup((const char *) data + 1, size - 1);
	in.msg.len = in.msg.maxlen = (int) (size - 1);
	in.msg.data = palloc(size);
	memcpy(in.msg.data, data + 1, size - 1);
	in.msg.data[size - 1] = '\0';
	in.msg.cursor = 0;
	if (VxFuzzStep(Parse, &in))
	{
		Check(in.result, in.typmod);
		if (!VxFuzzStep(RoundTrip, &in))
		{
			fprintf(stderr, "an accepted sparsevec failed its round trip\n");
			abort();
		}
	}
	VxFuzzEndInput();
	return 0;
}

/*-------------------------------------------------------------------------
 *
 * fuzz_typmod_in.c
 *	  Fuzz target: the typmod input of the vector type, vector_typmod_in
 *	  (src/vector.c), which the server calls for vector(...) with the
 *	  modifiers as a cstring[] (each constant or identifier of the
 *	  parenthesis as text).
 *
 * Input: the modifiers, separated by NUL bytes (one or more; at most 8).
 * Seeds: corpus/fuzz_typmod_in.
 *
 * Modifiers may be refused with any ERROR.  Accepted ones must be exactly
 * one integer, and give it back as a typmod within 1..VECTOR_MAX_DIM that
 * vector_typmod_out prints as "(n)"; anything else aborts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "distance.h"
#include "fuzz.h"
#include "vector.h"

extern Datum vector_typmod_in(PG_FUNCTION_ARGS);
extern Datum vector_typmod_out(PG_FUNCTION_ARGS);

typedef struct Input
{
	Datum		mods[8];
	int			nmods;
} Input;

static void
TypmodIn(void *arg)
{
	Input	   *in = arg;
	ArrayType  *arr = construct_array(in->mods, in->nmods, CSTRINGOID, -2, false, TYPALIGN_CHAR);
	int32		typmod = DatumGetInt32(DirectFunctionCall1(vector_typmod_in, PointerGetDatum(arr)));
	char	   *out;
	char		expect[32];

	if (in->nmods != 1 || typmod < 1 || typmod > VECTOR_MAX_DIM)
	{
		fprintf(stderr, "vector_typmod_in accepted %d modifiers as typmod %d\n", in->nmods, typmod);
		abort();
	}
	out = DatumGetCString(DirectFunctionCall1(vector_typmod_out, Int32GetDatum(typmod)));
	snprintf(expect, sizeof(expect), "(%d)", typmod);
	if (strcmp(out, expect) != 0)
	{
		fprintf(stderr, "vector_typmod_out printed \"%s\" for typmod %d\n", out, typmod);
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
	size_t		start = 0;

	VxFuzzBeginInput();
	in.nmods = 0;
	for (size_t i = 0; i <= size && in.nmods < (int) lengthof(in.mods); i++)
		if (i == size || data[i] == '\0')
		{
			in.mods[in.nmods++] = CStringGetDatum(pnstrdup((const char *) data + start, i - start));
			start = i + 1;
		}
	(void) VxFuzzStep(TypmodIn, &in);
	VxFuzzEndInput();
	return 0;
}

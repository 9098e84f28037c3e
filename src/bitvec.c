/*-------------------------------------------------------------------------
 *
 * bitvec.c
 *	  Binary vectors, as pgvector has them: PostgreSQL's own bit type with
 *	  binary_quantize(vector) and binary_quantize(halfvec) (one bit per
 *	  element, set when the element is positive), hamming_distance and jaccard_distance (the <~> and <%>
 *	  operators).  The distances count bits with distance.h's popcount
 *	  kernels (POPCNT, AVX-512BW nibble lookups, NEON vcnt), chosen at run
 *	  time like the other kernels; HNSW's bit operator classes use the same.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/varbit.h"

#include "distance.h"
#include "halfvec.h"
#include "vector.h"

PG_FUNCTION_INFO_V1(binary_quantize);
PG_FUNCTION_INFO_V1(hamming_distance);
PG_FUNCTION_INFO_V1(jaccard_distance);

/* a bit(n) of zeros, and setting bit i (most significant bit first) */
static VarBit *
NewBits(int n)
{
	int			len = VARBITTOTALLEN(n);
	VarBit	   *result = palloc0(len);

	SET_VARSIZE(result, len);
	VARBITLEN(result) = n;
	return result;
}

#define SET_BIT(bits, i) ((bits)[(i) / 8] |= (bits8) (0x80 >> ((i) % 8)))

/* binary_quantize(vector) -> bit(dim): bit i set when element i > 0 */
Datum
binary_quantize(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	VarBit	   *result = NewBits(v->dim);

	for (int i = 0; i < v->dim; i++)
		if (v->x[i] > 0)
			SET_BIT(VARBITS(result), i);
	PG_RETURN_VARBIT_P(result);
}

/*
 * binary_quantize(halfvec): the same bits, read from the binary16 pattern
 * (positive: sign clear and not zero), no conversion.
 */
PG_FUNCTION_INFO_V1(halfvec_binary_quantize);
Datum
halfvec_binary_quantize(PG_FUNCTION_ARGS)
{
	HalfVector *h = PG_GETARG_HALFVEC_P(0);
	VarBit	   *result = NewBits(h->dim);

	for (int i = 0; i < h->dim; i++)
		if ((h->x[i] & 0x8000) == 0 && h->x[i] != 0)
			SET_BIT(VARBITS(result), i);
	PG_RETURN_VARBIT_P(result);
}

static void
CheckSameLength(const VarBit *a, const VarBit *b)
{
	if (VARBITLEN(a) != VARBITLEN(b))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different bit lengths %u and %u", VARBITLEN(a), VARBITLEN(b))));
}

/*
 * The distances count whole bytes with distance.h's popcount kernels: bits
 * past the length are zero in every bit value (PostgreSQL's invariant).
 */

/* hamming_distance(bit, bit), <~>: the number of bits that differ */
Datum
hamming_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);

	CheckSameLength(a, b);
	PG_RETURN_FLOAT8((double) vx_kernels->bit_xor_count(VARBITS(a), VARBITS(b), VARBITBYTES(a)));
}

/*
 * jaccard_distance(bit, bit), <%>: 1 - |a AND b| / |a OR b|; 1 when no bit
 * is set in both (also when none is set at all: no NaN), as pgvector.
 */
Datum
jaccard_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);
	uint64		ab,
				na,
				nb;

	CheckSameLength(a, b);
	ab = vx_kernels->bit_and_count(VARBITS(a), VARBITS(b), VARBITBYTES(a));
	if (ab == 0)
		PG_RETURN_FLOAT8(1.0);
	na = vx_kernels->bit_count(VARBITS(a), VARBITBYTES(a));
	nb = vx_kernels->bit_count(VARBITS(b), VARBITBYTES(b));
	PG_RETURN_FLOAT8(1.0 - (double) ab / (double) (na + nb - ab));
}

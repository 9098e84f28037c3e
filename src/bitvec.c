/*-------------------------------------------------------------------------
 *
 * bitvec.c
 *	  Binary vectors, as pgvector has them: PostgreSQL's own bit type with
 *	  binary_quantize(vector) and binary_quantize(halfvec) (one bit per
 *	  element, set when the element is positive), hamming_distance and jaccard_distance (the <~> and <%>
 *	  operators).  The distances count bits a 64-bit word at a time with
 *	  pg_popcount64, which PostgreSQL dispatches to the CPU's POPCNT
 *	  instruction where there is one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "port/pg_bitutils.h"
#include "utils/varbit.h"

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
 * Bits set in a XOR b (xor) or in a AND b, a, b (and the others), over
 * bytes bytes.  Bits past the length are zero in every bit value
 * (PostgreSQL's invariant), so whole bytes can be counted.
 */
static uint64
CountXor(const bits8 *a, const bits8 *b, int bytes)
{
	uint64		n = 0;
	int			i = 0;

	for (; i + 8 <= bytes; i += 8)
	{
		uint64		x,
					y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		n += pg_popcount64(x ^ y);
	}
	for (; i < bytes; i++)
		n += pg_number_of_ones[a[i] ^ b[i]];
	return n;
}

static void
CountAnd(const bits8 *a, const bits8 *b, int bytes, uint64 *ab, uint64 *na, uint64 *nb)
{
	int			i = 0;

	*ab = *na = *nb = 0;
	for (; i + 8 <= bytes; i += 8)
	{
		uint64		x,
					y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		*ab += pg_popcount64(x & y);
		*na += pg_popcount64(x);
		*nb += pg_popcount64(y);
	}
	for (; i < bytes; i++)
	{
		*ab += pg_number_of_ones[a[i] & b[i]];
		*na += pg_number_of_ones[a[i]];
		*nb += pg_number_of_ones[b[i]];
	}
}

/* hamming_distance(bit, bit), <~>: the number of bits that differ */
Datum
hamming_distance(PG_FUNCTION_ARGS)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);

	CheckSameLength(a, b);
	PG_RETURN_FLOAT8((double) CountXor(VARBITS(a), VARBITS(b), VARBITBYTES(a)));
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
	CountAnd(VARBITS(a), VARBITS(b), VARBITBYTES(a), &ab, &na, &nb);
	if (ab == 0)
		PG_RETURN_FLOAT8(1.0);
	PG_RETURN_FLOAT8(1.0 - (double) ab / (double) (na + nb - ab));
}

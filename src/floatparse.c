/*-------------------------------------------------------------------------
 *
 * floatparse.c
 *	  VxParseFloat: strtof's answer, quickly, for the decimal numbers vector
 *	  literals are made of.  vector_in parses one per element, so for a
 *	  768-dimension query vector this is most of the cost of reading it.
 *	  Plain C (no server headers): test/kernels/test_kernels.c checks it
 *	  against strtof bit for bit.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "floatparse.h"

/*
 * Parse one float4 the way strtof does, quickly for the common case.
 *
 * Fast path (Clinger): a plain decimal [+-]digits[.digits][e[+-]digits] with
 * at most 19 significant digits whose value, as mantissa * 10^e, needs no
 * more than 53 bits of mantissa and |e| <= 22, is computed in double with
 * one correctly rounded operation on exact operands.  Rounding that double
 * to float is then exact-to-strtof unless the double sits exactly on a
 * midpoint between two floats (double rounding); that case, and anything
 * else (more digits, larger exponents, inf, nan, hex), goes to strtof.
 * Returns the parsed value, sets *end (== p when nothing was parsed) and
 * *range_error like strtof's ERANGE.
 */
static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

float
VxParseFloat(const char *p, char **end, bool *range_error)
{
	const char *s = p;
	bool		neg = false;
	uint64_t	mant = 0;
	int			digits = 0;
	int			exp10 = 0;
	bool		any = false;

	*range_error = false;
	if (*s == '-' || *s == '+')
		neg = (*s++ == '-');
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		goto slow;				/* hexadecimal: strtof's */
	while (*s == '0')
	{
		s++;
		any = true;
	}
	while (*s >= '0' && *s <= '9')
	{
		if (digits < 19)
			mant = mant * 10 + (*s - '0');
		else
			exp10++;			/* digits beyond 19: fast path gives up below */
		digits++;
		s++;
		any = true;
	}
	if (*s == '.')
	{
		s++;
		if (digits == 0)
			while (*s == '0')
			{
				s++;
				exp10--;
				any = true;
			}
		while (*s >= '0' && *s <= '9')
		{
			if (digits < 19)
			{
				mant = mant * 10 + (*s - '0');
				exp10--;
			}
			digits++;
			s++;
			any = true;
		}
	}
	if (any && (*s == 'e' || *s == 'E'))
	{
		const char *e = s + 1;
		bool		eneg = false;
		int			ev = 0;

		if (*e == '-' || *e == '+')
			eneg = (*e++ == '-');
		if (*e >= '0' && *e <= '9')
		{
			while (*e >= '0' && *e <= '9')
			{
				if (ev < 10000)
					ev = ev * 10 + (*e - '0');
				e++;
			}
			exp10 += eneg ? -ev : ev;
			s = e;
		}
	}
	if (any && digits <= 19 && mant <= ((uint64_t) 1 << 53) && exp10 >= -22 && exp10 <= 22)
	{
		double		d = (double) mant;
		uint64_t	bits;

		d = exp10 < 0 ? d / pow10_exact[-exp10] : d * pow10_exact[exp10];
		memcpy(&bits, &d, sizeof(bits));
		/* a float midpoint: 29 low mantissa bits are exactly 1000...0 */
		if ((bits & (((uint64_t) 1 << 29) - 1)) != ((uint64_t) 1 << 28) &&
			fabs(d) < 3.4028234663852886e38 && (d == 0 || fabs(d) >= 1.1754943508222875e-38))
		{
			*end = (char *) s;
			return neg ? -(float) d : (float) d;
		}
	}
slow:
	/* everything else: the C library */
	errno = 0;
	{
		float		f = strtof(p, end);

		*range_error = (errno == ERANGE && isinf(f));
		return f;
	}
}

/*
 * floatparse.h: VxParseFloat (floatparse.c), a strtof with a fast exact
 * path for plain decimals.  Plain C.
 */
#ifndef VECTORX_FLOATPARSE_H
#define VECTORX_FLOATPARSE_H

#include <stdbool.h>

/*
 * Parse a float at p like strtof: returns the value, sets *end past it
 * (*end == p if there was no number) and *range_error when strtof would
 * have set ERANGE with an infinite result (the value is out of range).
 */
extern float VxParseFloat(const char *p, char **end, bool *range_error);

#endif

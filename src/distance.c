/*-------------------------------------------------------------------------
 *
 * distance.c
 *	  The choice of the kernel table for this process: CPU detection, the
 *	  list of variants best first, and the table chosen once at load time
 *	  (vx_kernels).  The kernels themselves are distance_scalar.c (the
 *	  reference) and distance_avx2.c, distance_avx512.c, distance_neon.c;
 *	  this file sits above all of them and none of them calls back into it.
 *	  Plain C only: no PostgreSQL headers (see distance.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "distance.h"

/* the table of this process; scalar until vx_kernels_init runs */
const VxKernels *vx_kernels = &vx_kernels_scalar;

/* does this process run the AVX-512 VBMI form of the 8-bit PQ fast scan? */
int
vx_pq8_fast_scan_simd(void)
{
#if defined(__x86_64__)
	return vx_kernels == &vx_kernels_avx512 && vx_avx512_has_vbmi();
#else
	return 0;
#endif
}

/* best first */
const VxKernels *const vx_kernels_all[] = {
#if defined(__x86_64__)
	&vx_kernels_avx512,
	&vx_kernels_avx2,
#endif
#if defined(__aarch64__)
	&vx_kernels_neon,
#endif
	&vx_kernels_scalar,
	NULL
};

/* ---- CPU detection ---- */

#if defined(__x86_64__)
static uint64_t
ReadXcr0(void)
{
	uint32_t	lo,
				hi;

	__asm__ volatile ("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t) hi << 32) | lo;
}

/*
 * avx2:   CPUID AVX2, FMA, F16C and the OS saving YMM state (XCR0 bits 1-2).
 * avx512: additionally AVX-512 F, DQ, BW, VL and the OS saving opmask and
 *         ZMM state (XCR0 bits 5-7).
 */
static int
CpuHas(const char *what)
{
	unsigned	a,
				b,
				c,
				d;
	unsigned	b7 = 0;
	uint64_t	xcr0;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	if (!(c & bit_OSXSAVE) || !(c & bit_AVX) || !(c & bit_FMA) || !(c & bit_F16C))
		return 0;
	xcr0 = ReadXcr0();
	if ((xcr0 & 0x6) != 0x6)
		return 0;
	if (__get_cpuid_max(0, NULL) >= 7)
	{
		__cpuid_count(7, 0, a, b7, c, d);
	}
	if (!(b7 & bit_AVX2))
		return 0;
	if (strcmp(what, "avx2") == 0)
		return 1;
	if ((xcr0 & 0xe0) != 0xe0)
		return 0;
	return (b7 & bit_AVX512F) && (b7 & bit_AVX512DQ) &&
		(b7 & bit_AVX512BW) && (b7 & bit_AVX512VL);
}
#endif

int
vx_kernels_supported(const VxKernels *k)
{
	if (k == &vx_kernels_scalar)
		return 1;
#if defined(__x86_64__)
	if (k == &vx_kernels_avx2)
		return CpuHas("avx2");
	if (k == &vx_kernels_avx512)
		return CpuHas("avx512");
#endif
#if defined(__aarch64__)
	if (k == &vx_kernels_neon)
		return 1;
#endif
	return 0;
}

const VxKernels *
vx_kernels_best(void)
{
	for (int i = 0; vx_kernels_all[i]; i++)
		if (vx_kernels_supported(vx_kernels_all[i]))
			return vx_kernels_all[i];
	return &vx_kernels_scalar;
}

const VxKernels *
vx_kernels_by_name(const char *name)
{
	for (int i = 0; vx_kernels_all[i]; i++)
		if (strcmp(vx_kernels_all[i]->name, name) == 0)
			return vx_kernels_all[i];
	return NULL;
}

/* Choose the kernel table for this process.  Called once from _PG_init. */
void
vx_kernels_init(void)
{
	vx_kernels = vx_kernels_best();
}

/*-------------------------------------------------------------------------
 *
 * vectorx.c
 *	  Module initialisation: the PG_MODULE_MAGIC block and _PG_init, which
 *	  picks the distance kernels for this backend.  Later subsystems
 *	  (index GUCs, planner hooks) register themselves from here too, so
 *	  this file is the map of everything vectorx installs into a backend.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "distance.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	vx_kernels_init();
}

/* SELECT vectorx_simd(): the kernel variant this backend uses. */
PG_FUNCTION_INFO_V1(vectorx_simd);
Datum
vectorx_simd(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(vx_kernels->name));
}

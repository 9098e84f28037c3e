/*-------------------------------------------------------------------------
 *
 * vectorx.c
 *	  Module initialisation: the PG_MODULE_MAGIC block and _PG_init, which
 *	  picks the distance kernels for this backend and defines the GUCs.
 *	  Later subsystems (index GUCs, planner hooks) register themselves from
 *	  here too, so this file is the map of everything vectorx installs into
 *	  a backend.
 *
 * GUCs defined here:
 *	vectorx.simd	auto | scalar | avx2 | avx512 | neon: the distance-kernel
 *					variant; auto (default) is the best the CPU supports.
 *					Other values are for diagnosis and benchmarks ("the same
 *					query with SIMD off"); asking for a variant the CPU
 *					lacks is an error.
 *	vectorx.plain_storage_max_dims   see vector_storage.c
 *	vectorx.query_sample_rate, vectorx.query_sample_size   see monitor.c
 *	hnsw.ef_search, hnsw.max_scan_tuples   see src/hnsw/hnswam.c
 *	ivfpq.probes, ivfpq.rerank   see src/ivfpq/ivfpqam.c
 *	vectorx.filter_strategy   see src/planner/filter.h
 *	vectorx.shard_pushdown, vectorx.shard_probes   see src/planner/shard.h
 *
 * Hooks installed: set_rel_pathlist_hook (src/planner/filterplan.c),
 * planner_hook (src/planner/shard.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "distance.h"
#include "filter.h"
#include "hnsw.h"
#include "ivfpq.h"
#include "monitor.h"
#include "shard.h"
#include "vector.h"
#include "waitpoint.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static char *simd_setting = NULL;

static bool
CheckSimd(char **newval, void **extra, GucSource source)
{
	const VxKernels *k;

	if (strcmp(*newval, "auto") == 0)
		return true;
	k = vx_kernels_by_name(*newval);
	if (k == NULL)
	{
		GUC_check_errdetail("Known variants are auto, scalar, avx2, avx512 and neon; "
							"this build has auto%s%s%s%s.",
#if defined(__x86_64__)
							", avx512", ", avx2",
#else
							"", "",
#endif
#if defined(__aarch64__)
							", neon",
#else
							"",
#endif
							", scalar");
		return false;
	}
	if (!vx_kernels_supported(k))
	{
		GUC_check_errdetail("This CPU does not support the %s kernels.", *newval);
		return false;
	}
	return true;
}

static void
AssignSimd(const char *newval, void *extra)
{
	vx_kernels = strcmp(newval, "auto") == 0 ? vx_kernels_best() : vx_kernels_by_name(newval);
}

void
_PG_init(void)
{
	vx_kernels_init();

	DefineCustomStringVariable("vectorx.simd",
							   "Distance-kernel variant: auto, scalar, avx2, avx512 or neon.",
							   "auto picks the best variant this CPU supports.",
							   &simd_setting,
							   "auto",
							   PGC_USERSET,
							   0,
							   CheckSimd, AssignSimd, NULL);

	VxStorageInit();
	VxMonitorInit();
	HnswInitGucs();
	IvfpqInitGucs();
	VxFilterInit();
	VxShardInit();
	VxShardRouteInit();
	VxWaitPointInit();

	MarkGUCPrefixReserved("vectorx");
}

/* SELECT vectorx_simd(): the kernel variant this backend uses. */
PG_FUNCTION_INFO_V1(vectorx_simd);
Datum
vectorx_simd(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(vx_kernels->name));
}

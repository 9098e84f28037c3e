/*-------------------------------------------------------------------------
 *
 * hnswam.c
 *	  The HNSW access method's handler (the IndexAmRoutine, every field set
 *	  explicitly), its reloptions (m, ef_construction), GUCs (hnsw.ef_search,
 *	  hnsw.max_scan_tuples), operator-class validation, cost estimation (for
 *	  amcostestimate and, through hnsw_index_kind, the filter planner) and
 *	  build-phase names, and hnsw_index_kind, what the layers above see of
 *	  this access method (src/common/indexkind.h).  The top of the access
 *	  method: named apart from hnsw.h, the header every file of src/hnsw
 *	  includes, because it calls into them.  The lifecycle lives in
 *	  hnswbuild.c, hnswinsert.c, hnswscan.c and hnswvacuum.c; hnsw.h
 *	  documents the design.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/amvalidate.h"
#include "access/reloptions.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "commands/vacuum.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "commands/progress.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

#include "hnsw.h"
#include "sparsevec.h"
#include "vxindex.h"

int			hnsw_ef_search = HNSW_DEFAULT_EF_SEARCH;
int			hnsw_max_scan_tuples = HNSW_DEFAULT_MAX_SCAN_TUPLES;
int			hnsw_iterative_scan = VX_ITERATIVE_STRICT;
bool		hnsw_insert_relink = true;
double		hnsw_scan_mem_multiplier = 1;

static relopt_kind hnsw_relopt_kind;

void
HnswInitGucs(void)
{
	hnsw_relopt_kind = add_reloption_kind();
	add_int_reloption(hnsw_relopt_kind, "m",
					  "Maximum number of neighbours per element and level (2m at level 0)",
					  HNSW_DEFAULT_M, HNSW_MIN_M, HNSW_MAX_M, AccessExclusiveLock);
	add_int_reloption(hnsw_relopt_kind, "ef_construction",
					  "Size of the candidate list while building the graph",
					  HNSW_DEFAULT_EF_CONSTRUCTION, HNSW_MIN_EF_CONSTRUCTION,
					  HNSW_MAX_EF_CONSTRUCTION, AccessExclusiveLock);
	add_int_reloption(hnsw_relopt_kind, "nnz",
					  "sparsevec columns: non-zero elements an element keeps, the largest (0: from the rows)",
					  0, 0, SPARSEVEC_MAX_NNZ, AccessExclusiveLock);

	DefineCustomIntVariable("hnsw.ef_search",
							"Size of the candidate list of an HNSW index scan.",
							"Larger is slower and finds more of the true nearest neighbours.",
							&hnsw_ef_search, HNSW_DEFAULT_EF_SEARCH,
							HNSW_MIN_EF_SEARCH, HNSW_MAX_EF_SEARCH,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("hnsw.max_scan_tuples",
							"Elements an HNSW index scan may visit before it stops.",
							"Bounds the work of scans whose rows a WHERE clause keeps rejecting.",
							&hnsw_max_scan_tuples, HNSW_DEFAULT_MAX_SCAN_TUPLES,
							1, INT_MAX, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("hnsw.iterative_scan",
							 "What an HNSW index scan does past its first ef_search candidates.",
							 "strict_order (default) keeps searching and returns rows in exact distance order, "
							 "skipping rows found after farther ones; relaxed_order returns every row found, "
							 "each round in order; off ends the scan after its first round.",
							 &hnsw_iterative_scan, VX_ITERATIVE_STRICT, vx_iterative_scan_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("hnsw.scan_mem_multiplier",
							 "Multiple of work_mem that an HNSW index scan's search may use.",
							 "A scan that keeps searching (a WHERE clause rejects rows) stops once its search "
							 "state passes work_mem times this, as pgvector's does.",
							 &hnsw_scan_mem_multiplier, 1, 1, 1000, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("hnsw.insert_relink",
							 "Whether an insert links the elements its back-links cut off from the graph.",
							 "On (default) keeps every element reachable between VACUUMs; off is for "
							 "measuring what it costs.",
							 &hnsw_insert_relink, true, PGC_USERSET, GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
	MarkGUCPrefixReserved("hnsw");
}

static bytea *
hnswoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"m", RELOPT_TYPE_INT, offsetof(HnswOptions, m)},
		{"ef_construction", RELOPT_TYPE_INT, offsetof(HnswOptions, ef_construction)},
		{"nnz", RELOPT_TYPE_INT, offsetof(HnswOptions, nnz)},
	};
	HnswOptions *opts = (HnswOptions *) build_reloptions(reloptions, validate, hnsw_relopt_kind,
														 sizeof(HnswOptions), tab, lengthof(tab));

	if (opts && opts->ef_construction < 2 * opts->m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be greater than or equal to 2 * m"),
				 errdetail("m is %d and ef_construction is %d.", opts->m, opts->ef_construction)));
	return (bytea *) opts;
}

/*
 * Elements the first round of a scan visits: about ef expansions of up to
 * 2m neighbours each, plus the descent through the upper levels, capped by
 * the index size.  Both cost models below start from it.
 */
static double
FirstRoundVisits(int m, int ef, double tuples)
{
	return Min((double) ef * m * 2 + log(tuples) * m, tuples);
}

/*
 * Cost of an ordered scan.  The index is useless without an ORDER BY.  The
 * work is done before the first row: the first round's visits, each a
 * random page.
 */
static void
hnswcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				 Cost *indexStartupCost, Cost *indexTotalCost,
				 Selectivity *indexSelectivity, double *indexCorrelation,
				 double *indexPages)
{
	GenericCosts costs;
	double		tuples = Max(path->indexinfo->tuples, 1);
	int			m = HNSW_DEFAULT_M;
	double		visited;
	HnswOptions *opts;

	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}
	{
		/* the planner holds a lock on the index already */
		Relation	index = index_open(path->indexinfo->indexoid, NoLock);

		opts = (HnswOptions *) index->rd_options;
		if (opts)
			m = opts->m;
		index_close(index, NoLock);
	}
	visited = FirstRoundVisits(m, hnsw_ef_search, tuples);

	MemSet(&costs, 0, sizeof(costs));
	costs.numIndexTuples = visited;
	genericcostestimate(root, path, loop_count, &costs);

	/* everything happens before the first row */
	*indexStartupCost = costs.indexTotalCost;
	*indexTotalCost = costs.indexTotalCost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}

/*
 * The filter planner's model (indexkind.h, VxScanModel): the first round
 * with ef at least k, then about m elements visited per further row; a
 * visit scores an 8-bit code, a byte per dimension.  An allow-list only
 * narrows what is returned, so the search visits 1/f as many elements.
 */
static void
hnswscanmodel(Relation index, double tuples, double k, VxScanModel *model)
{
	const HnswShape *shape = HnswGetShape(index);
	int			ef = Max(hnsw_ef_search, (int) k);

	/*
	 * the cost of an exact distance: a bit column's counts 64 bits a step,
	 * a sparsevec's merges about as many elements as an element keeps
	 */
	model->dims = shape->codec.elem == VX_ELEM_BIT ? (shape->codec.dims + 63) / 64 :
		shape->codec.elem == VX_ELEM_SPARSE ? 2 * shape->codec.nnz : shape->codec.dims;
	model->first = FirstRoundVisits(shape->m, ef, tuples);
	model->fanout = shape->m;
	model->c_visit = cpu_operator_cost * (4 + shape->codec.code_bytes / 32.0);
	model->reranks = false;
	model->rerank = 0;
	model->filter_exponent = 1;
}

static bool
hnswvalidate(Oid opclassoid)
{
	return VxValidateOpclass(opclassoid, "hnsw");
}

static char *
hnswbuildphasename(int64 phase)
{
	switch (phase)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case HNSW_PHASE_LOAD:
			return "loading tuples";
		case HNSW_PHASE_WRITE:
			return "writing index pages";
		case HNSW_PHASE_OVERFLOW:
			return "inserting tuples beyond maintenance_work_mem";
		default:
			return NULL;
	}
}

PG_FUNCTION_INFO_V1(hnswhandler);
Datum
hnswhandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = 1;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = true;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = hnswbuild;
	am->ambuildempty = hnswbuildempty;
	am->aminsert = hnswinsert;
	am->ambulkdelete = hnswbulkdelete;
	am->amvacuumcleanup = hnswvacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = hnswcostestimate;
	am->amoptions = hnswoptions;
	am->amproperty = NULL;
	am->ambuildphasename = hnswbuildphasename;
	am->amvalidate = hnswvalidate;
	am->amadjustmembers = NULL;
	am->ambeginscan = hnswbeginscan;
	am->amrescan = hnswrescan;
	am->amgettuple = hnswgettuple;
	am->amgetbitmap = NULL;
	am->amendscan = hnswendscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}

const VxIndexKind hnsw_index_kind = {
	.handler = "hnswhandler",
	.ambuild = hnswbuild,
	.amcostestimate = hnswcostestimate,
	.stats = HnswIndexStats,
	.scan_control = HnswScanControl,
	.scan_model = hnswscanmodel,
};

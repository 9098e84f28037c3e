/*-------------------------------------------------------------------------
 *
 * ivfpqam.c
 *	  The IVF-PQ and IVFFlat access methods' handlers (the IndexAmRoutine,
 *	  every field set explicitly), their reloptions (lists, m, nbits;
 *	  IVFFlat: lists), GUCs (ivfpq.probes, ivfpq.rerank,
 *	  ivfpq.iterative_scan; ivfflat.probes, ivfflat.iterative_scan,
 *	  ivfflat.max_probes), operator-class validation, cost estimation (for
 *	  amcostestimate and, through the index kinds, the filter planner) and
 *	  build phase names, and ivfpq_index_kind and ivfflat_index_kind, what
 *	  the layers above see of them (src/common/indexkind.h).  The top of the access
 *	  method: named apart from ivfpq.h, the header every file of src/ivfpq
 *	  includes, because it calls into them.  The lifecycle lives in
 *	  ivfpqbuild.c, ivfpqinsert.c, ivfpqscan.c and ivfpqvacuum.c; ivfpq.h
 *	  documents the design.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/reloptions.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

#include "ivfpq.h"
#include "vxindex.h"

int			ivfpq_probes = IVFPQ_DEFAULT_PROBES;
int			ivfpq_rerank = IVFPQ_DEFAULT_RERANK;
int			ivfpq_iterative_scan = VX_ITERATIVE_STRICT;
int			ivfflat_probes = IVFFLAT_DEFAULT_PROBES;
int			ivfflat_iterative_scan = VX_ITERATIVE_STRICT;
int			ivfflat_max_probes = IVFPQ_MAX_LISTS;

static relopt_kind ivfpq_relopt_kind;
static relopt_kind ivfflat_relopt_kind;

void
IvfpqInitGucs(void)
{
	ivfpq_relopt_kind = add_reloption_kind();
	add_int_reloption(ivfpq_relopt_kind, "lists",
					  "Number of inverted lists (coarse centroids); 0 derives it from the table size",
					  0, 0, IVFPQ_MAX_LISTS, AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "m",
					  "Number of PQ sub-quantizers (code bytes per vector at nbits = 8); 0 derives it from the dimensions",
					  0, 0, IVFPQ_MAX_M, AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "nbits",
					  "Bits per sub-quantizer code: 8, or 4 for fast-scan codes",
					  8, 4, 8, AccessExclusiveLock);

	DefineCustomIntVariable("ivfpq.probes",
							"Number of inverted lists an IVF-PQ index scan searches.",
							"Larger is slower and finds more of the true nearest neighbours.",
							&ivfpq_probes, IVFPQ_DEFAULT_PROBES, 1, IVFPQ_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfpq.rerank",
							"Candidates an IVF-PQ index scan re-ranks by their exact distance.",
							"The best candidates by their PQ codes are re-ranked with the vectors of "
							"their table rows, this many at a time; 0 returns rows in PQ order "
							"(with ivfpq.iterative_scan = relaxed_order only).",
							&ivfpq_rerank, IVFPQ_DEFAULT_RERANK, 0, 100000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("ivfpq.iterative_scan",
							 "What an IVF-PQ index scan does past its first re-rank window.",
							 "strict_order (default) keeps searching and returns rows in exact distance order, "
							 "skipping rows found after farther ones; relaxed_order returns every row found, "
							 "each window in order; off searches the first ivfpq.probes lists only.",
							 &ivfpq_iterative_scan, VX_ITERATIVE_STRICT, vx_iterative_scan_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("ivfpq");

	/* pgvector's names, ranges and defaults (but iterative_scan's: ivfpq.h, IVFFLAT) */
	ivfflat_relopt_kind = add_reloption_kind();
	add_int_reloption(ivfflat_relopt_kind, "lists", "Number of inverted lists",
					  100, 1, 32768, AccessExclusiveLock);
	DefineCustomIntVariable("ivfflat.probes",
							"Number of inverted lists an IVFFlat index scan searches.",
							"Larger is slower and finds more of the true nearest neighbours.",
							&ivfflat_probes, IVFFLAT_DEFAULT_PROBES, 1, 32768,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("ivfflat.iterative_scan",
							 "What an IVFFlat index scan does past its first ivfflat.probes lists.",
							 "strict_order (default) searches further lists while the executor asks for rows "
							 "and returns them in exact distance order, skipping rows found after farther ones; "
							 "relaxed_order returns every row found; off searches the first lists only.",
							 &ivfflat_iterative_scan, VX_ITERATIVE_STRICT, vx_iterative_scan_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ivfflat.max_probes",
							"Most lists an iterative IVFFlat index scan searches.",
							"Counts the first ivfflat.probes lists; at or below them, the first batch only.",
							&ivfflat_max_probes, 32768, 1, 32768,
							PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("ivfflat");
}

static bytea *
ivfpqoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(IvfpqOptions, lists)},
		{"m", RELOPT_TYPE_INT, offsetof(IvfpqOptions, m)},
		{"nbits", RELOPT_TYPE_INT, offsetof(IvfpqOptions, nbits)},
	};
	IvfpqOptions *opts = (IvfpqOptions *) build_reloptions(reloptions, validate, ivfpq_relopt_kind,
														   sizeof(IvfpqOptions), tab, lengthof(tab));

	if (opts && opts->nbits != 4 && opts->nbits != 8)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nbits must be 4 or 8, not %d", opts->nbits),
				 errhint("8-bit codes are the more accurate, 4-bit codes the faster to scan.")));
	return (bytea *) opts;
}

/* ivfflat's options: lists only (pgvector's range and default) */
static bytea *
ivfflatoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(IvfpqOptions, lists)},
	};
	IvfpqOptions *opts = (IvfpqOptions *) build_reloptions(reloptions, validate, ivfflat_relopt_kind,
														   sizeof(IvfpqOptions), tab, lengthof(tab));

	if (opts)
		opts->m = opts->nbits = 0;
	return (bytea *) opts;
}

/*
 * Cost of an ordered scan: the probed lists' codes (a sequential read of
 * probes/lists of the index), then the re-rank's heap rows (random pages;
 * IVFFlat: the rows the executor re-checks, about k).  Everything happens
 * before the first row.
 */
static void
CostEstimate(PlannerInfo *root, IndexPath *path, double loop_count, bool flat,
			 Cost *indexStartupCost, Cost *indexTotalCost,
			 Selectivity *indexSelectivity, double *indexCorrelation,
			 double *indexPages)
{
	GenericCosts costs;
	double		tuples = Max(path->indexinfo->tuples, 1);
	double		lists = Max(sqrt(tuples), 1);
	double		share;
	double		spc_random_page_cost;
	IvfpqOptions *opts;

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

		opts = (IvfpqOptions *) index->rd_options;
		if (opts && opts->lists > 0)
			lists = opts->lists;
		else if (flat)
			lists = 100;
		else if (tuples <= 1e6)
			lists = Max(tuples / 1000, 1);
		index_close(index, NoLock);
	}
	share = Min((double) (flat ? ivfflat_probes : ivfpq_probes) / lists, 1.0);

	MemSet(&costs, 0, sizeof(costs));
	costs.numIndexTuples = share * tuples;
	genericcostestimate(root, path, loop_count, &costs);
	/* the lists are read in page order, not at random */
	costs.indexTotalCost -= costs.numIndexPages * (random_page_cost - seq_page_cost);
	get_tablespace_page_costs(path->indexinfo->reltablespace, &spc_random_page_cost, NULL);
	costs.indexTotalCost += Min(flat ? 10 : ivfpq_rerank, share * tuples) * spc_random_page_cost;

	*indexStartupCost = costs.indexTotalCost;
	*indexTotalCost = costs.indexTotalCost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}

static void
ivfpqcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				  Cost *indexStartupCost, Cost *indexTotalCost,
				  Selectivity *indexSelectivity, double *indexCorrelation,
				  double *indexPages)
{
	CostEstimate(root, path, loop_count, false, indexStartupCost, indexTotalCost,
				 indexSelectivity, indexCorrelation, indexPages);
}

static void
ivfflatcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
					Cost *indexStartupCost, Cost *indexTotalCost,
					Selectivity *indexSelectivity, double *indexCorrelation,
					double *indexPages)
{
	CostEstimate(root, path, loop_count, true, indexStartupCost, indexTotalCost,
				 indexSelectivity, indexCorrelation, indexPages);
}

/*
 * The filter planner's model (indexkind.h, VxScanModel): the first round
 * ranks every list by its centroid (counted in elements' worth of work)
 * and scores the codes of ivfpq.probes of them, then re-ranks at least k
 * candidates from the heap; one element per further row.  Unlike
 * ivfpqcostestimate, which the planner calls before anything is read, it
 * knows the index's real list count.  An allow-list admitting a fraction
 * f widens each batch to probes / sqrt(f) lists (ivfpqscan.c).
 */
static void
ivfpqscanmodel(Relation index, double tuples, double k, VxScanModel *model)
{
	const IvfpqShape *shape = IvfpqGetShape(index);
	double		lists = Max(shape->meta.lists, 1);
	int			dims = shape->meta.dims;
	int			probes = shape->flat ? ivfflat_probes : ivfpq_probes;

	/* an exact distance's cost: a bit column's counts 64 bits a step */
	model->dims = shape->codec.elem == VX_ELEM_BIT ? (dims + 63) / 64 : dims;
	model->first = Min(tuples, tuples / lists * Min(probes, lists));
	model->fanout = 1;
	/* IVFFlat: a pass over the code bytes, as an HNSW element's */
	model->c_visit = cpu_operator_cost * (shape->flat ? 4 + shape->codec.code_bytes / 32.0 : 1 + shape->meta.m / 16.0);
	/* ranking the lists is part of the first round */
	model->first += lists * dims / 32.0 * cpu_operator_cost / model->c_visit;
	model->reranks = true;
	model->rerank = shape->flat ? k : Max(ivfpq_rerank, k);
	model->filter_exponent = 0.5;
}

static bool
ivfpqvalidate(Oid opclassoid)
{
	return VxValidateOpclass(opclassoid, "ivfpq");
}

static bool
ivfflatvalidate(Oid opclassoid)
{
	return VxValidateOpclass(opclassoid, "ivfflat");
}

static char *
ivfpqbuildphasename(int64 phase)
{
	switch (phase)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case IVFPQ_PHASE_SAMPLE:
			return "sampling rows";
		case IVFPQ_PHASE_TRAIN:
			return "training centroids";
		case IVFPQ_PHASE_CODEBOOKS:
			return "training codebooks";
		case IVFPQ_PHASE_ASSIGN:
			return "assigning and encoding rows";
		case IVFPQ_PHASE_WRITE:
			return "writing lists";
		default:
			return NULL;
	}
}

/* the routine both handlers fill; they differ in build, options, cost and validation */
static IndexAmRoutine *
Routine(void)
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

	am->ambuild = ivfpqbuild;
	am->ambuildempty = ivfpqbuildempty;
	am->aminsert = ivfpqinsert;
	am->ambulkdelete = ivfpqbulkdelete;
	am->amvacuumcleanup = ivfpqvacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = ivfpqcostestimate;
	am->amoptions = ivfpqoptions;
	am->amproperty = NULL;
	am->ambuildphasename = ivfpqbuildphasename;
	am->amvalidate = ivfpqvalidate;
	am->amadjustmembers = NULL;
	am->ambeginscan = ivfpqbeginscan;
	am->amrescan = ivfpqrescan;
	am->amgettuple = ivfpqgettuple;
	am->amgetbitmap = NULL;
	am->amendscan = ivfpqendscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;
	return am;
}

PG_FUNCTION_INFO_V1(ivfpqhandler);
Datum
ivfpqhandler(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(Routine());
}

PG_FUNCTION_INFO_V1(ivfflathandler);
Datum
ivfflathandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = Routine();

	am->ambuild = ivfflatbuild;
	am->amcostestimate = ivfflatcostestimate;
	am->amoptions = ivfflatoptions;
	am->amvalidate = ivfflatvalidate;
	PG_RETURN_POINTER(am);
}

const VxIndexKind ivfpq_index_kind = {
	.handler = "ivfpqhandler",
	.ambuild = ivfpqbuild,
	.amcostestimate = ivfpqcostestimate,
	.stats = IvfpqIndexStats,
	.scan_control = IvfpqScanControl,
	.scan_model = ivfpqscanmodel,
};

const VxIndexKind ivfflat_index_kind = {
	.handler = "ivfflathandler",
	.ambuild = ivfflatbuild,
	.amcostestimate = ivfflatcostestimate,
	.stats = IvfpqIndexStats,
	.scan_control = IvfpqScanControl,
	.scan_model = ivfpqscanmodel,
};

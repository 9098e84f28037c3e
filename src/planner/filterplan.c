/*-------------------------------------------------------------------------
 *
 * filterplan.c
 *	  Planning of filtered vector searches (filter.h): the
 *	  set_rel_pathlist_hook that offers one costed CustomPath per filter
 *	  strategy next to an ordered hnsw/ivfpq index path (VxSetRelPathlist
 *	  and its steps), the cost model (the index scan's own part comes from
 *	  its access method, VxIndexKind.scan_model), the plan's private data
 *	  and its (de)serialisation, the GUC vectorx.filter_strategy, and the
 *	  conversion of the chosen path into a CustomScan.  Execution and
 *	  EXPLAIN live in filterexec.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relation.h"
#include "catalog/pg_type.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "filter.h"
#include "registry.h"

int			vx_filter_strategy = VX_FILTER_AUTO;

static const struct config_enum_entry strategy_options[] = {
	{"auto", VX_FILTER_AUTO, false},
	{"prefilter", VX_FILTER_PREFILTER, false},
	{"inscan", VX_FILTER_INSCAN, false},
	{"postfilter", VX_FILTER_POSTFILTER, false},
	{"off", VX_FILTER_OFF, false},
	{NULL, 0, false}
};

static set_rel_pathlist_hook_type prev_set_rel_pathlist = NULL;

static const CustomPathMethods path_methods = {
	.CustomName = "VectorX Filtered Search",
	.PlanCustomPath = VxFilterPlanPath,
};

/*
 * What the cost model knows about one ordered ANN index path: the access
 * method's own model of its scan (VxScanModel, from its VxIndexKind), and
 * the costs of the work around it.  Costs are per unit of work, in
 * PostgreSQL cost units (FILTER COSTS in filter.h).
 */
typedef struct AnnModel
{
	VxScanModel scan;			/* the index scan, as its access method sees it */
	double		tuples;			/* N: the table's rows */
	double		c_accept;		/* one allow-list probe */
	double		c_heap;			/* one heap fetch with the filter */
	double		c_exact;		/* one exact distance from a heap row */
	double		c_rerank;		/* IVF-PQ: exact re-rank of one candidate */
	double		k;				/* rows wanted: the LIMIT, else 10 */
} AnnModel;

/* a strategy's cost: startup, and per row it returns (rows = R) */
typedef struct StrategyCost
{
	Cost		startup;
	Cost		per_row;
} StrategyCost;

static bool
IsAnnIndexPath(Path *path)
{
	IndexPath  *ip;

	if (!IsA(path, IndexPath))
		return false;
	ip = (IndexPath *) path;
	if (ip->indexorderbys == NIL || path->pathkeys == NIL || path->param_info != NULL)
		return false;
	return VxIndexKindOfPath(ip->indexinfo) != NULL;
}

static void
ModelInit(PlannerInfo *root, RelOptInfo *rel, IndexPath *ipath, AnnModel *m)
{
	const VxIndexKind *kind = VxIndexKindOfPath(ipath->indexinfo);
	Relation	index = index_open(ipath->indexinfo->indexoid, NoLock);
	double		op = cpu_operator_cost;
	int			dims;

	MemSet(m, 0, sizeof(*m));

	/*
	 * The rows the index holds: the table's, or a partial index's own (a
	 * per-tenant index, say): the filter then keeps most of what it holds,
	 * not the fraction of the table it would keep.
	 */
	m->tuples = Max(ipath->indexinfo->indpred != NIL ? ipath->indexinfo->tuples : rel->tuples, 1);
	m->k = root->limit_tuples > 0 ? root->limit_tuples : 10;
	kind->scan_model(index, m->tuples, m->k, &m->scan);
	dims = m->scan.dims;
	index_close(index, NoLock);

	m->c_accept = op * 4;
	m->c_exact = op * (8 + dims / 8.0);
	/* the index path's run cost is the heap side of streaming all N rows */
	m->c_heap = Max(ipath->path.total_cost - ipath->path.startup_cost, 0) / m->tuples +
		cpu_tuple_cost;
	m->c_rerank = m->scan.reranks ? m->c_heap + m->c_exact : 0;
}

/* postfilter: the index scan, the filter on each row it returns */
static StrategyCost
PostfilterCost(const AnnModel *m, double s)
{
	StrategyCost c;
	const VxScanModel *scan = &m->scan;
	double		rerank = scan->reranks ? scan->rerank : 0;

	c.startup = scan->first * scan->c_visit + rerank * m->c_rerank;
	c.per_row = (scan->fanout * scan->c_visit + m->c_heap + m->c_rerank) / s;
	return c;
}

/* inscan: the allow-list (selectivity sb, from a bitmap costing bitmap_cost) */
static StrategyCost
InscanCost(const AnnModel *m, double s, double sb, Cost bitmap_cost)
{
	StrategyCost c;
	const VxScanModel *scan = &m->scan;

	/* HNSW: ~1/sb as many visits; IVF-PQ probes 1/sqrt(sb) as many lists */
	double		visits = Min(m->tuples, VxFilteredVisits(scan, sb));
	double		allowed = sb * m->tuples;
	double		rerank = scan->reranks ? Min(scan->rerank, visits * sb) : 0;

	c.startup = bitmap_cost + allowed * 2 * cpu_operator_cost +
		visits * (scan->c_visit + m->c_accept) + rerank * m->c_rerank;
	c.per_row = scan->fanout * (scan->c_visit + m->c_accept) / sb +
		(m->c_heap + m->c_rerank) * sb / s;
	return c;
}

/* what k rows cost: the executor's Limit takes that fraction of the run */
static Cost
CostForK(const AnnModel *m, StrategyCost c, double rows)
{
	return c.startup + c.per_row * Min(m->k, rows);
}

/* prefilter's cost over the sort path of rows matching rows */
static void
PrefilterCost(const AnnModel *m, Path *sort, double rows, Cost *startup, Cost *total)
{
	*startup = sort->startup_cost + rows * m->c_exact;
	*total = sort->total_cost + rows * m->c_exact;
}

/*
 * add_path() frees the paths ours dominate (all but IndexPaths), and ours
 * keep their children: keep flat copies of the ones it could free.
 */
static Path *
KeepPath(Path *p)
{
	Size		size;
	Path	   *copy;

	switch (nodeTag(p))
	{
		case T_IndexPath:
			return p;
		case T_Path:
			size = sizeof(Path);
			break;
		case T_BitmapHeapPath:
			size = sizeof(BitmapHeapPath);
			break;
		default:
			return NULL;
	}
	copy = palloc(size);
	memcpy(copy, p, size);
	return copy;
}

/*
 * The cheapest unordered, unparameterized path: what the filter runs on;
 * and in *bitmap the bitmap path with the most selective index conditions,
 * the source of an allow-list (made from a plain index path when the
 * planner kept no bitmap path: a cheaper index scan dominated it).
 */
static Path *
CheapestFilterPath(PlannerInfo *root, RelOptInfo *rel, BitmapHeapPath **bitmap)
{
	Path	   *best = NULL;
	Selectivity best_sel = 2;
	ListCell   *lc;

	*bitmap = NULL;
	foreach(lc, rel->pathlist)
	{
		Path	   *p = (Path *) lfirst(lc);
		Path	   *bitmapqual = NULL;

		if (p->param_info != NULL ||
			!(IsA(p, Path) || IsA(p, IndexPath) || IsA(p, BitmapHeapPath)))
			continue;
		if (IsA(p, BitmapHeapPath))
			bitmapqual = ((BitmapHeapPath *) p)->bitmapqual;
		else if (IsA(p, IndexPath) && !IsAnnIndexPath(p) &&
				 ((IndexPath *) p)->indexclauses != NIL &&
				 ((IndexPath *) p)->indexinfo->amhasgetbitmap)
			bitmapqual = p;
		if (bitmapqual)
		{
			Cost		cost;
			Selectivity sel;

			cost_bitmap_tree_node(bitmapqual, &cost, &sel);
			if (sel < best_sel)
			{
				best_sel = sel;
				*bitmap = IsA(p, BitmapHeapPath) ? (BitmapHeapPath *) p :
					create_bitmap_heap_path(root, rel, bitmapqual, NULL, 1.0, 0);
			}
		}
		if (IsAnnIndexPath(p))
			continue;
		if (best == NULL || p->total_cost < best->total_cost)
			best = p;
	}
	if (*bitmap)
		*bitmap = (BitmapHeapPath *) KeepPath((Path *) *bitmap);
	return best ? KeepPath(best) : NULL;
}

static bool
ContainsParamWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return true;
	return expression_tree_walker(node, ContainsParamWalker, context);
}

/* ---------------------------------------------------------------- building the paths */

/*
 * What VxSetRelPathlist works out once for a relation and every candidate
 * path shares.
 */
typedef struct FilterPlanning
{
	PlannerInfo *root;
	RelOptInfo *rel;
	IndexPath  *ipath;			/* the ordered ANN index path */
	Path	   *filter;			/* the filter's cheapest unordered path */
	BitmapHeapPath *bitmap;		/* source of an allow-list, or NULL */
	Cost		bitmap_cost;	/* of its bitmap part */
	SortPath   *sort;			/* the filter's path sorted by distance */
	Path	   *prechild;		/* prefilter's child: filter with the LIMIT
								 * known (the node keeps the k nearest), else
								 * sort */
	int			prerole;		/* its role: VX_CHILD_FILTER or VX_CHILD_SORT */
	AnnModel	m;
	double		s;				/* the filter's selectivity */
	double		sb;				/* the allow-list's (its bitmap's) */
	double		bound;			/* the LIMIT when it bounds this relation's
								 * rows, else 0 */
	bool		single;			/* the query's only relation */
	bool		forced;			/* vectorx.filter_strategy is not auto */
	List	   *paths;			/* the candidates made so far */
} FilterPlanning;

/* one candidate (AddPath): its costs, children, and what its plan carries */
typedef struct Candidate
{
	Cost		startup;
	Cost		total;
	List	   *children;		/* custom_paths, in the order of priv.roles */
	VxFilterPrivate priv;
} Candidate;

/* a candidate of strategy `strategy`, the rest of priv zero */
static Candidate
NewCandidate(const FilterPlanning *fp, int strategy, bool forced)
{
	Candidate	c;

	MemSet(&c, 0, sizeof(c));
	c.priv.strategy = strategy;
	c.priv.forced = forced;
	c.priv.selectivity = fp->s;
	c.priv.bound = (int) Min(fp->bound, PG_INT32_MAX);
	c.priv.k = (int) fp->m.k;
	c.priv.note = "";
	c.priv.orderby = (Expr *) linitial(fp->ipath->indexorderbys);
	return c;
}

/* costed as a streaming strategy: startup, then per row */
static void
SetStreamingCost(Candidate *c, StrategyCost sc, double rows)
{
	c->startup = sc.startup;
	c->total = sc.startup + sc.per_row * rows;
}

static void
AddPath(FilterPlanning *fp, const Candidate *c)
{
	CustomPath *cp = makeNode(CustomPath);
	RelOptInfo *rel = fp->rel;

	cp->path.pathtype = T_CustomScan;
	cp->path.parent = rel;
	cp->path.pathtarget = rel->reltarget;
	cp->path.param_info = NULL;
	cp->path.parallel_aware = false;
	cp->path.parallel_safe = false;
	cp->path.parallel_workers = 0;
	cp->path.rows = rel->rows;
	cp->path.startup_cost = c->startup;
	cp->path.total_cost = Max(c->total, c->startup);
	cp->path.pathkeys = fp->ipath->path.pathkeys;
	cp->flags = CUSTOMPATH_SUPPORT_PROJECTION;
	cp->custom_paths = c->children;
	cp->custom_private = VxFilterPrivateToList(&c->priv);
	cp->methods = &path_methods;
	fp->paths = lappend(fp->paths, cp);
}

/*
 * Adaptive plans: the allow-list counts below which prefilter, then inscan,
 * cost least (premax, inmax), and below which prefilter costs less than
 * inscan (prein: the choice once a probe showed postfilter to be bad),
 * found by walking the selectivities the model gives.
 */
static void
Crossovers(const AnnModel *m, RelOptInfo *rel, Path *sort, Cost bitmap_cost, double *premax, double *inmax, double *prein)
{
	double		n = m->tuples;

	*premax = 0;
	*inmax = 0;
	*prein = 0;
	for (double s = 1.0 / n; s <= 1.0; s *= 1.25)
	{
		double		rows = Max(s * n, 1);
		Cost		pre_startup,
					pre_total,
					pre,
					in,
					post;
		StrategyCost pc = PostfilterCost(m, s);
		StrategyCost ic = InscanCost(m, s, s, bitmap_cost);

		/* the sort's cost grows with its rows: rescale the planned one */
		PrefilterCost(m, sort, rows, &pre_startup, &pre_total);
		pre_startup += (rows - rel->rows) * (sort->startup_cost / Max(rel->rows, 1));
		pre = pre_startup;
		in = CostForK(m, ic, rows);
		post = CostForK(m, pc, rows);
		if (pre <= Min(in, post))
			*premax = rows;
		if (in <= post)
			*inmax = rows;
		if (pre <= in)
			*prein = rows;
	}
	*inmax = Max(*inmax, *premax);
}

/*
 * A streaming strategy's children plus the filter's own path, with the
 * LIMIT known: the node answers exactly with it when the index scan ends
 * before LIMIT rows (filterexec.c, Collect).  Planned only, never run
 * unless that happens.
 */
static List *
WithExact(List *children, void *exact, double bound)
{
	return bound > 0 ? lappend(children, exact) : children;
}

/* ---------------------------------------------------------------- the hook, step by step */

/*
 * Is this relation one whose filtered ORDER BY we plan?  A base relation
 * or a partition with restriction clauses, under a query with an ORDER BY
 * that is a plain SELECT without row marks (never in EvalPlanQual, see
 * filterexec.c, Recheck).  enable_indexscan = off asks for no index scans:
 * PostgreSQL's plans.
 */
static bool
Applies(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte)
{
	return vx_filter_strategy != VX_FILTER_OFF && enable_indexscan &&
		rte->rtekind == RTE_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE &&
		(rel->reloptkind == RELOPT_BASEREL || rel->reloptkind == RELOPT_OTHER_MEMBER_REL) &&
		rel->baserestrictinfo != NIL && root->query_pathkeys != NIL &&
		root->parse->commandType == CMD_SELECT && root->rowMarks == NIL;
}

/*
 * The ordered ANN index paths whose order is the query's: each is planned
 * (every index of the column, a partial one per tenant among them: its
 * filter keeps most of what it holds), and add_path keeps the cheapest.
 */
static List *
OrderedAnnPaths(PlannerInfo *root, RelOptInfo *rel)
{
	List	   *paths = NIL;
	ListCell   *lc;

	foreach(lc, rel->pathlist)
	{
		Path	   *p = (Path *) lfirst(lc);

		if (IsAnnIndexPath(p) && pathkeys_contained_in(root->query_pathkeys, p->pathkeys))
			paths = lappend(paths, p);
	}
	return paths;
}

/*
 * What every candidate shares: the LIMIT's reach, the cost model, the
 * selectivities, the sorted filter path and prefilter's child.
 */
static void
Prepare(FilterPlanning *fp)
{
	PlannerInfo *root = fp->root;
	RelOptInfo *rel = fp->rel;
	double		n;

	/*
	 * A single relation (or a partition of one): the rows above us are the
	 * query's, so the LIMIT bounds the sort; else the sort is unbounded.
	 */
	fp->single = bms_membership(root->all_baserels) == BMS_SINGLETON;
	fp->bound = fp->single && root->limit_tuples > 0 ? root->limit_tuples : 0;
	fp->forced = vx_filter_strategy != VX_FILTER_AUTO;

	ModelInit(root, rel, fp->ipath, &fp->m);
	n = fp->m.tuples;
	fp->s = Min(Max(rel->rows / n, 1.0 / n), 1.0);
	fp->sb = 1;
	fp->bitmap_cost = 0;
	if (fp->bitmap)
	{
		cost_bitmap_tree_node(fp->bitmap->bitmapqual, &fp->bitmap_cost, &fp->sb);
		fp->sb = Min(Max(fp->sb, fp->s), 1.0);
	}
	fp->sort = create_sort_path(root, rel, fp->filter, fp->ipath->path.pathkeys,
								fp->bound > 0 ? fp->bound : -1);
	/* with the LIMIT known, the node keeps the k nearest itself (filter.h) */
	if (fp->bound > 0)
	{
		fp->prechild = fp->filter;
		fp->prerole = VX_CHILD_FILTER;
	}
	else
	{
		fp->prechild = &fp->sort->path;
		fp->prerole = VX_CHILD_SORT;
	}
}

/* does any restriction clause compare with a parameter (a generic plan)? */
static bool
FilterHasParams(RelOptInfo *rel)
{
	ListCell   *lc;
	bool		params = false;

	foreach(lc, rel->baserestrictinfo)
		params |= ContainsParamWalker((Node *) ((RestrictInfo *) lfirst(lc))->clause, NULL);
	return params;
}

/* the children of a plan that can run any strategy: index, prefilter's, bitmap */
static void
SetAllChildren(const FilterPlanning *fp, Candidate *c)
{
	c->children = list_make3(fp->ipath, fp->prechild, fp->bitmap);
	c->priv.roles = list_make3(makeInteger(VX_CHILD_INDEX),
							   makeInteger(fp->prerole),
							   makeInteger(VX_CHILD_BITMAP));
}

/*
 * Generic plan: choose when it runs (filter.h, PLANNING).  Costed as the
 * strategy the estimate favours (what it will most likely run), so that
 * plancache compares it fairly with custom plans.
 */
static void
AddAdaptive(FilterPlanning *fp, Cost pre_startup, Cost pre_total)
{
	RelOptInfo *rel = fp->rel;
	const AnnModel *m = &fp->m;
	StrategyCost pc = PostfilterCost(m, fp->s);
	StrategyCost ic = InscanCost(m, fp->s, fp->sb, fp->bitmap_cost);
	Candidate	c = NewCandidate(fp, -1, false);

	c.startup = pre_startup;
	c.total = pre_total;
	if (CostForK(m, ic, rel->rows) < c.startup)
		SetStreamingCost(&c, ic, rel->rows);
	if (CostForK(m, pc, rel->rows) < Min(c.startup, CostForK(m, ic, rel->rows)))
		SetStreamingCost(&c, pc, rel->rows);

	Crossovers(m, rel, &fp->sort->path, fp->bitmap_cost,
			   &c.priv.premax, &c.priv.inmax, &c.priv.prein);

	/*
	 * Estimated weak (postfilter's side of the crossover): probe the index
	 * for k / s_post TIDs before building any allow-list.
	 */
	if (rel->rows > c.priv.inmax)
		c.priv.probe = Max(ceil(m->k * m->tuples / Max(c.priv.inmax, 1)), m->k);
	SetAllChildren(fp, &c);
	AddPath(fp, &c);
}

static void
AddPrefilter(FilterPlanning *fp, Cost pre_startup, Cost pre_total)
{
	Candidate	c = NewCandidate(fp, VX_FILTER_PREFILTER, fp->forced);

	c.startup = pre_startup;
	c.total = pre_total;
	c.children = list_make1(fp->prechild);
	c.priv.roles = list_make1(makeInteger(fp->prerole));
	AddPath(fp, &c);
}

/* postfilter: the index scan, then (LIMIT known) the filter's own path */
static void
AddPostfilter(FilterPlanning *fp, bool forced, const char *note)
{
	Candidate	c = NewCandidate(fp, VX_FILTER_POSTFILTER, forced);

	SetStreamingCost(&c, PostfilterCost(&fp->m, fp->s), fp->rel->rows);
	c.children = WithExact(list_make1(fp->ipath), fp->prechild, fp->bound);
	c.priv.roles = WithExact(list_make1(makeInteger(VX_CHILD_INDEX)),
							 makeInteger(fp->prerole), fp->bound);
	c.priv.note = note;
	AddPath(fp, &c);
}

/*
 * Postfilter with a way out: the statistics cannot see a filter whose rows
 * lie away from the query's neighbours.  If 4 k / s heap TIDs bring fewer
 * than k rows, the node builds the allow-list and takes prefilter or
 * inscan.
 */
static void
AddPostfilterWayOut(FilterPlanning *fp)
{
	const AnnModel *m = &fp->m;
	Candidate	c = NewCandidate(fp, VX_FILTER_POSTFILTER, false);

	SetStreamingCost(&c, PostfilterCost(m, fp->s), fp->rel->rows);
	Crossovers(m, fp->rel, &fp->sort->path, fp->bitmap_cost,
			   &c.priv.premax, &c.priv.inmax, &c.priv.prein);
	c.priv.probe = Min(ceil(4 * m->k / fp->s), m->tuples);
	SetAllChildren(fp, &c);
	AddPath(fp, &c);
}

/* inscan: the index scan with the allow-list, then (LIMIT known) the filter's path */
static void
AddInscan(FilterPlanning *fp)
{
	Candidate	c = NewCandidate(fp, VX_FILTER_INSCAN, fp->forced);

	SetStreamingCost(&c, InscanCost(&fp->m, fp->s, fp->sb, fp->bitmap_cost), fp->rel->rows);
	c.children = WithExact(list_make2(fp->ipath, fp->bitmap), fp->prechild, fp->bound);
	c.priv.roles = WithExact(list_make2(makeInteger(VX_CHILD_INDEX),
										makeInteger(VX_CHILD_BITMAP)),
							 makeInteger(fp->prerole), fp->bound);
	AddPath(fp, &c);
}

/*
 * The candidates: one adaptive path for a generic plan that has a bitmap
 * path, else one per strategy vectorx.filter_strategy allows (inscan only
 * with a bitmap path; a forced inscan without one falls back to
 * postfilter, and says why).
 */
static void
AddCandidates(FilterPlanning *fp)
{
	Cost		pre_startup,
				pre_total;
	int			want = vx_filter_strategy;
	const char *note = "";

	PrefilterCost(&fp->m, &fp->sort->path, fp->rel->rows, &pre_startup, &pre_total);
	if (want == VX_FILTER_INSCAN && fp->bitmap == NULL)
	{
		want = VX_FILTER_POSTFILTER;
		note = "inscan needs an index on a filter column";
	}

	if (!fp->forced && fp->bitmap && FilterHasParams(fp->rel))
	{
		AddAdaptive(fp, pre_startup, pre_total);
		return;
	}
	if (want == VX_FILTER_AUTO || want == VX_FILTER_PREFILTER)
		AddPrefilter(fp, pre_startup, pre_total);
	if (want == VX_FILTER_POSTFILTER && !(fp->bitmap && !fp->forced))
		AddPostfilter(fp, fp->forced, note);
	else if (want == VX_FILTER_AUTO && fp->bitmap == NULL)
		AddPostfilter(fp, false, note);
	else if (want == VX_FILTER_AUTO)
		AddPostfilterWayOut(fp);
	if (fp->bitmap && (want == VX_FILTER_AUTO || want == VX_FILTER_INSCAN))
		AddInscan(fp);
}

static void
VxSetRelPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	FilterPlanning fp;
	List	   *ipaths;
	ListCell   *lc;

	if (prev_set_rel_pathlist)
		prev_set_rel_pathlist(root, rel, rti, rte);
	if (!Applies(root, rel, rte))
		return;
	MemSet(&fp, 0, sizeof(fp));
	fp.root = root;
	fp.rel = rel;
	ipaths = OrderedAnnPaths(root, rel);
	if (ipaths == NIL)
		return;
	fp.filter = CheapestFilterPath(root, rel, &fp.bitmap);
	if (fp.filter == NULL)
		return;
	foreach(lc, ipaths)
	{
		fp.ipath = (IndexPath *) lfirst(lc);
		Prepare(&fp);
		AddCandidates(&fp);
	}

	/*
	 * Our paths replace the plain ones when the choice is ours to make: a
	 * forced strategy, or a query over this relation alone (its result must
	 * come out in this order anyway).  Otherwise they compete in joins.
	 */
	if (fp.forced || fp.single)
	{
		rel->pathlist = NIL;
		rel->partial_pathlist = NIL;
	}
	foreach(lc, fp.paths)
		add_path(rel, (Path *) lfirst(lc));
}

/* the chosen path as a CustomScan over its children's plans */
Plan *
VxFilterPlanPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path, List *tlist,
				 List *clauses, List *custom_plans)
{
	CustomScan *cs = makeNode(CustomScan);
	VxFilterPrivate priv;
	List	   *plans = NIL;
	Plan	   *rows_from = NULL;
	ListCell   *lc,
			   *lr;

	VxFilterPrivateFromList(best_path->custom_private, &priv);
	forboth(lc, custom_plans, lr, priv.roles)
	{
		Plan	   *plan = (Plan *) lfirst(lc);

		switch (intVal(lfirst(lr)))
		{
			case VX_CHILD_BITMAP:
				/* only the bitmap part: the heap is read by the index child */
				Assert(IsA(plan, BitmapHeapScan));
				plan = outerPlan(plan);
				break;
			case VX_CHILD_INDEX:
				rows_from = plan;
				break;
			case VX_CHILD_SORT:
			case VX_CHILD_FILTER:
				if (rows_from == NULL)
					rows_from = plan;
				break;
		}
		plans = lappend(plans, plan);
	}

	/*
	 * The children evaluate the filter (each was planned with all of rel's
	 * restriction clauses), so the node has no quals.  Its scan tuple is
	 * the index child's row (the sort child's carries one more column, the
	 * sort key, after the same ones).
	 */
	cs->scan.plan.targetlist = tlist;
	cs->scan.plan.qual = NIL;
	cs->scan.scanrelid = 0;
	cs->flags = best_path->flags;
	cs->custom_plans = plans;
	/* the distance, for a prefilter that keeps the k nearest itself */
	cs->custom_exprs = list_make1(copyObject(priv.orderby));
	cs->custom_private = best_path->custom_private;
	cs->custom_scan_tlist = NIL;
	foreach(lc, rows_from->targetlist)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);

		if (tle->resjunk)
			break;
		cs->custom_scan_tlist = lappend(cs->custom_scan_tlist, copyObject(tle));
	}
	cs->custom_relids = rel->relids;
	cs->methods = NULL;			/* set by filterexec.c */
	return VxFilterExecPlan(cs);
}

void
VxFilterInit(void)
{
	DefineCustomEnumVariable("vectorx.filter_strategy",
							 "How a filtered ORDER BY <distance> LIMIT query uses a vector index.",
							 "auto chooses per query from the filter's estimated selectivity; "
							 "prefilter, inscan and postfilter force one strategy; off leaves "
							 "planning to PostgreSQL alone.",
							 &vx_filter_strategy, VX_FILTER_AUTO, strategy_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	prev_set_rel_pathlist = set_rel_pathlist_hook;
	set_rel_pathlist_hook = VxSetRelPathlist;
}

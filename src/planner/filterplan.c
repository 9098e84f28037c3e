/*-------------------------------------------------------------------------
 *
 * filterplan.c
 *	  Planning of filtered vector searches (filter.h): the
 *	  set_rel_pathlist_hook that offers one costed CustomPath per filter
 *	  strategy next to an ordered hnsw/ivfpq index path, the cost model,
 *	  the GUC vectorx.filter_strategy, and the conversion of the chosen path
 *	  into a CustomScan.  Execution and EXPLAIN live in filterexec.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relation.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
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
	m->tuples = Max(rel->tuples, 1);
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

static CustomPath *
MakePath(PlannerInfo *root, RelOptInfo *rel, IndexPath *ipath, int strategy, bool forced,
		 double sel, double bound, Cost startup, Cost total, List *children, List *roles,
		 double premax, double inmax, double prein, double probe, int k, const char *note)
{
	CustomPath *cp = makeNode(CustomPath);

	cp->path.pathtype = T_CustomScan;
	cp->path.parent = rel;
	cp->path.pathtarget = rel->reltarget;
	cp->path.param_info = NULL;
	cp->path.parallel_aware = false;
	cp->path.parallel_safe = false;
	cp->path.parallel_workers = 0;
	cp->path.rows = rel->rows;
	cp->path.startup_cost = startup;
	cp->path.total_cost = Max(total, startup);
	cp->path.pathkeys = ipath->path.pathkeys;
	cp->flags = CUSTOMPATH_SUPPORT_PROJECTION;
	cp->custom_paths = children;
	cp->custom_private = list_make5(makeInteger(strategy),
									makeInteger(forced ? 1 : 0),
									makeFloat(psprintf("%.6g", sel)),
									makeInteger((int) Min(bound, PG_INT32_MAX)),
									roles);
	cp->custom_private = lappend(cp->custom_private, makeFloat(psprintf("%.6g", premax)));
	cp->custom_private = lappend(cp->custom_private, makeFloat(psprintf("%.6g", inmax)));
	cp->custom_private = lappend(cp->custom_private, makeString(pstrdup(note)));
	cp->custom_private = lappend(cp->custom_private, makeFloat(psprintf("%.6g", probe)));
	cp->custom_private = lappend(cp->custom_private, makeInteger(k));
	cp->custom_private = lappend(cp->custom_private, linitial(ipath->indexorderbys));
	cp->custom_private = lappend(cp->custom_private, makeFloat(psprintf("%.6g", prein)));
	cp->methods = &path_methods;
	return cp;
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

static void
VxSetRelPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	IndexPath  *ipath = NULL;
	BitmapHeapPath *bitmap;
	Path	   *filter;
	SortPath   *sort;
	Path	   *prechild;
	int			prerole;
	AnnModel	m;
	ListCell   *lc;
	double		s,
				sb = 1,
				bound;
	Cost		bitmap_cost = 0;
	bool		single,
				forced = vx_filter_strategy != VX_FILTER_AUTO;
	List	   *paths = NIL;
	const char *note = "";

	if (prev_set_rel_pathlist)
		prev_set_rel_pathlist(root, rel, rti, rte);
	/* enable_indexscan = off asks for no index scans: PostgreSQL's plans */
	if (vx_filter_strategy == VX_FILTER_OFF || !enable_indexscan ||
		rte->rtekind != RTE_RELATION || rte->relkind == RELKIND_PARTITIONED_TABLE ||
		(rel->reloptkind != RELOPT_BASEREL && rel->reloptkind != RELOPT_OTHER_MEMBER_REL) ||
		rel->baserestrictinfo == NIL || root->query_pathkeys == NIL ||
		root->parse->commandType != CMD_SELECT || root->rowMarks != NIL)
		return;

	/* the ordered ANN index path whose order is the query's */
	foreach(lc, rel->pathlist)
	{
		Path	   *p = (Path *) lfirst(lc);

		if (IsAnnIndexPath(p) && pathkeys_contained_in(root->query_pathkeys, p->pathkeys) &&
			(ipath == NULL || p->startup_cost < ipath->path.startup_cost))
			ipath = (IndexPath *) p;
	}
	if (ipath == NULL)
		return;
	filter = CheapestFilterPath(root, rel, &bitmap);
	if (filter == NULL)
		return;

	/*
	 * A single relation (or a partition of one): the rows above us are the
	 * query's, so the LIMIT bounds the sort; else the sort is unbounded.
	 */
	single = bms_membership(root->all_baserels) == BMS_SINGLETON;
	bound = single && root->limit_tuples > 0 ? root->limit_tuples : 0;

	ModelInit(root, rel, ipath, &m);
	s = Min(Max(rel->rows / m.tuples, 1.0 / m.tuples), 1.0);
	if (bitmap)
	{
		cost_bitmap_tree_node(bitmap->bitmapqual, &bitmap_cost, &sb);
		sb = Min(Max(sb, s), 1.0);
	}
	sort = create_sort_path(root, rel, filter, ipath->path.pathkeys, bound > 0 ? bound : -1);
	/* with the LIMIT known, the node keeps the k nearest itself (filter.h) */
	if (bound > 0)
	{
		prechild = filter;
		prerole = VX_CHILD_FILTER;
	}
	else
	{
		prechild = &sort->path;
		prerole = VX_CHILD_SORT;
	}

	/* the candidates */
	{
		Cost		pre_startup,
					pre_total;
		StrategyCost pc = PostfilterCost(&m, s);
		bool		params = false;
		int			want = vx_filter_strategy;

		PrefilterCost(&m, &sort->path, rel->rows, &pre_startup, &pre_total);

		foreach(lc, rel->baserestrictinfo)
			params |= ContainsParamWalker((Node *) ((RestrictInfo *) lfirst(lc))->clause, NULL);

		if (want == VX_FILTER_INSCAN && bitmap == NULL)
		{
			want = VX_FILTER_POSTFILTER;
			note = "inscan needs an index on a filter column";
		}

		if (!forced && params && bitmap)
		{
			/* generic plan: choose when it runs (filter.h, PLANNING) */
			double		premax,
						inmax,
						prein;
			StrategyCost ic = InscanCost(&m, s, sb, bitmap_cost);
			Cost		startup = pre_startup,
						total = pre_total;
			double		probe = 0;

			/*
			 * Costed as the strategy the estimate favours (what it will most
			 * likely run), so that plancache compares it fairly with custom
			 * plans.
			 */
			if (CostForK(&m, ic, rel->rows) < startup)
			{
				startup = ic.startup;
				total = ic.startup + ic.per_row * rel->rows;
			}
			if (CostForK(&m, pc, rel->rows) < Min(startup, CostForK(&m, ic, rel->rows)))
			{
				startup = pc.startup;
				total = pc.startup + pc.per_row * rel->rows;
			}

			Crossovers(&m, rel, &sort->path, bitmap_cost, &premax, &inmax, &prein);

			/*
			 * Estimated weak (postfilter's side of the crossover): probe the
			 * index for k / s_post TIDs before building any allow-list.
			 */
			if (rel->rows > inmax)
				probe = Max(ceil(m.k * m.tuples / Max(inmax, 1)), m.k);
			paths = lappend(paths,
							MakePath(root, rel, ipath, -1, false, s, bound,
									 startup, total,
									 list_make3(ipath, prechild, bitmap),
									 list_make3(makeInteger(VX_CHILD_INDEX),
												makeInteger(prerole),
												makeInteger(VX_CHILD_BITMAP)),
									 premax, inmax, prein, probe, (int) m.k, ""));
		}
		else
		{
			if (want == VX_FILTER_AUTO || want == VX_FILTER_PREFILTER)
				paths = lappend(paths,
								MakePath(root, rel, ipath, VX_FILTER_PREFILTER, forced, s, bound,
										 pre_startup, pre_total,
										 list_make1(prechild),
										 list_make1(makeInteger(prerole)), 0, 0, 0, 0, (int) m.k, ""));
			if (want == VX_FILTER_POSTFILTER && !(bitmap && !forced))
				paths = lappend(paths,
								MakePath(root, rel, ipath, VX_FILTER_POSTFILTER, forced, s, bound,
										 pc.startup, pc.startup + pc.per_row * rel->rows,
										 WithExact(list_make1(ipath), prechild, bound),
										 WithExact(list_make1(makeInteger(VX_CHILD_INDEX)),
												   makeInteger(prerole), bound),
										 0, 0, 0, 0, (int) m.k, note));
			else if (want == VX_FILTER_AUTO && bitmap == NULL)
				paths = lappend(paths,
								MakePath(root, rel, ipath, VX_FILTER_POSTFILTER, false, s, bound,
										 pc.startup, pc.startup + pc.per_row * rel->rows,
										 WithExact(list_make1(ipath), prechild, bound),
										 WithExact(list_make1(makeInteger(VX_CHILD_INDEX)),
												   makeInteger(prerole), bound),
										 0, 0, 0, 0, (int) m.k, note));
			else if (want == VX_FILTER_AUTO)
			{
				/*
				 * Postfilter with a way out: the statistics cannot see a
				 * filter whose rows lie away from the query's neighbours.
				 * If 4 k / s heap TIDs bring fewer than k rows, the node
				 * builds the allow-list and takes prefilter or inscan.
				 */
				double		premax,
							inmax,
							prein;

				Crossovers(&m, rel, &sort->path, bitmap_cost, &premax, &inmax, &prein);
				paths = lappend(paths,
								MakePath(root, rel, ipath, VX_FILTER_POSTFILTER, false, s, bound,
										 pc.startup, pc.startup + pc.per_row * rel->rows,
										 list_make3(ipath, prechild, bitmap),
										 list_make3(makeInteger(VX_CHILD_INDEX),
													makeInteger(prerole),
													makeInteger(VX_CHILD_BITMAP)),
										 premax, inmax, prein,
										 Min(ceil(4 * m.k / s), m.tuples), (int) m.k, ""));
			}
			if (bitmap && (want == VX_FILTER_AUTO || want == VX_FILTER_INSCAN))
			{
				StrategyCost ic = InscanCost(&m, s, sb, bitmap_cost);

				paths = lappend(paths,
								MakePath(root, rel, ipath, VX_FILTER_INSCAN, forced, s, bound,
										 ic.startup, ic.startup + ic.per_row * rel->rows,
										 WithExact(list_make2(ipath, bitmap), prechild, bound),
										 WithExact(list_make2(makeInteger(VX_CHILD_INDEX),
															  makeInteger(VX_CHILD_BITMAP)),
												   makeInteger(prerole), bound),
										 0, 0, 0, 0, (int) m.k, ""));
			}
		}
	}

	/*
	 * Our paths replace the plain ones when the choice is ours to make: a
	 * forced strategy, or a query over this relation alone (its result must
	 * come out in this order anyway).  Otherwise they compete in joins.
	 */
	if (forced || single)
	{
		rel->pathlist = NIL;
		rel->partial_pathlist = NIL;
	}
	foreach(lc, paths)
		add_path(rel, (Path *) lfirst(lc));
}

/* the chosen path as a CustomScan over its children's plans */
Plan *
VxFilterPlanPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path, List *tlist,
				 List *clauses, List *custom_plans)
{
	CustomScan *cs = makeNode(CustomScan);
	List	   *roles = (List *) list_nth(best_path->custom_private, VX_PRIV_ROLES);
	List	   *plans = NIL;
	Plan	   *rows_from = NULL;
	ListCell   *lc,
			   *lr;

	forboth(lc, custom_plans, lr, roles)
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
	cs->custom_exprs = list_make1(copyObject(list_nth(best_path->custom_private, VX_PRIV_ORDERBY)));
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

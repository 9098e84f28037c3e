/*-------------------------------------------------------------------------
 *
 * shard.c
 *	  The k-NN pushdown to postgres_fdw shards described in shard.h: the
 *	  planner_hook that rewrites Limit over Merge Append of foreign scans
 *	  into Limit over Sort over Append of foreign scans whose remote SQL
 *	  carries the LIMIT and which run asynchronously, and the GUC
 *	  vectorx.shard_pushdown.  Installed by _PG_init (src/vectorx.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "partitioning/partdesc.h"
#include "access/stratnum.h"
#include "catalog/pg_collation.h"

#include "shard.h"
#include "vector.h"

bool		vx_shard_pushdown = true;

static planner_hook_type prev_planner = NULL;
static ExplainOneQuery_hook_type prev_explain_one_query = NULL;

/* the largest constant LIMIT + OFFSET the rewrite takes (shard.h) */
#define SHARD_MAX_BOUND 100000

/* What the rewrite of one statement needs. */
typedef struct ShardRewrite
{
	PlannedStmt *stmt;			/* for the range table */
	int			next_node_id;	/* plan_node_id for nodes we add */
} ShardRewrite;

static Plan *RewritePlan(Plan *plan, ShardRewrite *st);

/*
 * The children of a plan node besides its left and right trees: a list
 * the caller may walk and replace in place (PlanChildList), and a
 * subquery scan's one subplan (PlanSubplan: where it is, or NULL).
 */
static List *
PlanChildList(Plan *plan)
{
	switch (nodeTag(plan))
	{
		case T_Append:
			return ((Append *) plan)->appendplans;
		case T_MergeAppend:
			return ((MergeAppend *) plan)->mergeplans;
		case T_BitmapAnd:
			return ((BitmapAnd *) plan)->bitmapplans;
		case T_BitmapOr:
			return ((BitmapOr *) plan)->bitmapplans;
		case T_CustomScan:
			return ((CustomScan *) plan)->custom_plans;
		default:
			return NIL;
	}
}

static Plan **
PlanSubplan(Plan *plan)
{
	return IsA(plan, SubqueryScan) ? &((SubqueryScan *) plan)->subplan : NULL;
}

/* The largest plan_node_id in a plan tree, so new nodes get fresh ones. */
static int
MaxNodeId(Plan *plan)
{
	int			max;
	ListCell   *lc;
	Plan	  **sub;

	if (plan == NULL)
		return -1;
	max = plan->plan_node_id;
	max = Max(max, MaxNodeId(plan->lefttree));
	max = Max(max, MaxNodeId(plan->righttree));
	if ((sub = PlanSubplan(plan)) != NULL)
		max = Max(max, MaxNodeId(*sub));
	foreach(lc, PlanChildList(plan))
		max = Max(max, MaxNodeId((Plan *) lfirst(lc)));
	return max;
}

/* Does an expression stay the same for the whole execution of the query? */
static bool
NotRunTimeConstant(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var) || IsA(node, SubPlan) || IsA(node, AlternativeSubPlan) ||
		IsA(node, Aggref) || IsA(node, WindowFunc) || IsA(node, GroupingFunc))
		return true;
	if (IsA(node, Param) && ((Param *) node)->paramkind != PARAM_EXTERN)
		return true;
	return expression_tree_walker(node, NotRunTimeConstant, context);
}

static bool
RunTimeConstant(Node *expr)
{
	/*
	 * Immutable only: postgres_fdw does not re-send its query on a rescan
	 * whose parameters did not change, while the Limit re-evaluates its
	 * count; a stable count could differ between the two.
	 */
	return !NotRunTimeConstant(expr, NULL) && !contain_mutable_functions(expr);
}

/*
 * The number of rows each child must deliver for the Limit to be answered:
 * count + offset, as an int8 Const or an int8 expression of the query's
 * parameters.  NULL when the Limit cannot be pushed down.
 */
static Expr *
ChildBound(Limit *limit)
{
	Node	   *count = limit->limitCount;
	Node	   *offset = limit->limitOffset;

	if (limit->limitOption != LIMIT_OPTION_COUNT || count == NULL ||
		exprType(count) != INT8OID)
		return NULL;
	if (offset != NULL && exprType(offset) != INT8OID)
		return NULL;
	if (IsA(count, Const) && ((Const *) count)->constisnull)
		return NULL;			/* LIMIT ALL */
	if (offset != NULL && IsA(offset, Const) &&
		(((Const *) offset)->constisnull || DatumGetInt64(((Const *) offset)->constvalue) == 0))
		offset = NULL;

	if (IsA(count, Const) && (offset == NULL || IsA(offset, Const)))
	{
		int64		c = DatumGetInt64(((Const *) count)->constvalue);
		int64		o = offset ? DatumGetInt64(((Const *) offset)->constvalue) : 0;

		/*
		 * Negative values are the Limit node's error to raise.  Past
		 * SHARD_MAX_BOUND rows per child the streaming Merge Append (fast
		 * start, no sort of every child's rows) is the better plan.
		 */
		if (c < 0 || o < 0 || c > PG_INT64_MAX - o || c + o > SHARD_MAX_BOUND)
			return NULL;
		return (Expr *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
								  Int64GetDatum(c + o), false, FLOAT8PASSBYVAL);
	}
	if (!RunTimeConstant(count) || (offset != NULL && !RunTimeConstant(offset)))
		return NULL;
	if (offset == NULL)
		return (Expr *) copyObject(count);

	/*
	 * CASE WHEN count <= INT64_MAX - offset THEN count + offset END: the
	 * Limit node lets count + offset overflow (compute_tuples_needed in
	 * nodeLimit.c), so the bound saturates to NULL, no limit, instead of
	 * raising "bigint out of range".  A NULL count or offset gives NULL too.
	 */
	{
		CaseExpr   *ce = makeNode(CaseExpr);
		CaseWhen   *cw = makeNode(CaseWhen);
		Expr	   *room = (Expr *) makeFuncExpr(F_INT8MI, INT8OID,
												 list_make2(makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
																	  Int64GetDatum(PG_INT64_MAX), false,
																	  FLOAT8PASSBYVAL),
															copyObject(offset)),
												 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);

		cw->expr = (Expr *) makeFuncExpr(F_INT8LE, BOOLOID, list_make2(copyObject(count), room),
										 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		cw->result = (Expr *) makeFuncExpr(F_INT8PL, INT8OID,
										   list_make2(copyObject(count), copyObject(offset)),
										   InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		cw->location = -1;
		ce->casetype = INT8OID;
		ce->casecollid = InvalidOid;
		ce->arg = NULL;
		ce->args = list_make1(cw);
		ce->defresult = (Expr *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64), (Datum) 0, true,
										   FLOAT8PASSBYVAL);
		ce->location = -1;
		return (Expr *) ce;
	}
}

/* Is this foreign scan run by postgres_fdw? */
static bool
IsPostgresFdw(ForeignScan *fs)
{
	ForeignServer *server;
	ForeignDataWrapper *fdw;
	char	   *handler;

	if (!OidIsValid(fs->fs_server))
		return false;
	server = GetForeignServer(fs->fs_server);
	fdw = GetForeignDataWrapper(server->fdwid);
	if (!OidIsValid(fdw->fdwhandler))
		return false;
	handler = get_func_name(fdw->fdwhandler);
	return handler != NULL && strcmp(handler, "postgres_fdw_handler") == 0;
}

/* The async_capable option in a list of options: 1 true, 0 false, -1 not set. */
static int
AsyncOption(List *options)
{
	ListCell   *lc;
	int			r = -1;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "async_capable") == 0)
			r = defGetBoolean(def) ? 1 : 0;
	}
	return r;
}

/*
 * postgres_fdw's async_capable option for a scan, as postgres_fdw decides
 * it: a table's setting overrides its server's; a pushed-down join is
 * async if either side is (merge_fdw_options in postgres_fdw.c).
 */
static bool
AsyncCapable(ForeignScan *fs, ShardRewrite *st)
{
	int			server = AsyncOption(GetForeignServer(fs->fs_server)->options);
	Bitmapset  *relids = fs->scan.scanrelid > 0 ? bms_make_singleton(fs->scan.scanrelid) : fs->fs_relids;
	int			i = -1;

	while ((i = bms_next_member(relids, i)) >= 0)
	{
		RangeTblEntry *rte = rt_fetch(i, st->stmt->rtable);
		int			t;

		if (rte->rtekind != RTE_RELATION || get_rel_relkind(rte->relid) != RELKIND_FOREIGN_TABLE)
			continue;
		t = AsyncOption(GetForeignTable(rte->relid)->options);
		if (t == 1 || (t == -1 && server == 1))
			return true;
	}
	return false;
}

/*
 * Can this Merge Append child take the LIMIT in its remote SQL?  A
 * postgres_fdw scan with no local filter whose remote SQL is a plain
 * SELECT ending in the ORDER BY the Merge Append relies on.  (The first
 * item of postgres_fdw's fdw_private is the remote SELECT as a String:
 * FdwScanPrivateSelectSql in contrib/postgres_fdw/postgres_fdw.c.)
 */
static bool
TakesRemoteLimit(Plan *child)
{
	ForeignScan *fs;
	Node	   *sqlnode;
	const char *sql;
	const char *orderby;

	if (!IsA(child, ForeignScan))
		return false;
	fs = (ForeignScan *) child;
	if (fs->operation != CMD_SELECT || fs->scan.plan.qual != NIL ||
		fs->fdw_private == NIL || !IsPostgresFdw(fs))
		return false;
	sqlnode = (Node *) linitial(fs->fdw_private);
	if (!IsA(sqlnode, String))
		return false;
	sql = strVal(sqlnode);
	if (strncmp(sql, "SELECT ", 7) != 0)
		return false;
	orderby = strstr(sql, " ORDER BY ");
	if (orderby == NULL)
		return false;
	/* Nothing may follow the ORDER BY but more of it. */
	if (strstr(orderby, " LIMIT ") != NULL || strstr(orderby, " FOR UPDATE") != NULL ||
		strstr(orderby, " FOR SHARE") != NULL || strstr(orderby, " FOR NO KEY") != NULL ||
		strstr(orderby, " FOR KEY") != NULL)
		return false;
	return true;
}

/* Append " LIMIT b" to a foreign scan's remote SQL. */
static void
AddRemoteLimit(ForeignScan *fs, Expr *bound)
{
	const char *sql = strVal(linitial(fs->fdw_private));
	char	   *newsql;

	if (IsA(bound, Const))
		newsql = psprintf("%s LIMIT " INT64_FORMAT, sql,
						  DatumGetInt64(((Const *) bound)->constvalue));
	else
	{
		/* postgres_fdw sends fdw_exprs as the remote $1..$n, in order. */
		fs->fdw_exprs = lappend(fs->fdw_exprs, copyObject(bound));
		newsql = psprintf("%s LIMIT $%d::bigint", sql, list_length(fs->fdw_exprs));
	}
	linitial(fs->fdw_private) = makeString(newsql);
}

/* A Limit b over a child, with the child's columns passed through. */
static Plan *
WrapInLimit(Plan *child, Expr *bound, ShardRewrite *st)
{
	Limit	   *limit = makeNode(Limit);
	List	   *tlist = NIL;
	ListCell   *lc;

	foreach(lc, child->targetlist)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);
		Var		   *var = makeVar(OUTER_VAR, tle->resno,
								  exprType((Node *) tle->expr),
								  exprTypmod((Node *) tle->expr),
								  exprCollation((Node *) tle->expr), 0);

		tle = flatCopyTargetEntry(tle);
		tle->expr = (Expr *) var;
		tlist = lappend(tlist, tle);
	}
	limit->plan.targetlist = tlist;
	limit->plan.lefttree = child;
	limit->plan.startup_cost = child->startup_cost;
	limit->plan.total_cost = child->total_cost;
	limit->plan.plan_rows = child->plan_rows;
	limit->plan.plan_width = child->plan_width;
	limit->plan.parallel_safe = child->parallel_safe;
	limit->plan.plan_node_id = st->next_node_id++;
	limit->plan.extParam = bms_copy(child->extParam);
	limit->plan.allParam = bms_copy(child->allParam);
	limit->limitCount = (Node *) copyObject(bound);
	limit->limitOption = LIMIT_OPTION_COUNT;
	return (Plan *) limit;
}

/* The relation a (possibly Limit- or Sort-wrapped) scan reads, or InvalidOid. */
static Oid
ChildRelid(Plan *child, ShardRewrite *st)
{
	while (child && !(IsA(child, ForeignScan) || IsA(child, SeqScan) || IsA(child, IndexScan) ||
					  IsA(child, IndexOnlyScan) || IsA(child, BitmapHeapScan) || IsA(child, CustomScan)))
	{
		if (!(IsA(child, Limit) || IsA(child, Sort) || IsA(child, IncrementalSort) || IsA(child, Result)))
			return InvalidOid;
		child = outerPlan(child);
	}
	if (child == NULL || ((Scan *) child)->scanrelid == 0)
		return InvalidOid;
	return rt_fetch(((Scan *) child)->scanrelid, st->stmt->rtable)->relid;
}

static bool
CollectExecParams(Node *node, Bitmapset **ids)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
		*ids = bms_add_member(*ids, ((Param *) node)->paramid);
	return expression_tree_walker(node, CollectExecParams, ids);
}

static bool
HasVars(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var) || IsA(node, SubPlan) || IsA(node, AlternativeSubPlan))
		return true;
	return expression_tree_walker(node, HasVars, context);
}

/*
 * Cluster sharding (shard.h): when a Merge Append reads the partitions of
 * a table partitioned by LIST (vectorx_shard_cell(col, 'routing')) and its
 * first sort key is a distance between col and a query vector q that is
 * known when the scan starts, give it (or the Append that replaces it:
 * children, dest) run-time pruning steps that
 * keep only the vectorx.shard_probes partitions nearest to q:
 *   step r (r = 1..nparts): partition key = vectorx_shard_probe(q, routing,
 *   parent, r), a cell of the r-th nearest partition or NULL (no match);
 *   the last step the union of them all.
 * PostgreSQL's pruning does the rest (initial pruning when q is a constant
 * or a query parameter, per rescan when q comes from an outer row or an
 * InitPlan), and EXPLAIN reports "Subplans Removed".
 */
static void
AddClusterPruning(Bitmapset *apprelids, AttrNumber sortcol, List *children,
				  PartitionPruneInfo **dest, ShardRewrite *st)
{
	int			rti;
	RangeTblEntry *rte;
	Relation	rel;
	AttrNumber	attno;
	char	   *routing;
	TargetEntry *tle;
	Node	   *q = NULL;
	Oid			vectoroid;
	Oid			probe;
	Oid			argtypes[4];
	PartitionDesc pd;
	PartitionKey key;
	PartitionedRelPruneInfo *pinfo;
	PartitionPruneInfo *ppi;
	List	   *steps = NIL;
	List	   *stepids = NIL;
	PartitionPruneStepCombine *comb;
	Bitmapset  *execparams = NULL;
	ListCell   *lc;
	int			i;

	if (*dest != NULL || children == NIL || !bms_get_singleton_member(apprelids, &rti))
		return;
	rte = rt_fetch(rti, st->stmt->rtable);
	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_PARTITIONED_TABLE)
		return;
	rel = relation_open(rte->relid, NoLock);	/* the planner holds its lock */
	routing = VxShardRoutingOf(rel, &attno);
	if (routing == NULL)
	{
		relation_close(rel, NoLock);
		return;
	}

	/* the first sort key: col <op> q (or q <op> col) in the first child */
	tle = get_tle_by_resno(((Plan *) linitial(children))->targetlist, sortcol);
	if (tle && IsA(tle->expr, OpExpr) && list_length(((OpExpr *) tle->expr)->args) == 2)
	{
		Node	   *a = linitial(((OpExpr *) tle->expr)->args);
		Node	   *b = lsecond(((OpExpr *) tle->expr)->args);
		const char *pcol = get_attname(rte->relid, attno, true);
		Oid			crel = ChildRelid((Plan *) linitial(children), st);

		if (IsA(b, Var) && !IsA(a, Var))
		{
			Node	   *t = a;

			a = b;
			b = t;
		}
		if (IsA(a, Var) && pcol != NULL && OidIsValid(crel) &&
			get_attnum(crel, pcol) == ((Var *) a)->varattno && !HasVars(b, NULL))
			q = b;
	}
	{
		Oid		   *fargs;
		int			nfargs;

		/* q must be of the type vectorx_shard_cell takes: vector */
		(void) get_func_signature(((FuncExpr *) linitial(RelationGetPartitionKey(rel)->partexprs))->funcid,
								  &fargs, &nfargs);
		vectoroid = fargs[0];
	}
	if (q == NULL || exprType(q) != vectoroid)
	{
		relation_close(rel, NoLock);
		return;
	}
	argtypes[0] = vectoroid;
	argtypes[1] = TEXTOID;
	argtypes[2] = REGCLASSOID;
	argtypes[3] = INT4OID;
	probe = LookupFuncName(list_make2(makeString(get_namespace_name(VxExtensionSchema(false))),
									  makeString("vectorx_shard_probe")), 4, argtypes, true);
	if (!OidIsValid(probe))
	{
		relation_close(rel, NoLock);
		return;
	}

	/* partitions to subplans */
	pd = RelationGetPartitionDesc(rel, true);
	key = RelationGetPartitionKey(rel);
	pinfo = makeNode(PartitionedRelPruneInfo);
	pinfo->rtindex = rti;
	pinfo->nparts = pd->nparts;
	pinfo->subplan_map = palloc(sizeof(int) * pd->nparts);
	pinfo->subpart_map = palloc(sizeof(int) * pd->nparts);
	pinfo->relid_map = palloc(sizeof(Oid) * pd->nparts);
	for (int p = 0; p < pd->nparts; p++)
	{
		pinfo->subplan_map[p] = -1;
		pinfo->subpart_map[p] = -1;
		pinfo->relid_map[p] = pd->oids[p];
	}
	i = 0;
	foreach(lc, children)
	{
		Oid			crel = ChildRelid((Plan *) lfirst(lc), st);
		int			p;

		for (p = 0; p < pd->nparts; p++)
			if (pd->oids[p] == crel)
				break;
		if (p == pd->nparts || pinfo->subplan_map[p] >= 0)
		{
			relation_close(rel, NoLock);
			return;				/* not one level of partitions */
		}
		pinfo->subplan_map[p] = i++;
		pinfo->present_parts = bms_add_member(pinfo->present_parts, p);
	}

	for (int r = 1; r <= pd->nparts; r++)
	{
		PartitionPruneStepOp *op = makeNode(PartitionPruneStepOp);

		op->step.step_id = r - 1;
		op->opstrategy = BTEqualStrategyNumber;
		op->exprs = list_make1(makeFuncExpr(probe, INT4OID,
											list_make4(copyObject(q),
													   makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
																 CStringGetTextDatum(routing), false, false),
													   makeConst(REGCLASSOID, -1, InvalidOid, sizeof(Oid),
																 ObjectIdGetDatum(rte->relid), false, true),
													   makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
																 Int32GetDatum(r), false, true)),
											InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
		op->cmpfns = list_make1_oid(key->partsupfunc[0].fn_oid);
		steps = lappend(steps, op);
		stepids = lappend_int(stepids, r - 1);
	}
	comb = makeNode(PartitionPruneStepCombine);
	comb->step.step_id = pd->nparts;
	comb->combineOp = PARTPRUNE_COMBINE_UNION;
	comb->source_stepids = stepids;
	steps = lappend(steps, comb);

	CollectExecParams(q, &execparams);
	if (execparams == NULL)
		pinfo->initial_pruning_steps = steps;
	else
	{
		pinfo->exec_pruning_steps = steps;
		pinfo->execparamids = execparams;
	}
	ppi = makeNode(PartitionPruneInfo);
	ppi->prune_infos = list_make1(list_make1(pinfo));
	*dest = ppi;
	relation_close(rel, NoLock);
}

/* Rewrite one Limit if its child is a Merge Append the pushdown applies to. */
static void
PushLimit(Limit *limit, ShardRewrite *st)
{
	MergeAppend *merge;
	Append	   *append;
	Sort	   *sort;
	Expr	   *bound;
	List	   *children = NIL;
	ListCell   *lc;
	int			nremote = 0;
	int			nasync = 0;

	/* Limit over Sort over Append: nothing to push, but cluster pruning */
	if (IsA(outerPlan(limit), Sort) && outerPlan(outerPlan(limit)) != NULL &&
		IsA(outerPlan(outerPlan(limit)), Append))
	{
		Sort	   *s = (Sort *) outerPlan(limit);
		Append	   *a = (Append *) outerPlan(s);

		if (ChildBound(limit) != NULL)
			AddClusterPruning(a->apprelids, s->sortColIdx[0], a->appendplans, &a->part_prune_info, st);
		return;
	}
	/*
	 * Limit over one foreign scan that ships its ORDER BY: a partitioned
	 * table left with one partition (setrefs.c removes a one-child Merge
	 * Append), which postgres_fdw gave no LIMIT as it would a lone table.
	 */
	if (TakesRemoteLimit(outerPlan(limit)))
	{
		if ((bound = ChildBound(limit)) != NULL)
			AddRemoteLimit((ForeignScan *) outerPlan(limit), bound);
		return;
	}
	if (!IsA(outerPlan(limit), MergeAppend))
		return;
	merge = (MergeAppend *) outerPlan(limit);
	foreach(lc, merge->mergeplans)
		if (TakesRemoteLimit((Plan *) lfirst(lc)))
			nremote++;
	/* the pruning of cluster sharding, like the pushdown, is for k-NN queries */
	if ((bound = ChildBound(limit)) == NULL)
		return;
	if (nremote == 0)
	{
		/* local partitions stream in order through the Merge Append */
		AddClusterPruning(merge->apprelids, merge->sortColIdx[0], merge->mergeplans,
						  &merge->part_prune_info, st);
		return;
	}

	foreach(lc, merge->mergeplans)
	{
		Plan	   *child = (Plan *) lfirst(lc);

		if (TakesRemoteLimit(child))
		{
			ForeignScan *fs = (ForeignScan *) child;

			AddRemoteLimit(fs, bound);
			fs->scan.plan.async_capable = enable_async_append && AsyncCapable(fs, st);
			if (fs->scan.plan.async_capable)
				nasync++;
		}
		else
			child = WrapInLimit(child, bound, st);
		children = lappend(children, child);
	}

	append = makeNode(Append);
	append->plan = merge->plan;
	append->plan.type = T_Append;
	append->plan.targetlist = copyObject(merge->plan.targetlist);
	append->plan.parallel_aware = false;
	append->apprelids = merge->apprelids;
	append->appendplans = children;
	append->nasyncplans = nasync;
	append->first_partial_plan = list_length(children);
	append->part_prune_info = merge->part_prune_info;
	AddClusterPruning(merge->apprelids, merge->sortColIdx[0], append->appendplans,
					  &append->part_prune_info, st);

	sort = makeNode(Sort);
	sort->plan = merge->plan;
	sort->plan.type = T_Sort;
	sort->plan.targetlist = copyObject(merge->plan.targetlist);
	sort->plan.parallel_aware = false;
	sort->plan.plan_node_id = st->next_node_id++;
	sort->plan.extParam = bms_copy(merge->plan.extParam);
	sort->plan.allParam = bms_copy(merge->plan.allParam);
	sort->plan.initPlan = NIL;	/* they stay with the Append */
	sort->plan.lefttree = (Plan *) append;
	sort->plan.startup_cost = merge->plan.total_cost;
	sort->numCols = merge->numCols;
	sort->sortColIdx = merge->sortColIdx;
	sort->sortOperators = merge->sortOperators;
	sort->collations = merge->collations;
	sort->nullsFirst = merge->nullsFirst;

	outerPlan(limit) = (Plan *) sort;
}

/* Rewrite every Limit in a plan tree, children first. */
static Plan *
RewritePlan(Plan *plan, ShardRewrite *st)
{
	ListCell   *lc;
	Plan	  **sub;

	if (plan == NULL)
		return NULL;
	plan->lefttree = RewritePlan(plan->lefttree, st);
	plan->righttree = RewritePlan(plan->righttree, st);
	if ((sub = PlanSubplan(plan)) != NULL)
		*sub = RewritePlan(*sub, st);
	foreach(lc, PlanChildList(plan))
		lfirst(lc) = RewritePlan((Plan *) lfirst(lc), st);

	if (IsA(plan, Limit))
		PushLimit((Limit *) plan, st);
	return plan;
}

static PlannedStmt *
VxShardPlanner(Query *parse, const char *query_string, int cursorOptions,
			   ParamListInfo boundParams)
{
	PlannedStmt *stmt;

	if (prev_planner)
		stmt = prev_planner(parse, query_string, cursorOptions, boundParams);
	else
		stmt = standard_planner(parse, query_string, cursorOptions, boundParams);

	if (vx_shard_pushdown && stmt->rowMarks == NIL)
	{
		ShardRewrite st;
		ListCell   *lc;
		int			max = MaxNodeId(stmt->planTree);

		foreach(lc, stmt->subplans)
			max = Max(max, MaxNodeId((Plan *) lfirst(lc)));
		st.stmt = stmt;
		st.next_node_id = max + 1;
		stmt->planTree = RewritePlan(stmt->planTree, &st);
		foreach(lc, stmt->subplans)
			lfirst(lc) = RewritePlan((Plan *) lfirst(lc), &st);
	}
	return stmt;
}

/*
 * EXPLAIN: which shards and why.  PostgreSQL prints the partitions a
 * cluster-sharded k-NN query keeps and "Subplans Removed", not why; its
 * pruning steps (AddClusterPruning) do not show.  PostgreSQL 15 has no
 * per-node EXPLAIN hook for an Append, so the one-query hook explains the
 * plan as PostgreSQL does and then, in the text format, adds a line
 * "Shard Routing" per pruned Append: the routing, vectorx.shard_probes, and
 * for a query vector known now (a constant, or a bound parameter) each
 * partition nearest first with its distance and whether it is contacted.
 * EXPLAIN EXECUTE and the structured formats go without the line
 * (PostgreSQL calls no hook for the first, and the second are closed when
 * the hook gets control back); vectorx_shard_route answers the same.
 */
typedef struct ShardExplainWalk
{
	Oid			schema;			/* the extension's, where vectorx_shard_probe is */
	List	   *lines;			/* of char * */
	ParamListInfo params;
} ShardExplainWalk;

static void ExplainWalkPlan(Plan *plan, ShardExplainWalk *w);

static void
ExplainPruneInfo(PartitionPruneInfo *ppi, ShardExplainWalk *w)
{
	ListCell   *lc1,
			   *lc2;

	if (ppi == NULL)
		return;
	foreach(lc1, ppi->prune_infos)
		foreach(lc2, (List *) lfirst(lc1))
	{
		PartitionedRelPruneInfo *pinfo = lfirst(lc2);
		List	   *steps = pinfo->initial_pruning_steps ? pinfo->initial_pruning_steps : pinfo->exec_pruning_steps;
		PartitionPruneStepOp *op;
		FuncExpr   *fe;
		Node	   *q;
		Const	   *routing;
		Const	   *parent;
		Vector	   *qv = NULL;
		char	   *line;

		if (steps == NIL || !IsA(linitial(steps), PartitionPruneStepOp))
			continue;
		op = linitial(steps);
		if (list_length(op->exprs) != 1 || !IsA(linitial(op->exprs), FuncExpr))
			continue;
		fe = linitial(op->exprs);
		if (list_length(fe->args) != 4 || get_func_namespace(fe->funcid) != w->schema ||
			strcmp(get_func_name(fe->funcid), "vectorx_shard_probe") != 0)
			continue;
		q = linitial(fe->args);
		routing = lsecond(fe->args);
		parent = lthird(fe->args);
		/* a step a user's WHERE clause made may have any expressions here */
		if (!IsA(routing, Const) || routing->constisnull ||
			!IsA(parent, Const) || parent->constisnull)
			continue;
		if (IsA(q, Const) && !((Const *) q)->constisnull)
			qv = DatumGetVector(((Const *) q)->constvalue);
		else if (IsA(q, Param) && ((Param *) q)->paramkind == PARAM_EXTERN && w->params != NULL &&
				 ((Param *) q)->paramid > 0 && ((Param *) q)->paramid <= w->params->numParams)
		{
			ParamExternData workspace;
			ParamExternData *prm;

			if (w->params->paramFetch != NULL)
				prm = w->params->paramFetch(w->params, ((Param *) q)->paramid, false, &workspace);
			else
				prm = &w->params->params[((Param *) q)->paramid - 1];
			if (prm != NULL && !prm->isnull && prm->ptype == ((Param *) q)->paramtype)
				qv = DatumGetVector(prm->value);
		}
		line = VxShardRouteExplain(DatumGetObjectId(parent->constvalue),
								   TextDatumGetCString(routing->constvalue), qv);
		if (line != NULL)
			w->lines = lappend(w->lines, line);
	}
}

static void
ExplainWalkList(List *plans, ShardExplainWalk *w)
{
	ListCell   *lc;

	foreach(lc, plans)
		ExplainWalkPlan((Plan *) lfirst(lc), w);
}

static void
ExplainWalkPlan(Plan *plan, ShardExplainWalk *w)
{
	Plan	  **sub;

	if (plan == NULL)
		return;
	check_stack_depth();
	if (IsA(plan, Append))
		ExplainPruneInfo(((Append *) plan)->part_prune_info, w);
	else if (IsA(plan, MergeAppend))
		ExplainPruneInfo(((MergeAppend *) plan)->part_prune_info, w);
	if ((sub = PlanSubplan(plan)) != NULL)
		ExplainWalkPlan(*sub, w);
	ExplainWalkList(PlanChildList(plan), w);
	ExplainWalkPlan(plan->lefttree, w);
	ExplainWalkPlan(plan->righttree, w);
}

static void
VxShardExplainOneQuery(Query *query, int cursorOptions, IntoClause *into,
					   ExplainState *es, const char *queryString,
					   ParamListInfo params, QueryEnvironment *queryEnv)
{
	PlannedStmt *plan;
	instr_time	planstart,
				planduration;
	BufferUsage bufusage_start,
				bufusage;
	ShardExplainWalk w = {0};
	ListCell   *lc;

	if (prev_explain_one_query)
	{
		prev_explain_one_query(query, cursorOptions, into, es, queryString, params, queryEnv);
		return;
	}

	/* as PostgreSQL's ExplainOneQuery plans and explains a query */
	if (es->buffers)
		bufusage_start = pgBufferUsage;
	INSTR_TIME_SET_CURRENT(planstart);
	plan = pg_plan_query(query, queryString, cursorOptions, params);
	INSTR_TIME_SET_CURRENT(planduration);
	INSTR_TIME_SUBTRACT(planduration, planstart);
	if (es->buffers)
	{
		memset(&bufusage, 0, sizeof(BufferUsage));
		BufferUsageAccumDiff(&bufusage, &pgBufferUsage, &bufusage_start);
	}
	ExplainOnePlan(plan, into, es, queryString, params, queryEnv,
				   &planduration, (es->buffers ? &bufusage : NULL));

	if (es->format != EXPLAIN_FORMAT_TEXT || !vx_shard_pushdown)
		return;
	w.schema = VxExtensionSchema(true);
	if (!OidIsValid(w.schema))
		return;
	w.params = params;
	ExplainWalkPlan(plan->planTree, &w);
	foreach(lc, plan->subplans)
		ExplainWalkPlan((Plan *) lfirst(lc), &w);
	foreach(lc, w.lines)
		ExplainPropertyText("Shard Routing", (char *) lfirst(lc), es);
}

void
VxShardInit(void)
{
	DefineCustomBoolVariable("vectorx.shard_pushdown",
							 "Push ORDER BY <distance> LIMIT k down to postgres_fdw shards.",
							 "On, a k-NN query over foreign partitions sends each shard its "
							 "LIMIT and runs the shards concurrently (async_capable servers); "
							 "off leaves the plan as PostgreSQL makes it.",
							 &vx_shard_pushdown, true, PGC_USERSET, 0, NULL, NULL, NULL);
	prev_planner = planner_hook;
	planner_hook = VxShardPlanner;
	prev_explain_one_query = ExplainOneQuery_hook;
	ExplainOneQuery_hook = VxShardExplainOneQuery;
}

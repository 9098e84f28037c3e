/*-------------------------------------------------------------------------
 *
 * filterexec.c
 *	  Execution and EXPLAIN of the "VectorX Filtered Search" CustomScan
 *	  (filter.h, EXECUTION): it starts its children by role, builds the
 *	  allow-list for the inscan strategy and hands it to the hnsw/ivfpq
 *	  scan, keeps the k nearest of prefilter's rows (TopK), runs an
 *	  adaptive plan's probe and choice (Probe, ChooseByCount), and returns
 *	  the chosen child's rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "executor/nodeCustom.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "utils/memutils.h"
#include "utils/ruleutils.h"
#include "utils/rel.h"

#include "filter.h"
#include "registry.h"

typedef struct VxFilterState
{
	CustomScanState css;
	int			planned;		/* strategy, or -1: adaptive */
	int			chosen;			/* the strategy of the current execution */
	bool		forced;
	double		selectivity;	/* estimated at planning */
	int			bound;			/* rows the sort needs at most; 0 unknown */
	double		premax;			/* adaptive: prefilter up to this many TIDs */
	double		inmax;			/* adaptive: inscan up to this many TIDs */
	double		prein;			/* after a spent probe: prefilter up to this many */
	const char *note;
	PlanState  *index_ps;
	PlanState  *sort_ps;
	PlanState  *bitmap_ps;
	PlanState  *filter_ps;		/* prefilter's rows, unordered: TopK() */
	ExprState  *distance;		/* the ORDER BY expression over our scan tuple */
	double		probe;			/* adaptive: TIDs to probe the index for first, 0 none */
	int			k;				/* rows wanted */
	bool		started;
	bool		probing;		/* adaptive: rows are being collected in buffer[] */
	MinimalTuple *buffer;		/* the probe's, Collect's or TopK's rows, in order */
	int			nbuffer;
	int			maxbuffer;		/* buffer[]'s size: grows with the rows held */
	int			nextbuffer;		/* next of them to return */
	bool		collected;		/* Collect() ran in this execution */
	bool		fellback;		/* the index scan ended short: exact instead */
	int			index_rows;		/* rows the index child gave before it ended */
	bool		probed;			/* the last execution probed */
	bool		built;			/* the last execution built an allow-list */
	bool		topk_done;		/* prefilter: TopK() ran in this execution */
	MemoryContext allowcxt;		/* the allow-list and probe rows of this execution */
	VxAllowList *allow;
	const VxAllowList *want_allow;	/* for the index scan when it begins */
	uint64		want_limit;		/* (see PrepareIndexScan) */
	int64		allow_tids;		/* last allow-list's size, for EXPLAIN */
	int64		allow_lossy;
	bool		allow_overflow; /* last allow-list exceeded work_mem */
	int64		executions;
} VxFilterState;

static Node *CreateState(CustomScan *cs);
static void Begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *Exec(CustomScanState *node);
static void End(CustomScanState *node);
static void ReScan(CustomScanState *node);
static void Explain(CustomScanState *node, List *ancestors, ExplainState *es);

static const CustomScanMethods scan_methods = {
	.CustomName = "VectorX Filtered Search",
	.CreateCustomScanState = CreateState,
};

static const CustomExecMethods exec_methods = {
	.CustomName = "VectorX Filtered Search",
	.BeginCustomScan = Begin,
	.ExecCustomScan = Exec,
	.EndCustomScan = End,
	.ReScanCustomScan = ReScan,
	.ExplainCustomScan = Explain,
};

Plan *
VxFilterExecPlan(CustomScan *cs)
{
	cs->methods = &scan_methods;
	return (Plan *) cs;
}

static const char *
StrategyName(int s)
{
	switch (s)
	{
		case VX_FILTER_PREFILTER:
			return "prefilter";
		case VX_FILTER_INSCAN:
			return "inscan";
		case VX_FILTER_POSTFILTER:
			return "postfilter";
		default:
			return "adaptive";
	}
}

static Node *
CreateState(CustomScan *cs)
{
	VxFilterState *state = (VxFilterState *) newNode(sizeof(VxFilterState), T_CustomScanState);
	VxFilterPrivate priv;

	VxFilterPrivateFromList(cs->custom_private, &priv);
	state->css.methods = &exec_methods;
	state->planned = priv.strategy;
	state->forced = priv.forced;
	state->selectivity = priv.selectivity;
	state->bound = priv.bound;
	state->premax = priv.premax;
	state->inmax = priv.inmax;
	state->note = priv.note;
	state->probe = priv.probe;
	state->k = priv.k;
	state->prein = priv.prein;
	state->chosen = state->planned;
	return (Node *) state;
}

static void
Begin(CustomScanState *node, EState *estate, int eflags)
{
	VxFilterState *state = (VxFilterState *) node;
	CustomScan *cs = (CustomScan *) node->ss.ps.plan;
	VxFilterPrivate priv;
	ListCell   *lc,
			   *lr;

	VxFilterPrivateFromList(cs->custom_private, &priv);
	forboth(lc, cs->custom_plans, lr, priv.roles)
	{
		PlanState  *ps = ExecInitNode((Plan *) lfirst(lc), estate, eflags);

		switch (intVal(lfirst(lr)))
		{
			case VX_CHILD_INDEX:
				state->index_ps = ps;
				break;
			case VX_CHILD_SORT:
				state->sort_ps = ps;
				break;
			case VX_CHILD_BITMAP:
				state->bitmap_ps = ps;
				break;
			case VX_CHILD_FILTER:
				state->filter_ps = ps;
				break;
		}
		node->custom_ps = lappend(node->custom_ps, ps);
	}
	if (state->sort_ps && state->bound > 0)
		ExecSetTupleBound(state->bound, state->sort_ps);
	if (state->filter_ps)
		state->distance = ExecInitExpr((Expr *) linitial(cs->custom_exprs), &node->ss.ps);
	state->allowcxt = AllocSetContextCreate(estate->es_query_cxt, "vectorx allow-list",
											ALLOCSET_DEFAULT_SIZES);
}

static IndexScanDesc
IndexDesc(VxFilterState *state)
{
	if (state->index_ps == NULL || !IsA(state->index_ps, IndexScanState))
		return NULL;
	return ((IndexScanState *) state->index_ps)->iss_ScanDesc;
}

/*
 * Give the index child an allow-list and a limit: now, through its scan's
 * control (scan.h), or, when its scan has not begun, at its first row
 * (IndexRow).  The scan is not begun here: a strategy chosen later may
 * never read the index, and EXPLAIN reports the index scan's work only
 * when it began.
 */
static void
PrepareIndexScan(VxFilterState *state, const VxAllowList *allow, uint64 limit)
{
	IndexScanDesc desc = IndexDesc(state);

	state->want_allow = allow;
	state->want_limit = limit;
	if (desc)
	{
		VxScanControl *ctl = VxScanControlOf(desc);

		ctl->allow = allow;
		ctl->limit = limit;
	}
}

/*
 * Begin the index child's scan as the executor would at its first row
 * (nodeIndexscan.c does the same for a parallel scan, up front), and hand
 * it what PrepareIndexScan asked for.  When the child's scan keys wait on
 * run-time values, its first ExecProcNode computes them and rescans.
 */
static void
BeginIndexScan(VxFilterState *state)
{
	IndexScanState *iss = (IndexScanState *) state->index_ps;
	VxScanControl *ctl;

	iss->iss_ScanDesc = index_beginscan(iss->ss.ss_currentRelation, iss->iss_RelationDesc,
										iss->ss.ps.state->es_snapshot,
										iss->iss_NumScanKeys, iss->iss_NumOrderByKeys);
	if (iss->iss_NumRuntimeKeys == 0 || iss->iss_RuntimeKeysReady)
		index_rescan(iss->iss_ScanDesc, iss->iss_ScanKeys, iss->iss_NumScanKeys,
					 iss->iss_OrderByKeys, iss->iss_NumOrderByKeys);
	ctl = VxScanControlOf(iss->iss_ScanDesc);
	ctl->allow = state->want_allow;
	ctl->limit = state->want_limit;
}

/* build the allow-list from the bitmap child; returns its size in rows */
static double
BuildAllowList(VxFilterState *state)
{
	MemoryContext old = MemoryContextSwitchTo(state->allowcxt);
	TIDBitmap  *tbm = (TIDBitmap *) MultiExecProcNode(state->bitmap_ps);

	if (tbm == NULL || !IsA(tbm, TIDBitmap))
		elog(ERROR, "vectorx: the allow-list child returned no bitmap");
	state->allow = VxAllowListFromBitmap(tbm);
	tbm_free(tbm);
	MemoryContextSwitchTo(old);
	state->built = true;
	state->allow_tids = state->allow->ntids;
	state->allow_lossy = state->allow->nlossy;
	state->allow_overflow = state->allow->overflow;
	/* past work_mem: a weak filter, as many rows as postfilter wants */
	if (state->allow->overflow)
		return INFINITY;
	/* a lossy page holds up to a page of rows: count it as 50 */
	return (double) state->allow->ntids + 50.0 * state->allow->nlossy;
}

/* adaptive: the strategy for an allow-list of n rows */
static void
ChooseByCount(VxFilterState *state, double n)
{
	state->chosen = n <= state->premax ? VX_FILTER_PREFILTER :
		n <= state->inmax ? VX_FILTER_INSCAN : VX_FILTER_POSTFILTER;
}

/* first row of an execution: the allow-list, the strategy */
static void
Start(VxFilterState *state)
{
	state->started = true;
	state->executions++;
	state->chosen = state->planned;
	state->probed = state->built = state->topk_done = false;
	state->collected = state->fellback = false;
	state->buffer = NULL;
	state->nbuffer = state->maxbuffer = state->nextbuffer = 0;
	if ((state->planned < 0 || state->planned == VX_FILTER_POSTFILTER) && state->probe > 0)
	{
		/* adaptive, the filter likely weak, or postfilter with a way out */
		state->chosen = VX_FILTER_POSTFILTER;
		state->probing = state->probed = true;
		PrepareIndexScan(state, NULL, (uint64) state->probe);
		return;
	}
	if (state->bitmap_ps)
	{
		double		n = BuildAllowList(state);

		if (state->planned < 0)
			ChooseByCount(state, n);
	}
	if (state->chosen == VX_FILTER_INSCAN && state->allow_overflow)
		state->chosen = VX_FILTER_POSTFILTER;	/* no allow-list to scan with */
	if (state->chosen == VX_FILTER_INSCAN)
		PrepareIndexScan(state, state->allow, 0);
	else if (state->index_ps)
		PrepareIndexScan(state, NULL, 0);
}

/* the next row of the index child, whose scan may be about to begin */
static TupleTableSlot *
IndexRow(VxFilterState *state)
{
	if (IndexDesc(state) == NULL)
		BeginIndexScan(state);
	return ExecProcNode(state->index_ps);
}

/*
 * Append a copy of src's row to buffer[], which grows with the rows it
 * holds (never sized by the LIMIT alone: LIMIT 100000000 over 20 matching
 * rows holds 20).
 */
static void
KeepRow(VxFilterState *state, TupleTableSlot *src)
{
	MemoryContext old = MemoryContextSwitchTo(state->allowcxt);

	if (state->nbuffer == state->maxbuffer)
	{
		state->maxbuffer = Max(state->maxbuffer * 2, 64);
		state->buffer = state->buffer == NULL ?
			palloc(sizeof(MinimalTuple) * state->maxbuffer) :
			repalloc_huge(state->buffer, sizeof(MinimalTuple) * state->maxbuffer);
	}
	state->buffer[state->nbuffer++] = ExecCopySlotMinimalTuple(src);
	MemoryContextSwitchTo(old);
}

/*
 * Adaptive probe: collect up to k rows from the index child, which ends
 * after state->probe heap TIDs.  k rows (or the true end of the scan)
 * commit to postfilter, and the rows collected are returned first.  A
 * probe that ran out of TIDs goes by the allow-list's size instead; the
 * index scan starts again for any strategy that uses it.
 */
static void
Probe(VxFilterState *state)
{
	IndexScanDesc desc;
	bool		limited = false;

	while (state->nbuffer < Max(state->k, 1))
	{
		TupleTableSlot *src = IndexRow(state);

		if (TupIsNull(src))
		{
			desc = IndexDesc(state);
			limited = desc && VxScanControlOf(desc)->returned >= (uint64) state->probe;
			break;
		}
		KeepRow(state, src);
	}
	state->probing = false;
	desc = IndexDesc(state);
	if (!limited)
	{
		/* postfilter it is: no limit from now on */
		if (desc)
			VxScanControlOf(desc)->limit = 0;
		return;
	}
	state->nbuffer = 0;
	if (state->planned < 0)
	{
		/* an adaptive plan's filter is not weak after all: by the count */
		ChooseByCount(state, BuildAllowList(state));
	}
	else
	{
		/* postfilter proved slow: prefilter or inscan by the allow-list's size */
		state->chosen = BuildAllowList(state) <= state->prein ? VX_FILTER_PREFILTER : VX_FILTER_INSCAN;
	}
	if (state->chosen == VX_FILTER_INSCAN && state->allow_overflow)
		state->chosen = VX_FILTER_POSTFILTER;	/* no allow-list to scan with */
	if (state->chosen != VX_FILTER_PREFILTER)
	{
		ExecReScan(state->index_ps);
		PrepareIndexScan(state, state->chosen == VX_FILTER_INSCAN ? state->allow : NULL, 0);
	}
}

/*
 * dst (our scan slot) points at src's row: the child's columns are ours,
 * then perhaps the sort key.  Valid until the child's next row.
 */
static void
PointAtRow(TupleTableSlot *dst, TupleTableSlot *src)
{
	int			natts = dst->tts_tupleDescriptor->natts;

	ExecClearTuple(dst);
	slot_getsomeattrs(src, natts);
	memcpy(dst->tts_values, src->tts_values, sizeof(Datum) * natts);
	memcpy(dst->tts_isnull, src->tts_isnull, sizeof(bool) * natts);
	ExecStoreVirtualTuple(dst);
}

/* a row kept by TopK: NULL distances after NaN after all numbers */
typedef struct KeptRow
{
	int			rank;			/* 0 number, 1 NaN, 2 NULL */
	double		distance;
	int64		seq;			/* arrival, for a stable order among ties */
	MinimalTuple tuple;
} KeptRow;

static int
CompareKept(const KeptRow *a, const KeptRow *b)
{
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->distance != b->distance)
		return a->distance < b->distance ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int
CompareKeptQsort(const void *a, const void *b)
{
	return CompareKept((const KeptRow *) a, (const KeptRow *) b);
}

/* the rows kept so far: the farthest on top (vxheap.h) */
#define VXH_PREFIX KeptHeap
#define VXH_ELEMENT KeptRow
#define VXH_ABOVE(a, b) (CompareKept(&(a), &(b)) > 0)
#include "vxheap.h"

/*
 * Prefilter with the LIMIT known: every row of the filter child is scored
 * with the ORDER BY expression and only the k nearest are copied (a sort
 * would copy every row, vector and all).  The result goes to buffer[], in
 * order.  The heap grows with the rows kept, up to k: a LIMIT far above
 * the matching rows costs nothing.
 */
static void
TopK(VxFilterState *state)
{
	ScanState  *ss = &state->css.ss;
	TupleTableSlot *dst = ss->ss_ScanTupleSlot;
	ExprContext *econtext = ss->ps.ps_ExprContext;
	int			k = Max(state->bound, 1);
	KeptHeap	heap;
	int64		seq = 0;
	MemoryContext old = MemoryContextSwitchTo(state->allowcxt);

	/* grows with the rows kept, up to k, in allowcxt */
	KeptHeapInit(&heap, Min(k, 64));
	MemoryContextSwitchTo(old);

	for (;;)
	{
		TupleTableSlot *src = ExecProcNode(state->filter_ps);
		KeptRow		row;
		bool		isnull;
		Datum		d;

		if (TupIsNull(src))
			break;
		CHECK_FOR_INTERRUPTS();
		/* copy nothing yet */
		PointAtRow(dst, src);
		ResetExprContext(econtext);
		econtext->ecxt_scantuple = dst;
		d = ExecEvalExprSwitchContext(state->distance, econtext, &isnull);
		row.rank = isnull ? 2 : isnan(DatumGetFloat8(d)) ? 1 : 0;
		row.distance = row.rank == 0 ? DatumGetFloat8(d) : 0;
		row.seq = seq++;
		if (heap.count == k && CompareKept(&row, &heap.items[0]) >= 0)
			continue;
		old = MemoryContextSwitchTo(state->allowcxt);
		row.tuple = ExecCopySlotMinimalTuple(dst);
		MemoryContextSwitchTo(old);
		if (heap.count < k)
			KeptHeapPush(&heap, row);
		else
		{
			pfree(heap.items[0].tuple);
			KeptHeapReplaceTop(&heap, row);
		}
	}
	ExecClearTuple(dst);
	qsort(heap.items, heap.count, sizeof(KeptRow), CompareKeptQsort);
	state->buffer = MemoryContextAlloc(state->allowcxt, sizeof(MinimalTuple) * Max(heap.count, 1));
	for (int i = 0; i < heap.count; i++)
		state->buffer[i] = heap.items[i].tuple;
	state->nbuffer = heap.count;
	state->nextbuffer = 0;
	KeptHeapFree(&heap);
}

/*
 * The k rows promise (filter.h, K ROWS): with the LIMIT known, the rows of
 * the index child (postfilter, inscan) are collected until there are LIMIT
 * of them.  An index scan that ends before (hnsw.max_scan_tuples reached,
 * rows skipped to keep the order strict, a filter whose rows the search
 * does not reach) would return fewer rows than match: then the node
 * answers exactly instead, by prefilter over the filter's own path, and
 * the rows collected are dropped.  The collected rows are returned first
 * otherwise, nothing is redone.
 */
static void
Collect(VxFilterState *state)
{
	state->collected = true;
	while (state->nbuffer < state->bound)
	{
		TupleTableSlot *src = IndexRow(state);

		if (TupIsNull(src))
		{
			state->index_rows = state->nbuffer;
			state->fellback = true;
			state->chosen = VX_FILTER_PREFILTER;
			state->nbuffer = state->nextbuffer = 0;
			return;
		}
		CHECK_FOR_INTERRUPTS();
		KeepRow(state, src);
	}
}

/* the chosen child's next row, as this node's scan tuple */
static TupleTableSlot *
Next(ScanState *ss)
{
	VxFilterState *state = (VxFilterState *) ss;
	TupleTableSlot *dst = ss->ss_ScanTupleSlot;
	TupleTableSlot *src;

	if (!state->started)
		Start(state);
	if (state->probing)
		Probe(state);
	if (!state->collected && state->chosen != VX_FILTER_PREFILTER && state->filter_ps &&
		state->bound > 0 &&
		!(state->chosen == VX_FILTER_INSCAN && state->allow->ntids == 0 && state->allow->nlossy == 0))
		Collect(state);
	if (state->chosen == VX_FILTER_PREFILTER && state->filter_ps && !state->topk_done)
	{
		state->topk_done = true;
		TopK(state);
	}
	if (state->nextbuffer < state->nbuffer)
	{
		/* the probe's or TopK's rows: our columns, in the index child's layout */
		ExecForceStoreMinimalTuple(state->buffer[state->nextbuffer++], dst, false);
		return dst;
	}
	if (state->chosen == VX_FILTER_PREFILTER && state->filter_ps)
		return NULL;			/* TopK's rows are all out */
	if (state->chosen == VX_FILTER_INSCAN && state->allow->ntids == 0 && state->allow->nlossy == 0)
	{
		/* nothing matches the indexable part of the filter */
		return NULL;
	}
	if (state->chosen == VX_FILTER_PREFILTER)
		src = ExecProcNode(state->sort_ps);
	else
		src = IndexRow(state);
	if (TupIsNull(src))
		return NULL;

	PointAtRow(dst, src);
	ExecMaterializeSlot(dst);
	return dst;
}

static bool
Recheck(ScanState *ss, TupleTableSlot *slot)
{
	/* not planned under row marks (filterplan.c), so never in EvalPlanQual */
	return true;
}

static TupleTableSlot *
Exec(CustomScanState *node)
{
	return ExecScan(&node->ss, Next, Recheck);
}

static void
DetachAllowList(VxFilterState *state)
{
	IndexScanDesc desc = IndexDesc(state);

	if (state->allow && desc)
		VxScanControlOf(desc)->allow = NULL;
	state->want_allow = NULL;
	state->want_limit = 0;
	state->allow = NULL;
	state->probing = false;
	state->buffer = NULL;
	state->nbuffer = state->maxbuffer = state->nextbuffer = 0;
	MemoryContextReset(state->allowcxt);
}

static void
End(CustomScanState *node)
{
	VxFilterState *state = (VxFilterState *) node;
	ListCell   *lc;

	DetachAllowList(state);
	foreach(lc, node->custom_ps)
		ExecEndNode((PlanState *) lfirst(lc));
}

static void
ReScan(CustomScanState *node)
{
	VxFilterState *state = (VxFilterState *) node;
	ListCell   *lc;

	DetachAllowList(state);
	state->started = false;
	foreach(lc, node->custom_ps)
	{
		PlanState  *child = (PlanState *) lfirst(lc);

		if (node->ss.ps.chgParam != NULL)
			UpdateChangedParamSet(child, node->ss.ps.chgParam);
		if (child->chgParam == NULL)
			ExecReScan(child);
	}
}

static void
Explain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	VxFilterState *state = (VxFilterState *) node;
	char	   *how;
	IndexScanDesc desc = IndexDesc(state);

	how = psprintf("%s%s%s%s", StrategyName(state->planned),
				   state->forced ? " (forced" : state->planned < 0 ? " (chosen at execution" :
				   state->probe > 0 ? " (auto, with a way out" : " (auto",
				   *state->note ? ": " : "", *state->note ? state->note : "");
	how = psprintf("%s)", how);
	ExplainPropertyText("Strategy", how, es);
	ExplainPropertyFloat("Estimated Selectivity", NULL, state->selectivity, 4, es);
	if (state->filter_ps &&
		(state->planned == VX_FILTER_PREFILTER || state->chosen == VX_FILTER_PREFILTER))
	{
		CustomScan *cs = (CustomScan *) node->ss.ps.plan;
		List	   *context = set_deparse_context_plan(es->deparse_cxt, (Plan *) cs, ancestors);

		ExplainPropertyText("Prefilter Keeps",
							psprintf("%d nearest by %s", Max(state->bound, 1),
									 deparse_expression(linitial(cs->custom_exprs), context,
														es->verbose, false)), es);
	}
	/* the filter's own path under a streaming strategy (Collect) */
	if (state->filter_ps && state->planned != VX_FILTER_PREFILTER && state->bound > 0)
		ExplainPropertyText("Exact Fallback",
							!es->analyze || state->executions == 0 ?
							psprintf("prefilter if the index scan ends before %d rows", state->bound) :
							state->fellback ?
							psprintf("used: the index scan ended after %d of %d rows",
									 state->index_rows, state->bound) :
							psprintf("not needed: the index scan gave %d rows", state->bound),
							es);
	if (state->planned < 0 && es->verbose)
		ExplainPropertyText("Adaptive Choice",
							psprintf("probe %.0f TIDs; then by allow-list rows: prefilter up to %.0f, inscan up to %.0f",
									 state->probe, state->premax, state->inmax), es);
	if (state->planned == VX_FILTER_POSTFILTER && state->probe > 0 && es->verbose)
		ExplainPropertyText("Way Out",
							psprintf("fewer than %d rows in %.0f TIDs: by allow-list rows, prefilter up to %.0f, else inscan",
									 state->k, state->probe, state->prein), es);
	if (!es->analyze || state->executions == 0)
		return;
	if (state->planned < 0 || state->probe > 0)
		ExplainPropertyText("Chosen Strategy",
							psprintf("%s%s", StrategyName(state->chosen),
									 state->probed ? (state->allow ? " (after a probe)" : " (by a probe)") : ""),
							es);
	if (state->bitmap_ps && state->built)
	{
		if (state->allow_overflow)
			ExplainPropertyText("Allow-List",
								psprintf("exceeded work_mem (%d kB), fell back to postfilter", work_mem), es);
		ExplainPropertyInteger("Allow-List TIDs", NULL, state->allow_tids, es);
		if (state->allow_lossy > 0 || es->format != EXPLAIN_FORMAT_TEXT)
			ExplainPropertyInteger("Allow-List Lossy Pages", NULL, state->allow_lossy, es);
	}
	if (desc)
		ExplainPropertyInteger("Index Elements Visited", NULL, (int64) VxScanControlOf(desc)->visited, es);
}

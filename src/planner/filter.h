/*-------------------------------------------------------------------------
 *
 * filter.h
 *	  Filtered vector search: how vectorx plans and runs
 *	    SELECT ... WHERE <filter> ORDER BY embedding <op> $1 LIMIT k
 *	  and the declarations shared by the files of src/planner.
 *
 * THE PROBLEM
 *	An ANN index scan hands back rows nearest first; a WHERE clause then
 *	drops the rows that do not match.  With a weak filter that is cheap.
 *	With a selective one (1% of rows) the scan must produce ~k/1% rows
 *	(every one a heap fetch) before k survive, and a plain index scan would
 *	end after ef rows and return fewer than k.  Filtering first is exact and
 *	cheap when few rows match and wasteful when many do.
 *
 * THREE STRATEGIES (vectorx.filter_strategy forces one; auto chooses)
 *	prefilter   the rows matching the filter, fetched by the best plain
 *				path (bitmap/index/sequential scan), exact distances, the k
 *				nearest kept in a heap by the node itself when the LIMIT is
 *				known (only those rows are copied), else a sort.  Exact.
 *	inscan		an allow-list: the TIDs of a bitmap index scan over the
 *				filter's indexable clauses (a btree on tenant_id, say),
 *				built before the ANN scan and consulted inside it.  HNSW
 *				traverses through elements that are not allowed but only
 *				returns allowed ones (hnsw.h, HnswFilter); IVF-PQ drops
 *				codes whose TID is not allowed before the re-rank.  The full
 *				filter is still evaluated on every returned row, so the
 *				allow-list may over-approximate (lossy pages, clauses no
 *				index covers).  Needs a bitmap path for some of the filter.
 *	postfilter	the ANN index scan with the filter on top; the scans stream
 *				(they continue past ef / the re-rank window while the
 *				executor asks).
 *				Chosen by auto with a bitmap path at hand, it has a way out:
 *				if 4 k / s heap TIDs bring fewer than k rows (the matching
 *				rows lie away from the query's neighbours, which statistics
 *				cannot see), it builds the allow-list and switches to
 *				prefilter or inscan.
 *
 * PLANNING (filterplan.c)
 *	A set_rel_pathlist_hook.  For a base relation (or a partition: each
 *	partition chooses for itself) with restriction clauses, and an ordered
 *	hnsw/ivfpq index path whose order is the query's ORDER BY, it adds,
 *	for each such path, a CustomPath "VectorX Filtered Search" per
 *	strategy, each costed with the filter's selectivity from PostgreSQL's
 *	statistics (rel->rows / the rows the index holds: rel->tuples, or a
 *	partial index's own reltuples, so that a per-tenant index's filter
 *	keeps about all it holds) and the index's own model of its scan (its
 *	access method's VxIndexKind.scan_model, src/common/indexkind.h;
 *	FILTER COSTS below).  The planner keeps the cheapest.  When the relation is the query's only one, the
 *	plain paths it replaces are removed, so the choice is between our
 *	strategies; in joins they stay and compete.
 *
 *	Generic plans: when the filter compares with parameters, the estimate
 *	made at planning is a guess, so the node is planned "adaptive": it
 *	carries every strategy's child and chooses when it runs.  If the
 *	estimate says the filter is weak, it probes first: the index scan runs
 *	with a limit of k / s_post heap TIDs (s_post: the selectivity above
 *	which the model prefers postfilter); k rows within it commit to
 *	postfilter (the rows found so far are returned first, nothing is
 *	redone).  Otherwise it counts the allow-list's TIDs (an exact figure
 *	for the indexable part of the filter) against the crossover counts the
 *	cost model gives and takes prefilter, inscan or postfilter (a fresh
 *	index scan when the probe ran out).
 *
 * K ROWS
 *	With the LIMIT known (bound > 0), inscan and postfilter plans also
 *	carry the filter's own path (the prefilter child): the node collects
 *	the index child's rows until it has LIMIT of them, and if the index
 *	scan ends first (visit budget spent, rows skipped for strict order,
 *	matching rows not reached) it answers by prefilter instead, so LIMIT
 *	rows come back whenever that many match.  Without a known LIMIT the
 *	rows stream as the index scan finds them.
 *
 * FILTER COSTS (in PostgreSQL cost units; N rows, s selectivity, R = sN)
 *	prefilter	cost of the filter path + cost_sort(R, bounded by k) +
 *				R exact distances
 *	postfilter	the index scan's first round, then per returned row 1/s
 *				elements visited and 1/s heap fetches with the filter
 *	inscan		the bitmap index scan and the allow-list, then the filtered
 *				search: (ef + k)/s_b elements visited and accept-checked
 *				(s_b: the allow-list's selectivity), one heap fetch per
 *				allowed element
 *	Per-element costs scale with the dimension (the access method's
 *	scan_model for a visit, ModelInit in filterplan.c for the rest).
 *
 * EXECUTION (filterexec.c)
 *	CustomScan children, by role: the ANN index scan (postfilter, inscan),
 *	the filter path (prefilter with a known LIMIT; custom_exprs holds the
 *	ORDER BY expression the node evaluates) or a sort over it (prefilter
 *	otherwise), the bitmap index scan that yields the allow-list (inscan).  The node returns its chosen child's
 *	rows (the filter was planned into that child, so the node itself
 *	evaluates nothing).  EXPLAIN shows the strategy, how it was chosen, the
 *	estimated selectivity, and under ANALYZE the allow-list size and the
 *	index elements visited.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_FILTER_H
#define VECTORX_FILTER_H

#include "access/genam.h"
#include "nodes/extensible.h"
#include "nodes/tidbitmap.h"

#include "scan.h"

/* vectorx.filter_strategy */
typedef enum VxFilterStrategy
{
	VX_FILTER_AUTO,
	VX_FILTER_PREFILTER,
	VX_FILTER_INSCAN,
	VX_FILTER_POSTFILTER,
	VX_FILTER_OFF				/* no hook: PostgreSQL's own plans */
} VxFilterStrategy;

extern int	vx_filter_strategy;

/* roles of a VectorX Filtered Search node's children (custom_plans) */
#define VX_CHILD_INDEX		0	/* the ordered ANN index scan */
#define VX_CHILD_SORT		1	/* sort over the filter's own path */
#define VX_CHILD_BITMAP		2	/* bitmap index scan: the allow-list */
#define VX_CHILD_FILTER		3	/* the filter's own path, unordered: the node
								 * keeps the k nearest itself (LIMIT known) */

/*
 * What a VectorX Filtered Search plan carries from planning to execution.
 * It travels in the CustomPath's and then the CustomScan's custom_private,
 * a List because plans are copied (plancache) and may be printed:
 * VxFilterPrivateToList and VxFilterPrivateFromList (filterplan.c) are the
 * only code that knows the list's layout.  Floats travel as float8 Consts,
 * exactly.
 */
typedef struct VxFilterPrivate
{
	int			strategy;		/* VX_FILTER_PREFILTER.., or -1: adaptive */
	bool		forced;			/* vectorx.filter_strategy forced it */
	double		selectivity;	/* the filter's, estimated at planning */
	int			bound;			/* rows the sort needs at most, 0 unknown */
	List	   *roles;			/* Integer VX_CHILD_* of each custom_plans entry */
	double		premax;			/* adaptive: prefilter up to this many TIDs */
	double		inmax;			/* adaptive: inscan up to this many TIDs */
	double		prein;			/* after a spent probe: prefilter up to this
								 * many TIDs, else inscan */
	double		probe;			/* probe the index for this many TIDs first
								 * (0: build the allow-list first) */
	int			k;				/* rows wanted (the LIMIT, else 10) */
	const char *note;			/* why a forced strategy fell back, or "" */
	Expr	   *orderby;		/* the ORDER BY distance (the plan moves a copy
								 * to custom_exprs) */
} VxFilterPrivate;

extern List *VxFilterPrivateToList(const VxFilterPrivate *priv);
extern void VxFilterPrivateFromList(List *list, VxFilterPrivate *priv);

extern void VxFilterInit(void);
extern Plan *VxFilterExecPlan(CustomScan *cs);
extern Plan *VxFilterPlanPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
							  List *tlist, List *clauses, List *custom_plans);

#endif							/* VECTORX_FILTER_H */

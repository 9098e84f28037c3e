/*-------------------------------------------------------------------------
 *
 * hnswscan.c
 *	  Index scans of an HNSW index: ORDER BY embedding <op> $1 returns heap
 *	  TIDs nearest first.  The first call searches (descend through the
 *	  upper levels, then a beam of hnsw.ef_search at level 0); when the
 *	  executor wants more rows than that round produced, the next round
 *	  resumes from what the previous one set aside (hnsw.h, ALGORITHM),
 *	  until hnsw.max_scan_tuples elements have been visited.  A filter
 *	  (HnswFilter) can be attached to the scan state for searches that only
 *	  return some rows, and a limit of heap TIDs after which the scan ends;
 *	  the filtered-search node sets both through the scan's VxScanControl
 *	  (src/common/scan.h), as the recall functions set the row to exclude.
 *	  Rounds after the first resume in place (HnswSearchResume).
 *
 *	  Order: every row found goes into a pool and is handed out by its
 *	  lower bound once the rows the search already scored lie beyond it
 *	  (Settled); the executor re-checks each bound with the row, so rows
 *	  come back in exact order.  A row found after a farther one was handed
 *	  out is checked against its exact distance and skipped if it would be
 *	  out of order (InOrder; hnsw.iterative_scan = strict_order, the
 *	  default).  All settings are read once, when the scan starts.  A scan
 *	  that runs out of graph to search walks the index once for live
 *	  elements the graph did not lead to (Sweep).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"
#include "querysample.h"
#include "scan.h"
#include "vxindex.h"

/* one row group of the current round: an element's heap TIDs and bound */
typedef struct HnswScanItem
{
	double		bound;			/* lower bound of the SQL distance (hnsw.h, VECTORS) */
	uint8		ntids;
	ItemPointerData tids[HNSW_HEAPTIDS];
} HnswScanItem;

/* the pool of rows found and not yet returned: the lowest bound on top */
#define VXH_PREFIX HnswScanPool
#define VXH_ELEMENT HnswScanItem
#define VXH_ABOVE(a, b) ((a).bound < (b).bound)
#include "vxheap.h"

typedef struct HnswScanOpaqueData
{
	MemoryContext cxt;			/* everything of the current search */
	HnswShape	shape;			/* copy: the relcache may flush its cache */
	float	   *query;
	bool		started;
	bool		done;			/* no more rounds */
	HnswPageGraph pg;
	VxIdHash   *visited;
	HnswNearHeap leftover;		/* to expand in the next round */
	HnswNearHeap discarded;		/* result candidates for the next round */
	HnswCandidate *results;		/* the current round, nearest first */
	HnswScanPool pool;			/* rows found, not yet returned */
	HnswScanItem cur;			/* the item being returned, TID by TID */
	int			nexttid;		/* next TID of cur; cur.ntids: none */
	double		maxgap;			/* most an estimate exceeded its bound (Settled) */
	bool		drained;		/* the discarded heap was drained since the last round */
	int			rounds;
	HnswFilter *filter;			/* NULL: every element qualifies */
	HnswFilter allow_filter;	/* what filter points at with an allow-list */
	VxScanControl ctl;			/* allow-list, limit, excluded row, counts
								 * (scan.h) */
	uint64		visited_total;	/* elements visited by earlier searches */

	/*
	 * The settings of the current search, read once when it starts: the
	 * arrays above are sized by ef, and a SET (or set_config() in the same
	 * query) between two rounds must not change them under a running scan.
	 */
	int			ef;				/* hnsw.ef_search */
	int			max_visits;		/* hnsw.max_scan_tuples */
	int			iterative;		/* hnsw.iterative_scan (VxIterativeScan) */
	double		max_memory;		/* bytes: work_mem * hnsw.scan_mem_multiplier */
	double		first_memory;	/* bytes the first round's search took */
	double		last_bound;		/* bound of the last row returned */
	bool		late;			/* cur's bound is below last_bound */
	IndexFetchTableData *fetch; /* heap access for late rows (InOrder) */
	TupleTableSlot *slot;
	BlockNumber heap_blocks;	/* the table's size, for VxCheckHeapTid */

	/*
	 * A query with no direction (NULL, or zero under cosine): every row
	 * ties, so the scan returns every row the index holds, in stream order
	 * (Walk), a page at a time.
	 */
	bool		walk;
	bool		walk_started;
	uint64		walk_next;		/* stream offset of the next record */
	uint64		walk_end;
	bool		orderbys_set;	/* scan->orderByData holds keys (a rescan ran) */
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

static bool AllowAccept(void *arg, uint32 id);
static bool InOrder(IndexScanDesc scan, ItemPointer tid);

IndexScanDesc
hnswbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswScanOpaque so = palloc0(sizeof(HnswScanOpaqueData));

	so->heap_blocks = InvalidBlockNumber;
	so->shape = *HnswGetShape(index);
	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw scan", ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	VxScanControlInit(&so->ctl);
	so->allow_filter.accept = AllowAccept;
	so->allow_filter.arg = so;
	/* the AM provides the ORDER BY value arrays (as GiST does) */
	if (norderbys > 0)
	{
		scan->xs_orderbyvals = palloc0(sizeof(Datum) * norderbys);
		scan->xs_orderbynulls = palloc(sizeof(bool) * norderbys);
		memset(scan->xs_orderbynulls, true, sizeof(bool) * norderbys);
	}
	return scan;
}

void
hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old;

	if (so->started && so->visited)
		so->visited_total += so->pg.graph.visited_elements;
	if (so->fetch)
		table_index_fetch_reset(so->fetch);
	MemoryContextReset(so->cxt);
	so->visited = NULL;
	so->started = false;
	so->done = false;
	so->ctl.returned = 0;
	so->query = NULL;
	HnswScanPoolInit(&so->pool, 0);	/* its memory went with the reset */
	so->cur.ntids = 0;
	so->late = false;
	so->nexttid = 0;
	so->maxgap = 0;
	so->drained = false;
	so->rounds = 0;
	so->last_bound = -get_float8_infinity();
	so->walk = so->walk_started = false;
	so->walk_next = so->walk_end = 0;
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
	{
		/*
		 * The executor's keys come with a fresh FmgrInfo each rescan: keep
		 * the distance function's call-site state (fn_extra, allocated in
		 * the query's context) of the previous one, or every rescan of a
		 * LATERAL k-NN would allocate it anew until the query ends.
		 */
		FmgrInfo	prev = scan->orderByData[0].sk_func;

		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
		if (so->orderbys_set && prev.fn_oid == scan->orderByData[0].sk_func.fn_oid &&
			prev.fn_mcxt == scan->orderByData[0].sk_func.fn_mcxt)
			scan->orderByData[0].sk_func.fn_extra = prev.fn_extra;
		so->orderbys_set = true;
	}

	old = MemoryContextSwitchTo(so->cxt);
	if (scan->numberOfOrderBys > 0 && !(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		so->query = palloc(so->shape.codec.vec_bytes);
		if (!HnswPrepareVector(&so->shape, scan->orderByData[0].sk_argument, so->query))
		{
			/* zero vector under cosine: every distance is NaN, every row ties */
			so->query = NULL;
			so->walk = true;
		}
		/* the samples are dense float vectors: bit and sparsevec queries are not */
		if (so->shape.codec.elem != VX_ELEM_BIT && so->shape.codec.elem != VX_ELEM_SPARSE)
			VxSampleQuery(scan->indexRelation, scan->orderByData[0].sk_argument,
						  so->shape.codec.elem == VX_ELEM_HALFVEC);
	}
	else
		so->walk = true;		/* ORDER BY v <-> NULL: every distance is NULL */
	MemoryContextSwitchTo(old);
}

/* the SQL distance that internal distance d estimates (hnsw.h, VECTORS) */
static double
Estimate(const HnswShape *shape, double d)
{
	switch (shape->codec.metric)
	{
		case VX_METRIC_L2:
			return sqrt(Max(d, 0.0));
		case VX_METRIC_COSINE:
			return 1.0 + d;
		default:
			return d;
	}
}

/*
 * Turn a round's nresults candidates into items in the pool: each live
 * element's heap TIDs with the lower bound of their SQL distance, read
 * together with the distance it is derived from (HnswReadResult).  The
 * pool hands them out by bound, so that the executor's re-check returns
 * rows in exact order.  Returns how many were added.
 */
static int
Materialize(HnswScanOpaque so, int nresults)
{
	int			added = 0;

	for (int i = 0; i < nresults; i++)
	{
		HnswElementData head;
		VxQuant	quant;
		float		d;
		HnswScanItem item;

		if (!HnswReadResult(&so->pg, so->results[i].id, &head, &quant, &d))
			continue;
		item.bound = VxLowerBound(&so->shape.codec, &so->pg.query, &quant, d);
		item.ntids = Min(head.ntids, HNSW_HEAPTIDS);
		memcpy(item.tids, head.heaptids, sizeof(ItemPointerData) * item.ntids);
		if (!isnan(item.bound))
			so->maxgap = Max(so->maxgap, Estimate(&so->shape, d) - item.bound);
		HnswScanPoolPush(&so->pool, item);
		added++;
	}
	return added;
}

/*
 * Strict order: may the pool's lowest bound be handed out now?  The
 * search has scored elements it set aside (discarded), each with an
 * internal distance; the pool's row is settled when its bound is at most
 * their nearest estimate less the largest gap between an estimate and its
 * bound seen so far, else they are drained into the pool first.  Elements
 * not yet reached (behind those left to expand) are not waited for: on
 * high-dimensional data a search that waited for its frontier would expand
 * most of the graph to return LIMIT 100 (measured: every element of a
 * 20000 x 128 random table, 10x the time; a budget of twice the rounds
 * gained little on a poor 2-d graph for 1.3x the time).  A row they bring
 * that is nearer than one returned is skipped (InOrder).
 */
static bool
Settled(HnswScanOpaque so, double bound)
{
	double		frontier = get_float8_infinity();

	if (so->done)
		return true;
	if (so->discarded.count > 0)
		frontier = Min(frontier, Estimate(&so->shape, HnswNearHeapTop(&so->discarded).distance));
	return bound <= frontier - so->maxgap;
}

/*
 * How many times wider the first round must be for its ranking to mean
 * something (hnsw.h, VECTORS, "Quantization noise"): 1 when the ef results'
 * estimates span more than the quantization error could reorder, up to
 * HNSW_SCAN_MAX_WIDEN when the error swamps the span.  maxgap, the largest
 * amount by which an estimate exceeded its lower bound, is the error of
 * an estimate in SQL-distance units; estimates err both ways, so two
 * rows whose true distances differ by less than twice that may trade
 * places.  A round that filled its ef slots but spans less than 2 maxgap
 * chose and stopped on noise: rows of the true nearest lie among
 * candidates it never expanded, and strict order then skips them when a
 * later round finds them.
 */
static int
WidenFactor(HnswScanOpaque so, int nresults)
{
	double		spread;
	double		need;

	if (nresults < so->ef || nresults < 2)
		return 1;				/* the round saw everything it could reach */
	spread = Estimate(&so->shape, so->results[nresults - 1].distance) -
		Estimate(&so->shape, so->results[0].distance);
	need = 2 * so->maxgap;
	if (!(need > spread))		/* also NaN */
		return 1;
	if (spread <= 0 || need >= spread * HNSW_SCAN_MAX_WIDEN)
		return HNSW_SCAN_MAX_WIDEN;
	return (int) ceil(need / spread);
}

/*
 * The fields of every level-0 search of the scan (HnswSearch): its beam,
 * filter, visited set, and the heaps that let a later round resume.
 */
static HnswSearch
ScanSearch(HnswScanOpaque so, const HnswCandidate *entries, int nentries)
{
	HnswSearch	s = {
		.graph = &so->pg.graph,
		.entries = entries,
		.nentries = nentries,
		.ef = so->ef,
		.level = 0,
		.visited = so->visited,
		.filter = so->filter,
		.leftover = &so->leftover,
		.discarded = &so->discarded,
		.out = so->results,
	};

	return s;
}

/* first round: descend from the entry point, then search level 0 */
static void
FirstRound(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	HnswMetaPageData meta;
	HnswCandidate entry[2];
	int			nentries;
	int			ef;
	int			widen;
	int			nresults;
	HnswSearch	search;

	/* every setting of this search, once (see HnswScanOpaqueData) */
	so->ef = ef = hnsw_ef_search;
	so->max_visits = hnsw_max_scan_tuples;
	so->iterative = hnsw_iterative_scan;
	so->max_memory = (double) work_mem * 1024.0 * hnsw_scan_mem_multiplier;
	HnswReadMeta(scan->indexRelation, &meta);
	if (meta.entry_point == HNSW_INVALID_ID || so->query == NULL)
	{
		so->done = true;
		return;
	}
	HnswPageGraphInit(&so->pg, scan->indexRelation, &so->shape, so->query);
	so->filter = so->ctl.allow ? &so->allow_filter : NULL;
	so->pg.exclude = so->ctl.exclude;
	so->pg.graph.max_visits = so->max_visits;
	so->visited = VxIdHashCreate(ef * so->shape.m * 4);
	HnswNearHeapInit(&so->leftover, ef * 4);
	HnswNearHeapInit(&so->discarded, ef * 4);
	so->results = palloc(sizeof(HnswCandidate) * ef * HNSW_SCAN_MAX_WIDEN);

	VX_WAIT_POINT("hnsw_scan_search");
	entry[0].id = meta.entry_point;
	entry[0].distance = so->pg.graph.distance(&so->pg.graph, entry[0].id);
	entry[1] = entry[0];
	if (meta.entry_level > 0)
		entry[0].id = HnswGreedyDescend(&so->pg.graph, entry[0].id, &entry[0].distance,
										meta.entry_level, 1);

	/*
	 * The entry point itself also seeds level 0: every live element is
	 * reachable from it (hnsw.h, I6), not necessarily from where the descent
	 * ended, and a scan the executor drains must return every row.
	 */
	VxIdHashTestAndAdd(so->visited, entry[0].id);
	nentries = VxIdHashTestAndAdd(so->visited, entry[1].id) ? 1 : 2;
	search = ScanSearch(so, entry, nentries);
	nresults = HnswSearchLayer(&search);
	(void) Materialize(so, nresults);

	/*
	 * Quantization noise larger than the span of the results: search again,
	 * from the same entries, with a beam wide enough to span it.  Only
	 * dense low-dimensional data gets here (hnsw.h, VECTORS); the first
	 * search's rows are found again, and nothing was handed out yet.
	 */
	widen = WidenFactor(so, nresults);
	if (widen > 1)
	{
		so->ef = ef = ef * widen;
		HnswScanPoolReset(&so->pool);
		so->maxgap = 0;
		HnswNearHeapReset(&so->leftover);
		HnswNearHeapReset(&so->discarded);
		VxIdHashReset(so->visited);
		VxIdHashTestAndAdd(so->visited, entry[0].id);
		(void) VxIdHashTestAndAdd(so->visited, entry[1].id);
		search = ScanSearch(so, entry, nentries);
		(void) Materialize(so, HnswSearchLayer(&search));
	}
	so->rounds = 1;
	so->first_memory = (double) MemoryContextMemAllocated(so->cxt, true);
}

/*
 * Before searching further: the best ef elements the search scored and
 * accepted but did not return (a round ends with many).  Often the executor
 * only needs one more row's bound to confirm the last of LIMIT k, and these
 * give it without a search.  They go to the leftover heap, to be expanded
 * but never returned again.
 */
static bool
DrainDiscarded(HnswScanOpaque so)
{
	int			n = 0;

	while (n < so->ef && so->discarded.count > 0)
	{
		HnswCandidate c = HnswNearHeapPop(&so->discarded);

		so->results[n++] = c;
		HnswNearHeapPush(&so->leftover, c);
	}
	return Materialize(so, n) > 0;
}

/*
 * The search ran out of elements to expand: every element reachable from
 * where it started has been scored.  Any live element not visited is cut
 * off from the graph (I6 broken: a crash between an insert's back-links,
 * or links an insert's relink missed, until VACUUM reconnects them), and
 * a scan the executor drains must still return its rows.  So walk the
 * element stream once and pool every live, unvisited element the filter
 * accepts, within what is left of hnsw.max_scan_tuples; strict order then
 * skips those nearer than a row already returned, as it does any late
 * row.  The walk reads each page once; the scan got here only by scoring
 * all it could reach, and with the graph whole it finds nothing.
 */
static void
Sweep(HnswScanOpaque so)
{
	HnswMetaPageData meta;
	HnswStreamCursor c;
	uint32	   *ids;
	Size		nids = 0,
				maxids = 1024,
				found = 0;
	HnswGraph  *g = &so->pg.graph;

	HnswReadMeta(so->pg.index, &meta);
	ids = palloc(sizeof(uint32) * maxids);
	HnswStreamBegin(&c, so->pg.index, &so->shape, meta.stream_end, NULL, BUFFER_LOCK_SHARE);
	while (HnswStreamNext(&c))
	{
		HnswElement e = (HnswElement) c.rec;
		uint32		id = HnswOffsetId(c.pos);
		bool		excluded = false;
		bool		allowed = so->ctl.allow == NULL;

		CHECK_FOR_INTERRUPTS();
		if (e->kind != HNSW_KIND_ELEMENT || e->flags != 0 || e->ntids == 0)
			continue;
		if (g->max_visits > 0 && g->visited_elements >= g->max_visits)
			break;
		if (VxIdHashTestAndAdd(so->visited, id))
			continue;
		g->visited_elements++;

		/*
		 * The filter (the allow-list's, AllowAccept) from the record in
		 * hand: AllowAccept would lock the page the cursor holds.
		 */
		for (int i = 0; i < e->ntids && i < HNSW_HEAPTIDS; i++)
		{
			if (ItemPointerIsValid(&so->pg.exclude))
				excluded |= ItemPointerEquals(&e->heaptids[i], &so->pg.exclude);
			if (so->ctl.allow)
				allowed |= VxAllowListContains(so->ctl.allow, &e->heaptids[i]);
		}
		if (excluded || !allowed)
			continue;
		if (nids == maxids)
		{
			maxids *= 2;
			ids = repalloc_huge(ids, sizeof(uint32) * maxids);
		}
		ids[nids++] = id;
	}
	HnswStreamEnd(&c);
	/* scored and pooled with no stream page locked (HnswReadResult locks them) */
	for (Size i = 0; i < nids; i += so->ef)
	{
		int			n = (int) Min((Size) so->ef, nids - i);

		for (int j = 0; j < n; j++)
			so->results[j].id = ids[i + j];
		found += Materialize(so, n);
	}
	pfree(ids);
	if (found > 0)
		elog(DEBUG1, "hnsw scan of \"%s\": %zu elements the graph does not reach, found by walking the index (VACUUM reconnects them)",
			 RelationGetRelationName(so->pg.index), found);
}

/* a further round from what the previous ones set aside */
static void
NextRound(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	int			nresults;
	HnswSearch	search;

	if (so->iterative == VX_ITERATIVE_OFF ||
		(so->pg.graph.max_visits > 0 && so->pg.graph.visited_elements >= so->pg.graph.max_visits))
	{
		so->done = true;
		return;
	}
	/*
	 * The limit bounds what later rounds add: the first round's state is
	 * what ef_search asks for (its visited set alone, sized for ef * m * 4
	 * ids, can pass the default work_mem at ef_search 1000 and m 64).
	 */
	if ((double) MemoryContextMemAllocated(so->cxt, true) - so->first_memory > so->max_memory)
	{
		elog(DEBUG1, "hnsw scan of \"%s\" reached its memory limit after visiting %llu elements",
			 RelationGetRelationName(so->pg.index),
			 (unsigned long long) so->pg.graph.visited_elements);
		so->done = true;
		return;
	}
	if (so->leftover.count + so->discarded.count == 0)
	{
		Sweep(so);
		so->done = true;
		return;
	}
	search = ScanSearch(so, NULL, 0);
	nresults = HnswSearchResume(&search);
	(void) Materialize(so, nresults);
	so->rounds++;
	if (nresults == 0)
	{
		if (so->leftover.count + so->discarded.count == 0)
			Sweep(so);
		so->done = true;
	}
}

/*
 * Walk mode: pool the rows of the live elements whose heads lie on the
 * next page of the stream, as the allow-list and the excluded row let
 * them; at the end of the stream, set done.  No lock is held between
 * calls: an element written behind the walk is not seen, as a sequential
 * scan does not see rows added behind it (its row is not in the snapshot
 * anyway unless this transaction wrote it).
 */
static void
WalkPage(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	HnswStreamCursor c;

	if (!so->walk_started)
	{
		HnswMetaPageData meta;

		HnswReadMeta(scan->indexRelation, &meta);
		so->walk_end = meta.stream_end;
		so->walk_next = 0;
		so->walk_started = true;
	}
	HnswStreamBegin(&c, scan->indexRelation, &so->shape, so->walk_end, NULL, BUFFER_LOCK_SHARE);
	c.next = so->walk_next;
	if (!HnswStreamNextPage(&c))
		so->done = true;
	while (HnswStreamNextRecord(&c))
	{
		HnswElement e = (HnswElement) c.rec;
		HnswScanItem item = {.bound = 0, .ntids = 0};

		if (e->kind != HNSW_KIND_ELEMENT || e->flags != 0)
			continue;
		for (int i = 0; i < Min(e->ntids, HNSW_HEAPTIDS); i++)
		{
			if (ItemPointerIsValid(&so->ctl.exclude) &&
				ItemPointerEquals(&e->heaptids[i], &so->ctl.exclude))
				continue;
			if (so->ctl.allow && !VxAllowListContains(so->ctl.allow, &e->heaptids[i]))
				continue;
			item.tids[item.ntids++] = e->heaptids[i];
		}
		if (item.ntids > 0)
			HnswScanPoolPush(&so->pool, item);
	}
	so->walk_next = c.next;
	HnswStreamEnd(&c);
}

/*
 * The scan of a query with no direction: every row the index holds, in no
 * order, since they all tie (pgvector returns some of them: those within
 * ef_search, or its scan budget).  The ORDER BY value is not rechecked.
 */
static bool
Walk(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	for (;;)
	{
		if (so->ctl.limit > 0 && so->ctl.returned >= so->ctl.limit)
			return false;
		if (so->nexttid < so->cur.ntids)
		{
			ItemPointerData tid = so->cur.tids[so->nexttid++];

			VxReturnUnordered(scan, &so->heap_blocks, &tid);
			so->ctl.returned++;
			return true;
		}
		if (so->pool.count > 0)
		{
			so->cur = HnswScanPoolPop(&so->pool);
			so->nexttid = 0;
			continue;
		}
		if (so->done)
			return false;
		CHECK_FOR_INTERRUPTS();
		WalkPage(scan);
	}
}

bool
hnswgettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->cxt);

	if (!ScanDirectionIsForward(dir))
		elog(ERROR, "hnsw index scans go forward only");

	if (so->walk)
	{
		bool		found;

		if (!so->started)
		{
			so->started = true;
			pgstat_count_index_scan(scan->indexRelation);
		}
		found = Walk(scan);
		MemoryContextSwitchTo(old);
		return found;
	}

	if (!so->started)
	{
		so->started = true;
		pgstat_count_index_scan(scan->indexRelation);
		FirstRound(scan);
	}

	for (;;)
	{
		if (so->ctl.limit > 0 && so->ctl.returned >= so->ctl.limit)
			break;				/* a filtered search's probe (scan.h) */
		if (so->nexttid == so->cur.ntids && so->pool.count > 0 &&
			(so->iterative == VX_ITERATIVE_RELAXED || so->iterative == VX_ITERATIVE_OFF ||
			 Settled(so, HnswScanPoolTop(&so->pool).bound)))
		{
			so->cur = HnswScanPoolPop(&so->pool);
			so->nexttid = 0;

			/*
			 * The executor re-checks each row against the last bound it was
			 * handed and returns rows in exact order only while the bounds
			 * it gets never decrease.  An element whose bound is below one
			 * already handed out was found too late: returning it would put
			 * it out of order, so strict order skips it; relaxed order
			 * returns it.
			 */
			so->late = so->cur.bound < so->last_bound && so->iterative != VX_ITERATIVE_RELAXED;
			so->last_bound = Max(so->last_bound, so->cur.bound);
		}
		if (so->nexttid < so->cur.ntids)
		{
			ItemPointerData tid = so->cur.tids[so->nexttid++];

			VxCheckHeapTid(scan->indexRelation, scan->heapRelation, &so->heap_blocks, &tid);

			/*
			 * A late row (bound below one already handed out) is in order
			 * only if its exact distance is at least that bound: then it is
			 * handed out with that bound, else skipped.
			 */
			if (so->late && !InOrder(scan, &tid))
				continue;
			so->ctl.returned++;
			scan->xs_heaptid = tid;
			/*
			 * a lower bound: the executor computes the exact distance
			 * (hnsw.h, VECTORS); a Hamming distance is exact already (the
			 * SQL function's count), so the row is not read again for it,
			 * unless it is late (its value is then the bound before it)
			 */
			scan->xs_recheck = false;
			scan->xs_recheckorderby = so->shape.codec.metric != VX_METRIC_HAMMING || so->late;
			if (scan->numberOfOrderBys > 0)
			{
				scan->xs_orderbyvals[0] = Float8GetDatum(so->late ? so->last_bound : so->cur.bound);
				scan->xs_orderbynulls[0] = false;
			}
			MemoryContextSwitchTo(old);
			return true;
		}
		if (so->done || (so->iterative == VX_ITERATIVE_OFF && so->rounds > 0))
		{
			if (so->pool.count > 0)
			{
				so->done = true;	/* nothing more to find: the pool is settled */
				continue;
			}
			break;
		}
		CHECK_FOR_INTERRUPTS();
		if (!so->drained)
		{
			so->drained = true;
			if (DrainDiscarded(so))
				continue;
		}
		NextRound(scan);
		so->drained = false;
	}
	MemoryContextSwitchTo(old);
	return false;
}

/*
 * Strict order, a late row: the executor has returned only rows whose
 * exact distance is at most the last bound handed out (last_bound), so
 * this row is in order if its own exact distance is at least that.  The
 * distance is the ORDER BY operator's own function on the row the scan's
 * snapshot sees, the value the executor will compute; a row the snapshot
 * does not see, or an expression index (no column to read), is skipped.
 */
static bool
InOrder(IndexScanDesc scan, ItemPointer tid)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	AttrNumber	attno = scan->indexRelation->rd_index->indkey.values[0];
	ScanKey		key = &scan->orderByData[0];
	bool		call_again = false,
				all_dead = false,
				isnull;
	Datum		value;
	double		d;
	ItemPointerData fetch_tid;

	if (attno == 0 || scan->numberOfOrderBys == 0 || scan->xs_snapshot == InvalidSnapshot)
		return false;
	if (so->fetch == NULL)
	{
		/* the scan's context (not so->cxt, which a rescan resets) */
		MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(so));

		so->slot = table_slot_create(scan->heapRelation, NULL);
		so->fetch = table_index_fetch_begin(scan->heapRelation);
		MemoryContextSwitchTo(old);
	}
	/*
	 * On a copy of the TID: the fetch moves it to the visible member of a
	 * HOT chain, from which the executor's own fetch would find nothing.
	 */
	fetch_tid = *tid;
	if (!table_index_fetch_tuple(so->fetch, &fetch_tid, scan->xs_snapshot, so->slot, &call_again, &all_dead))
		return false;
	value = slot_getattr(so->slot, attno, &isnull);
	if (isnull)
	{
		ExecClearTuple(so->slot);
		return false;
	}
	d = DatumGetFloat8(FunctionCall2Coll(&key->sk_func, key->sk_collation, value, key->sk_argument));
	ExecClearTuple(so->slot);
	return isnan(d) || d >= so->last_bound;
}

/* the allow-list's filter: does any heap TID of element id pass? */
static bool
AllowAccept(void *arg, uint32 id)
{
	HnswScanOpaque so = (HnswScanOpaque) arg;
	HnswElementData head;

	if (!HnswReadElementHead(&so->pg, id, &head))
		return false;
	for (int i = 0; i < Min(head.ntids, HNSW_HEAPTIDS); i++)
		if (VxAllowListContains(so->ctl.allow, &head.heaptids[i]))
			return true;
	return false;
}

/* the controls of this scan (scan.h), its visited count brought up to date */
VxScanControl *
HnswScanControl(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	so->ctl.visited = so->visited_total + (so->started && so->visited ? so->pg.graph.visited_elements : 0);
	return &so->ctl;
}

void
hnswendscan(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	if (so->slot)
		ExecDropSingleTupleTableSlot(so->slot);
	if (so->fetch)
		table_index_fetch_end(so->fetch);

	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}

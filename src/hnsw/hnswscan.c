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
 *	  the filtered-search node sets both (src/planner/filter.h).  Rounds
 *	  after the first resume in place (HnswSearchResume).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "filter.h"
#include "hnsw.h"
#include "monitor.h"

/* one row group of the current round: an element's heap TIDs and bound */
typedef struct HnswScanItem
{
	double		bound;			/* lower bound of the SQL distance (hnsw.h, VECTORS) */
	uint8		ntids;
	ItemPointerData tids[HNSW_HEAPTIDS];
} HnswScanItem;

typedef struct HnswScanOpaqueData
{
	MemoryContext cxt;			/* everything of the current search */
	HnswShape	shape;			/* copy: the relcache may flush its cache */
	float	   *query;
	bool		started;
	bool		done;			/* no more rounds */
	HnswPageGraph pg;
	HnswVisited *visited;
	HnswHeap	leftover;		/* to expand in the next round */
	HnswHeap	discarded;		/* result candidates for the next round */
	HnswCandidate *results;		/* the current round, nearest first */
	HnswScanItem *items;		/* its live elements, by bound */
	int			nitems;
	int			next;			/* next item to return */
	int			nexttid;		/* next TID of items[next] */
	bool		drained;		/* the discarded heap was drained since the last round */
	int			rounds;
	HnswFilter *filter;			/* NULL: every element qualifies */
	HnswFilter allow_filter;	/* what filter points at with an allow-list */
	VxScanControl ctl;			/* allow-list, limit, counts (src/planner) */
	uint64		visited_total;	/* elements visited by earlier searches */
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

static bool AllowAccept(void *arg, uint32 id);

IndexScanDesc
hnswbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswScanOpaque so = palloc0(sizeof(HnswScanOpaqueData));

	so->shape = *HnswGetShape(index);
	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw scan", ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	so->ctl = VxTakePendingScan(index);
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
	MemoryContextReset(so->cxt);
	so->visited = NULL;
	so->started = false;
	so->done = false;
	so->ctl.returned = 0;
	so->query = NULL;
	so->nitems = so->next = so->nexttid = 0;
	so->drained = false;
	so->rounds = 0;
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));

	old = MemoryContextSwitchTo(so->cxt);
	if (scan->numberOfOrderBys > 0 && !(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		so->query = palloc(sizeof(float) * so->shape.dims);
		if (!HnswPrepareVector(&so->shape, scan->orderByData[0].sk_argument, so->query))
			so->query = NULL;	/* zero vector under cosine: no direction, no rows */
		VxSampleQuery(scan->indexRelation, scan->orderByData[0].sk_argument);
	}
	MemoryContextSwitchTo(old);
}

static int
CompareItems(const void *a, const void *b)
{
	double		x = ((const HnswScanItem *) a)->bound;
	double		y = ((const HnswScanItem *) b)->bound;

	return x < y ? -1 : x > y;
}

/*
 * Turn a round's nresults candidates into items: each live element's heap
 * TIDs with the lower bound of their SQL distance, read together with the
 * distance it is derived from (HnswReadResult), sorted by bound so that
 * the executor's re-check returns rows in exact order.
 */
static void
Materialize(HnswScanOpaque so, int nresults)
{
	so->nitems = so->next = so->nexttid = 0;
	for (int i = 0; i < nresults; i++)
	{
		HnswElementData head;
		HnswQuant	quant;
		float		d;
		HnswScanItem *item = &so->items[so->nitems];

		if (!HnswReadResult(&so->pg, so->results[i].id, &head, &quant, &d))
			continue;
		item->bound = HnswLowerBound(&so->shape, &so->pg.query, &quant, d);
		item->ntids = Min(head.ntids, HNSW_HEAPTIDS);
		memcpy(item->tids, head.heaptids, sizeof(ItemPointerData) * item->ntids);
		so->nitems++;
	}
	qsort(so->items, so->nitems, sizeof(HnswScanItem), CompareItems);
}

/* first round: descend from the entry point, then search level 0 */
static void
FirstRound(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	HnswMetaPageData meta;
	HnswCandidate entry[2];
	int			nentries;
	int			ef = hnsw_ef_search;

	HnswReadMeta(scan->indexRelation, &meta);
	if (meta.entry_point == HNSW_INVALID_ID || so->query == NULL)
	{
		so->done = true;
		return;
	}
	HnswPageGraphInit(&so->pg, scan->indexRelation, &so->shape, so->query);
	so->filter = so->ctl.allow ? &so->allow_filter : NULL;
	so->pg.exclude = vx_recall_exclude;
	so->pg.graph.max_visits = hnsw_max_scan_tuples;
	so->visited = HnswVisitedCreate(ef * so->shape.m * 4);
	HnswHeapInit(&so->leftover, ef * 4, false);
	HnswHeapInit(&so->discarded, ef * 4, false);
	so->results = palloc(sizeof(HnswCandidate) * ef);
	so->items = palloc(sizeof(HnswScanItem) * ef);

	entry[0].id = meta.entry_point;
	entry[0].distance = so->pg.graph.distance(&so->pg.graph, entry[0].id);
	entry[1] = entry[0];
	if (meta.entry_level > 0)
		entry[0].id = HnswGreedyDescend(&so->pg.graph, entry[0].id, &entry[0].distance,
										meta.entry_level, 1);
	HnswVisitedTestAndSet(so->visited, entry[0].id);
	/*
	 * The entry point itself also seeds level 0: every live element is
	 * reachable from it (hnsw.h, I6), not necessarily from where the descent
	 * ended, and a scan the executor drains must return every row.
	 */
	nentries = HnswVisitedTestAndSet(so->visited, entry[1].id) ? 1 : 2;
	Materialize(so, HnswSearchLayer(&so->pg.graph, entry, nentries, 0, ef, 0, so->visited,
									so->filter, &so->leftover, &so->discarded, so->results));
	so->rounds = 1;
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

	while (n < hnsw_ef_search && so->discarded.count > 0)
	{
		HnswCandidate c = HnswHeapPop(&so->discarded);

		so->results[n++] = c;
		HnswHeapPush(&so->leftover, c);
	}
	Materialize(so, n);
	return so->nitems > 0;
}

/* a further round from what the previous ones set aside */
static void
NextRound(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	int			nresults;

	if (so->leftover.count + so->discarded.count == 0 ||
		(so->pg.graph.max_visits > 0 && so->pg.graph.visited_elements >= so->pg.graph.max_visits))
	{
		so->done = true;
		so->nitems = so->next = 0;
		return;
	}
	nresults = HnswSearchResume(&so->pg.graph, &so->leftover, &so->discarded, hnsw_ef_search,
								so->visited, so->filter, so->results);
	Materialize(so, nresults);
	so->rounds++;
	if (nresults == 0)
		so->done = true;
}

bool
hnswgettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->cxt);

	if (!ScanDirectionIsForward(dir))
		elog(ERROR, "hnsw index scans go forward only");

	if (!so->started)
	{
		so->started = true;
		pgstat_count_index_scan(scan->indexRelation);
		FirstRound(scan);
	}

	for (;;)
	{
		if (so->ctl.limit > 0 && so->ctl.returned >= so->ctl.limit)
			break;				/* a filtered search's probe (filter.h) */
		if (so->next < so->nitems)
		{
			HnswScanItem *item = &so->items[so->next];

			so->ctl.returned++;
			scan->xs_heaptid = item->tids[so->nexttid];
			if (++so->nexttid == item->ntids)
			{
				so->next++;
				so->nexttid = 0;
			}
			/* a lower bound: the executor computes the exact distance (hnsw.h, VECTORS) */
			scan->xs_recheck = false;
			scan->xs_recheckorderby = true;
			if (scan->numberOfOrderBys > 0)
			{
				scan->xs_orderbyvals[0] = Float8GetDatum(item->bound);
				scan->xs_orderbynulls[0] = false;
			}
			MemoryContextSwitchTo(old);
			return true;
		}
		if (so->done)
			break;
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

/* the filtered-search controls of this scan (filter.h) */
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

	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}

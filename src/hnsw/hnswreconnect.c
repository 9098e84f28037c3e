/*-------------------------------------------------------------------------
 *
 * hnswreconnect.c
 *	  The reconnect pass (hnsw.h, VACUUM V2b): make every live element
 *	  reachable at level 0 from the entry point again, after an insert's
 *	  pruning or vacuum's repairs cut it off (invariant I6).  HnswReconnect
 *	  works through HnswReconnectOps, so that one pass serves the build's
 *	  arena (hnswbuild.c supplies its ops) and the index's pages
 *	  (HnswReconnectIndex, here: used by VACUUM and by a build that
 *	  continued on disk).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "commands/vacuum.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"

/* ---------------------------------------------------------------- the pass */

/* the state of one reconnect pass */
typedef struct Reconnect
{
	const HnswShape *shape;
	const HnswReconnectOps *ops;
	uint32		entry;
	int			entry_level;
	HnswIdSet	reach;			/* reachable from the entry point */
	HnswIdSet	expanded;		/* reach members whose list was read */
	HnswIdSet	late;			/* made reachable by this round's links */
	uint32	   *buf;			/* a list being read */
	uint32	   *buf2;
	uint32	   *missing;		/* live elements not in reach */
	Size		nmissing;
	Size		maxmissing;
	uint32	   *queue;			/* for Spread */
	Size		qcap;
	uint64		work;			/* lists read, for pausing */
} Reconnect;

static inline void
Work(Reconnect *r)
{
	if (++r->work % 64 == 0)
		r->ops->pause(r->ops->arg);
}

/*
 * Everything reachable at level 0 from the entry point, into reach.  The
 * bitmap is swept in id order (stream order: sequential reads), expanding
 * members not yet expanded; a sweep that added members behind its position
 * is followed by another.  No queue: memory stays at the bitmaps.
 */
static void
SweepReachable(Reconnect *r)
{
	bool		again = true;

	HnswIdSetClear(&r->reach);
	HnswIdSetClear(&r->expanded);
	HnswIdSetAdd(&r->reach, r->entry);
	while (again)
	{
		again = false;
		for (Size w = 0; w < r->reach.nwords; w++)
		{
			uint64		pending;

			while ((pending = r->reach.words[w] & ~r->expanded.words[w]) != 0)
			{
				uint32		id = (uint32) (w * 64 + pg_rightmost_one_pos64(pending));
				int			n;

				r->expanded.words[w] |= UINT64CONST(1) << (id & 63);
				n = r->ops->read(r->ops->arg, id, r->buf);
				for (int i = 0; i < n; i++)
				{
					uint32		nb = r->buf[i];

					if (HnswIdSetHas(&r->reach, nb))
						continue;
					HnswIdSetAdd(&r->reach, nb);
					if ((nb >> 6) < w)
						again = true;
				}
				Work(r);
			}
		}
	}
}

/*
 * Add to reach (and late) everything reachable from x that is not yet in
 * reach: what linking x made reachable.  These were all unreachable, so
 * the queue holds at most the round's missing elements.
 */
static void
Spread(Reconnect *r, uint32 x)
{
	Size		head = 0,
				tail = 0;

	if (HnswIdSetHas(&r->reach, x))
		return;
	HnswIdSetAdd(&r->reach, x);
	HnswIdSetAdd(&r->late, x);
	r->queue[tail++] = x;
	while (head < tail)
	{
		uint32		id = r->queue[head++];
		int			n = r->ops->read(r->ops->arg, id, r->buf);

		HnswIdSetAdd(&r->expanded, id);
		for (int i = 0; i < n; i++)
		{
			uint32		nb = r->buf[i];

			if (HnswIdSetHas(&r->reach, nb))
				continue;
			HnswIdSetAdd(&r->reach, nb);
			HnswIdSetAdd(&r->late, nb);
			if (tail == r->qcap)
			{
				r->qcap *= 2;
				r->queue = repalloc_huge(r->queue, sizeof(uint32) * r->qcap);
			}
			r->queue[tail++] = nb;
		}
		Work(r);
	}
}

static void
CollectMissing(void *arg, uint32 id)
{
	Reconnect  *r = (Reconnect *) arg;

	if (HnswIdSetHas(&r->reach, id))
		return;
	if (r->nmissing == r->maxmissing)
	{
		r->maxmissing *= 2;
		r->missing = repalloc_huge(r->missing, sizeof(uint32) * r->maxmissing);
	}
	r->missing[r->nmissing++] = id;
}

/*
 * Put x into host's level-0 list: into a free slot, or, when victims is
 * true, over the most redundant entry that passes the victim test (see
 * HnswReconnect).  Returns whether x is in the list afterwards.
 */
typedef enum
{
	VICTIM_NONE,				/* free slots only */
	VICTIM_SETTLED,				/* only entries reachable before this round's links */
	VICTIM_ANY
} VictimRule;

static bool
LinkInto(Reconnect *r, uint32 host, uint32 x, VictimRule rule)
{
	int			max = 2 * r->shape->m;
	int			nn = r->ops->read(r->ops->arg, host, r->buf);
	uint32		cand[2 * HNSW_MAX_M];
	int			ncand = 0;
	uint32		victim;

	for (int j = 0; j < nn; j++)
		if (r->buf[j] == x)
			return true;
	memcpy(r->buf2, r->buf, sizeof(uint32) * nn);
	if (nn < max)
	{
		r->buf2[nn] = x;
		return r->ops->write(r->ops->arg, host, r->buf, nn, r->buf2, nn + 1);
	}
	if (rule == VICTIM_NONE)
		return false;
	for (int j = 0; j < nn; j++)
		if (rule == VICTIM_ANY ||
			(HnswIdSetHas(&r->reach, r->buf[j]) && !HnswIdSetHas(&r->late, r->buf[j])))
			cand[ncand++] = r->buf[j];
	if (ncand == 0)
		return false;
	victim = cand[ncand > 1 ? HnswMostRedundant(r->shape, cand, ncand, r->ops->pair, r->ops->arg) : 0];
	for (int j = 0; j < nn; j++)
		if (r->buf[j] == victim)
			r->buf2[j] = x;
	return r->ops->write(r->ops->arg, host, r->buf, nn, r->buf2, nn);
}

/*
 * The nearest reachable element to x, found by searching for x's vector
 * from the entry point (the search only meets reachable elements: the
 * graph it is given follows live elements' lists only, LiveNeighbors).
 */
static uint32
NearestReachable(Reconnect *r, uint32 x)
{
	HnswGraph  *g = r->ops->graph(r->ops->arg, x);
	int			ef = r->shape->ef_construction;
	HnswCandidate *w = palloc(sizeof(HnswCandidate) * ef);
	VxIdHash   *visited = VxIdHashCreate(ef * r->shape->m * 2);
	HnswCandidate e;
	uint32		best = HNSW_INVALID_ID;
	int			nw;
	HnswSearch	s = {
		.graph = g,
		.entries = &e,
		.nentries = 1,
		.ef = ef,
		.level = 0,
		.visited = visited,
		.out = w,
	};

	e.id = r->entry;
	e.distance = g->distance(g, r->entry);
	if (r->entry_level > 0)
		e.id = HnswGreedyDescend(g, r->entry, &e.distance, r->entry_level, 1);
	VxIdHashTestAndAdd(visited, e.id);
	nw = HnswSearchLayer(&s);
	for (int i = 0; i < nw && best == HNSW_INVALID_ID; i++)
		if (w[i].id != x && HnswIdSetHas(&r->reach, w[i].id))
			best = w[i].id;
	/* the entry point is reachable by definition: the host of last resort */
	if (best == HNSW_INVALID_ID && r->entry != x)
		best = r->entry;
	pfree(w);
	return best;
}

/*
 * The reconnect pass shared by the build and vacuum (hnsw.h, VACUUM V2b):
 * make every live element reachable at level 0 from the entry point.
 *
 * Each round marks what the entry point reaches, then links every live
 * element still missing, in stream order, from the first host that takes
 * it:
 *	1. a reachable entry of its own list with a free slot (a plain link);
 *	2. the element linked before it in this pass, the chain's tail, over an
 *	   entry that was reachable before this round's links: the tail was
 *	   unreachable until now, so no search relies on its list, and the
 *	   entry it loses stays reachable the way it was;
 *	3. its nearest reachable element (its own list, else a search for its
 *	   vector), over its most redundant entry: the only change to a list
 *	   that searches use, once per pass in the common case.
 * Then everything x reaches becomes reachable too.  Evicting in step 3 can
 * cut an element off (its only in-link); the next round, a fresh walk,
 * finds and links it.  Rounds repeat while elements are missing and the
 * last round linked some, at most HNSW_RECONNECT_ROUNDS times.
 *
 * Earlier versions always evicted from the nearest reachable element: with
 * the inner product, where thousands of small-norm elements have no
 * in-link at all, that rewrote the lists of the large-norm elements every
 * search runs through and cut recall from 1.0 to 0.35.
 *
 * Memory: three bitmaps over the id space (3/128 of the index's size), the
 * missing elements' ids and Spread's queue (at most 8 bytes per missing
 * element); all of it allocated huge.  ops->pause runs every 64 lists read
 * and between elements linked (interrupts, vacuum's cost delay).
 * Returns the number of elements linked.
 */
#define HNSW_RECONNECT_ROUNDS 8

int
HnswReconnect(const HnswShape *shape, uint32 id_limit, uint32 entry, int entry_level,
			  const HnswReconnectOps *ops)
{
	Reconnect	r;
	int			fixed = 0;
	uint32		tail = HNSW_INVALID_ID;

	if (entry == HNSW_INVALID_ID || id_limit == 0)
		return 0;
	memset(&r, 0, sizeof(r));
	r.shape = shape;
	r.ops = ops;
	r.entry = entry;
	r.entry_level = entry_level;
	HnswIdSetInit(&r.reach, id_limit, true);
	HnswIdSetInit(&r.expanded, id_limit, true);
	HnswIdSetInit(&r.late, id_limit, true);
	r.buf = palloc(sizeof(uint32) * 2 * shape->m);
	r.buf2 = palloc(sizeof(uint32) * 2 * shape->m);
	r.maxmissing = 1024;
	r.missing = palloc(sizeof(uint32) * r.maxmissing);
	r.qcap = 1024;
	r.queue = palloc(sizeof(uint32) * r.qcap);

	for (int round = 0; round < HNSW_RECONNECT_ROUNDS; round++)
	{
		int			linked = 0;

		SweepReachable(&r);
		HnswIdSetClear(&r.late);
		r.nmissing = 0;
		ops->for_each_live(ops->arg, CollectMissing, &r);
		if (r.nmissing == 0)
			break;
		for (Size o = 0; o < r.nmissing; o++)
		{
			uint32		x = r.missing[o];
			int			nx;
			bool		ok = false;
			uint32		host = HNSW_INVALID_ID;

			if (HnswIdSetHas(&r.reach, x))
				continue;		/* an earlier link made it reachable */
			ops->pause(ops->arg);
			nx = ops->read(ops->arg, x, r.buf);
			{
				uint32		own[2 * HNSW_MAX_M];

				memcpy(own, r.buf, sizeof(uint32) * nx);
				for (int i = 0; i < nx && !ok; i++)
					if (HnswIdSetHas(&r.reach, own[i]) && own[i] < id_limit)
					{
						if (host == HNSW_INVALID_ID)
							host = own[i];
						ok = LinkInto(&r, own[i], x, VICTIM_NONE);
					}
			}
			if (!ok && tail != HNSW_INVALID_ID && HnswIdSetHas(&r.reach, tail))
				ok = LinkInto(&r, tail, x, VICTIM_SETTLED);
			if (!ok)
			{
				if (host == HNSW_INVALID_ID)
					host = NearestReachable(&r, x);
				if (host != HNSW_INVALID_ID)
					ok = LinkInto(&r, host, x, VICTIM_ANY);
			}
			if (ok)
			{
				tail = x;
				Spread(&r, x);
				linked++;
			}
		}
		fixed += linked;
		if (linked == 0)
			break;
	}
	HnswIdSetFree(&r.reach);
	HnswIdSetFree(&r.expanded);
	HnswIdSetFree(&r.late);
	pfree(r.missing);
	pfree(r.queue);
	pfree(r.buf);
	pfree(r.buf2);
	return fixed;
}

/* ---------------------------------------------------------------- on pages */

/* the reconnect pass over an index's pages */
typedef struct PageReconnectArg
{
	Relation	index;
	const HnswShape *shape;
	BufferAccessStrategy strategy;
	MemoryContext veccxt;		/* the vector cache, reset now and then */
	MemoryContext graphcxt;		/* PageGraph's query and its decoded vector
								 * (a sparse one's dense array): reset for
								 * each graph */
	HnswVecCache *vc;
	HnswPageGraph reader;		/* for lists (no query) */
	HnswPageGraph pg;			/* for searches (PageGraph) */
	int			(*page_neighbors) (HnswGraph *g, uint32 id, int level, uint32 *out, uint8 *flags);
	uint64		pauses;
} PageReconnectArg;

/* level-0 list of a live element; 0 for anything else (DELETED ones are freed next) */
static int
PageReadList0(void *arg, uint32 id, uint32 *out)
{
	PageReconnectArg *a = (PageReconnectArg *) arg;
	uint8		flags = 0;
	int			n = a->reader.graph.neighbors(&a->reader.graph, id, 0, out, &flags);

	return flags == 0 ? n : 0;
}

static bool
PageWriteList0(void *arg, uint32 id, const uint32 *old, int nold, const uint32 *ids, int n)
{
	PageReconnectArg *a = (PageReconnectArg *) arg;
	HnswElementData head;

	/* only vacuum changes an element's state, so this stays true */
	if (!HnswReadElementHead(&a->reader, id, &head) || head.flags != 0)
		return false;
	return HnswWriteList(a->index, HnswIdOffset(id) + offsetof(HnswElementData, neighbors),
						 2 * a->shape->m, ids, n, old, nold);
}

static float
PagePair(void *arg, uint32 a, uint32 b)
{
	PageReconnectArg *ra = (PageReconnectArg *) arg;
	MemoryContext old = MemoryContextSwitchTo(ra->veccxt);
	float		d = HnswVecCachePair(ra->vc, a, b);

	MemoryContextSwitchTo(old);
	return d;
}

/*
 * neighbors() of the searches' graph: a DELETED element's lists are not
 * followed.  Scans route through DELETED elements, but this pass runs
 * between vacuum's repair and its freeing of them (V2b, then V3), and its
 * walk counts as reachable only what live elements reach: a search that
 * went through DELETED ones found, for an element cut off behind them,
 * only elements cut off with it, so the pass linked none of them (102 of
 * 261 elements left unreachable after VACUUM, found by test/diff).
 */
static int
LiveNeighbors(HnswGraph *g, uint32 id, int level, uint32 *out, uint8 *flags)
{
	PageReconnectArg *a = (PageReconnectArg *) ((char *) g - offsetof(PageReconnectArg, pg));
	uint8		f = 0;
	int			n = a->page_neighbors(g, id, level, out, &f);

	if (flags)
		*flags = f;
	return f == 0 ? n : 0;
}

static HnswGraph *
PageGraph(void *arg, uint32 x)
{
	PageReconnectArg *a = (PageReconnectArg *) arg;
	MemoryContext old;

	/* one graph at a time: the previous one's memory is done with */
	MemoryContextReset(a->graphcxt);
	old = MemoryContextSwitchTo(a->graphcxt);
	HnswPageGraphInit(&a->pg, a->index, a->shape, HnswVecCacheDecode(a->vc, x));
	MemoryContextSwitchTo(old);
	a->page_neighbors = a->pg.graph.neighbors;
	a->pg.graph.neighbors = LiveNeighbors;
	return &a->pg.graph;
}

static void
PageForEachLive(void *arg, HnswIdFn fn, void *fnarg)
{
	PageReconnectArg *a = (PageReconnectArg *) arg;
	HnswMetaPageData meta;
	HnswStreamCursor c;

	HnswReadMeta(a->index, &meta);
	HnswStreamBegin(&c, a->index, a->shape, meta.stream_end, a->strategy, BUFFER_LOCK_SHARE);
	while (HnswStreamNext(&c))
		if (c.rec[0] == HNSW_KIND_ELEMENT && ((HnswElement) c.rec)->flags == 0)
			fn(fnarg, HnswOffsetId(c.pos));
	HnswStreamEnd(&c);
}

/*
 * Between steps of the pass: honour cancels and vacuum's cost delay (a
 * no-op outside VACUUM), and drop the vectors cached so far now and then
 * (the pass holds no pointer into the cache across a pause).
 */
static void
PagePause(void *arg)
{
	PageReconnectArg *a = (PageReconnectArg *) arg;

	vacuum_delay_point();
	if (++a->pauses % 1024 == 0)
	{
		MemoryContext old = MemoryContextSwitchTo(a->veccxt);

		MemoryContextReset(a->veccxt);
		a->vc = HnswVecCacheCreate(a->index, a->shape);
		MemoryContextSwitchTo(old);
	}
}

/*
 * V2b, also run by a build that continued on disk: reconnect the live
 * elements that pruning or deletions cut off.  Returns how many.
 */
int
HnswReconnectIndex(Relation index, const HnswShape *shape, BufferAccessStrategy strategy)
{
	HnswMetaPageData meta;
	PageReconnectArg a = {.index = index, .shape = shape, .strategy = strategy};
	HnswReconnectOps ops = {
		.read = PageReadList0,
		.write = PageWriteList0,
		.pair = PagePair,
		.graph = PageGraph,
		.for_each_live = PageForEachLive,
		.pause = PagePause,
		.arg = &a,
	};
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw reconnect",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int			fixed;

	HnswReadMeta(index, &meta);
	a.veccxt = AllocSetContextCreate(cxt, "hnsw reconnect vectors", ALLOCSET_DEFAULT_SIZES);
	a.graphcxt = AllocSetContextCreate(cxt, "hnsw reconnect graph", ALLOCSET_SMALL_SIZES);
	MemoryContextSwitchTo(a.veccxt);
	a.vc = HnswVecCacheCreate(index, shape);
	MemoryContextSwitchTo(cxt);
	HnswPageGraphInit(&a.reader, index, shape, NULL);
	fixed = HnswReconnect(shape, HnswOffsetId(meta.stream_end) + 1, meta.entry_point,
						  meta.entry_level, &ops);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	/* inserts during the pass may have cut others off: count from before it */
	HnswSetReconnected(index, meta.allocations);
	return fixed;
}

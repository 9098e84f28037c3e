/*-------------------------------------------------------------------------
 *
 * hnswgraph.c
 *	  The HNSW search core, shared by the build (over its memory arena),
 *	  inserts, scans and vacuum (over index pages): greedy descent through
 *	  the upper levels, the layer search (paper's Algorithm 2) with filter
 *	  and resume support, the neighbour-selection heuristic (Algorithm 4),
 *	  and the small data structures they need (visited set, binary heaps).
 *
 * The core never touches pages or memory layouts itself: it reads the
 * graph through an HnswGraph (hnsw.h), whose distance() and neighbors()
 * the caller provides.  See hnsw.h for the algorithm and its deviations.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "port/pg_bitutils.h"

#include "distance.h"
#include "hnsw.h"

/* ---------------------------------------------------------------- visited */

/*
 * Open-addressing hash set of element ids (linear probing, HNSW_INVALID_ID
 * marks empty slots), grown to keep the load under one half.
 */
struct HnswVisited
{
	uint32	   *slots;
	uint32		mask;
	int			count;
};

static inline uint32
HashId(uint32 id)
{
	/* ids are offsets / 16 of nearby records: mix them (murmur3 finalizer) */
	id ^= id >> 16;
	id *= 0x85ebca6b;
	id ^= id >> 13;
	id *= 0xc2b2ae35;
	id ^= id >> 16;
	return id;
}

HnswVisited *
HnswVisitedCreate(int expected)
{
	HnswVisited *v = palloc(sizeof(HnswVisited));
	uint32		size = 64;

	while (size < (uint32) expected * 2)
		size <<= 1;
	v->slots = palloc(sizeof(uint32) * size);
	memset(v->slots, 0xff, sizeof(uint32) * size);
	v->mask = size - 1;
	v->count = 0;
	return v;
}

static void
VisitedGrow(HnswVisited *v)
{
	uint32	   *old = v->slots;
	uint32		oldsize = v->mask + 1;

	v->slots = palloc(sizeof(uint32) * oldsize * 2);
	memset(v->slots, 0xff, sizeof(uint32) * oldsize * 2);
	v->mask = oldsize * 2 - 1;
	for (uint32 i = 0; i < oldsize; i++)
	{
		if (old[i] != HNSW_INVALID_ID)
		{
			uint32		h = HashId(old[i]) & v->mask;

			while (v->slots[h] != HNSW_INVALID_ID)
				h = (h + 1) & v->mask;
			v->slots[h] = old[i];
		}
	}
	pfree(old);
}

/* true if id was already there; otherwise adds it */
bool
HnswVisitedTestAndSet(HnswVisited *v, uint32 id)
{
	uint32		h = HashId(id) & v->mask;

	while (v->slots[h] != HNSW_INVALID_ID)
	{
		if (v->slots[h] == id)
			return true;
		h = (h + 1) & v->mask;
	}
	v->slots[h] = id;
	if (++v->count * 2 > (int) v->mask)
		VisitedGrow(v);
	return false;
}

bool
HnswVisitedContains(HnswVisited *v, uint32 id)
{
	uint32		h = HashId(id) & v->mask;

	while (v->slots[h] != HNSW_INVALID_ID)
	{
		if (v->slots[h] == id)
			return true;
		h = (h + 1) & v->mask;
	}
	return false;
}

void
HnswVisitedReset(HnswVisited *v)
{
	memset(v->slots, 0xff, sizeof(uint32) * (v->mask + 1));
	v->count = 0;
}

int
HnswVisitedCount(HnswVisited *v)
{
	return v->count;
}

/* ---------------------------------------------------------------- heaps */

void
HnswHeapInit(HnswHeap *h, int capacity, bool max)
{
	h->capacity = Max(capacity, 16);
	h->items = palloc(sizeof(HnswCandidate) * h->capacity);
	h->count = 0;
	h->max = max;
}

/* does a belong above b? */
static inline bool
HeapAbove(const HnswHeap *h, HnswCandidate a, HnswCandidate b)
{
	return h->max ? a.distance > b.distance : a.distance < b.distance;
}

void
HnswHeapPush(HnswHeap *h, HnswCandidate c)
{
	int			i;

	if (h->count == h->capacity)
	{
		h->capacity *= 2;
		h->items = repalloc_huge(h->items, sizeof(HnswCandidate) * h->capacity);
	}
	i = h->count++;
	while (i > 0)
	{
		int			parent = (i - 1) / 2;

		if (!HeapAbove(h, c, h->items[parent]))
			break;
		h->items[i] = h->items[parent];
		i = parent;
	}
	h->items[i] = c;
}

HnswCandidate
HnswHeapPop(HnswHeap *h)
{
	HnswCandidate top = h->items[0];
	HnswCandidate last = h->items[--h->count];
	int			i = 0;

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= h->count)
			break;
		if (child + 1 < h->count && HeapAbove(h, h->items[child + 1], h->items[child]))
			child++;
		if (!HeapAbove(h, h->items[child], last))
			break;
		h->items[i] = h->items[child];
		i = child;
	}
	if (h->count > 0)
		h->items[i] = last;
	return top;
}

/* ---------------------------------------------------------------- search */

/*
 * The level of a new element: floor(-ln(u) * mL) for u uniform in (0, 1],
 * where u comes from a hash of the heap TID rather than a random generator,
 * so that the same rows inserted in the same order build the same graph
 * (reproducible serial builds, deterministic tests).
 */
int
HnswRandomLevel(const HnswShape *shape, ItemPointer tid)
{
	uint64		h = ((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) |
	ItemPointerGetOffsetNumberNoCheck(tid);
	double		u;
	int			level;

	/* splitmix64 finalizer */
	h += UINT64CONST(0x9E3779B97F4A7C15);
	h = (h ^ (h >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	h = (h ^ (h >> 27)) * UINT64CONST(0x94D049BB133111EB);
	h ^= h >> 31;
	u = ((h >> 11) + 1) * (1.0 / 9007199254740992.0);	/* (0, 1] */
	level = (int) floor(-log(u) * shape->ml);
	return Min(level, HNSW_MAX_LEVEL);
}

#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD 2
#endif

/*
 * Greedy descent (Algorithm 5, search with ef = 1) from ep at from_level
 * down to, and including, to_level.  Returns the nearest element found;
 * *ep_dist holds its distance on entry and exit.
 *
 * Leave-one-out (vectorx_recall, monitor.c): an element that neighbors()
 * flags HNSW_EXCLUDED holds the row the query was taken from.  Its lists
 * are the query's true neighbours, which no outside query gets for free,
 * so neither the descent nor HnswSearchLayer searches through it; the
 * measured recall then matches what outside queries see.
 */
uint32
HnswGreedyDescend(HnswGraph *g, uint32 ep, float *ep_dist, int from_level, int to_level)
{
	uint32	   *nbrs = palloc(sizeof(uint32) * g->shape->m * 2);

	uint32		excluded = HNSW_INVALID_ID;
	uint32		prev = ep;
	float		prev_dist = *ep_dist;

	for (int level = from_level; level >= to_level; level--)
	{
		bool		moved = true;

		while (moved)
		{
			uint8		flags = 0;
			int			n = g->neighbors(g, ep, level, nbrs, &flags);

			if ((flags & HNSW_EXCLUDED) && ep != prev)
			{
				/* leave-one-out: step back, and never onto it again */
				excluded = ep;
				ep = prev;
				*ep_dist = prev_dist;
				n = g->neighbors(g, ep, level, nbrs, NULL);
			}
			moved = false;
			CHECK_FOR_INTERRUPTS();
			/* as in HnswSearchLayer: let the vectors' misses overlap */
			if (g->prefetch && n > 1)
				g->prefetch(g, nbrs, n, 4);
			for (int i = 0; i < n; i++)
			{
				float		d;

				if (g->prefetch && i + PREFETCH_AHEAD < n)
					g->prefetch(g, nbrs + i + PREFETCH_AHEAD, 1, 0);
				if (nbrs[i] == excluded)
					continue;
				d = g->distance(g, nbrs[i]);

				if (d < *ep_dist)
				{
					if (!moved)
						prev = ep, prev_dist = *ep_dist;
					*ep_dist = d;
					ep = nbrs[i];
					moved = true;
				}
			}
		}
	}
	pfree(nbrs);
	return ep;
}

static inline bool
Accepted(const HnswFilter *filter, uint32 id)
{
	return filter == NULL || filter->accept(filter->arg, id);
}

/*
 * The loop of Algorithm 2 over given heaps: cands (C, a min-heap) and
 * results (W, a max-heap of at most ef accepted elements).  Elements not
 * expanded stay in cands; with discarded, accepted elements that did not
 * make the ef best go there, and rejected ones too far to expand now go to
 * cands (a resumed search expands them).  Writes W to out[] nearest first.
 */
static int
SearchLoop(HnswGraph *g, HnswHeap *cands, HnswHeap *results, int ef, int level,
		   HnswVisited *visited, const HnswFilter *filter, HnswHeap *discarded,
		   HnswCandidate *out)
{
	int			maxn = level == 0 ? g->shape->m * 2 : g->shape->m;
	uint32	   *nbrs = palloc(sizeof(uint32) * maxn);
	int			nout;

	while (cands->count > 0)
	{
		HnswCandidate c = HnswHeapTop(cands);
		int			n;
		uint8		flags = 0;

		if (results->count >= ef && c.distance > HnswHeapTop(results).distance)
			break;
		if (g->max_visits > 0 && g->visited_elements >= g->max_visits)
			break;
		HnswHeapPop(cands);
		CHECK_FOR_INTERRUPTS();
		/* the likely next expansion: fetch its list while we work on this one */
		if (g->prefetch && cands->count > 0)
			g->prefetch(g, &cands->items[0].id, 1, -1);

		n = g->neighbors(g, c.id, level, nbrs, &flags);
		if (flags & HNSW_EXCLUDED)
			continue;			/* leave-one-out: do not search through it */
		/* keep the unvisited ones, and let their data come in together */
		{
			int			fresh = 0;

			for (int i = 0; i < n; i++)
				if (!HnswVisitedTestAndSet(visited, nbrs[i]))
					nbrs[fresh++] = nbrs[i];
			n = fresh;
		}
		if (g->prefetch && n > 1)
			g->prefetch(g, nbrs, n, 4);
		for (int i = 0; i < n; i++)
		{
			HnswCandidate e;

			if (g->prefetch && i + PREFETCH_AHEAD < n)
				g->prefetch(g, nbrs + i + PREFETCH_AHEAD, 1, 0);
			e.id = nbrs[i];
			e.distance = g->distance(g, e.id);

			if (results->count < ef || e.distance < HnswHeapTop(results).distance)
			{
				HnswHeapPush(cands, e);
				if (!Accepted(filter, e.id))
					continue;
				HnswHeapPush(results, e);
				if (results->count > ef)
				{
					HnswCandidate far = HnswHeapPop(results);

					if (discarded)
						HnswHeapPush(discarded, far);
				}
			}
			else if (discarded)
			{
				/* not expanded now, but a resumed scan will want it */
				if (Accepted(filter, e.id))
					HnswHeapPush(discarded, e);
				else
					HnswHeapPush(cands, e);
			}
		}
	}

	/* W in ascending order */
	nout = results->count;
	for (int i = nout - 1; i >= 0; i--)
		out[i] = HnswHeapPop(results);
	pfree(nbrs);
	return nout;
}

int
HnswSearchLayer(HnswGraph *g, const HnswCandidate *entries, int nentries, int nexpand,
				int ef, int level, HnswVisited *visited, const HnswFilter *filter,
				HnswHeap *leftover, HnswHeap *discarded, HnswCandidate *out)
{
	HnswHeap	cands;			/* C: min-heap of elements to expand */
	HnswHeap	results;		/* W: max-heap of the ef best accepted */
	int			nout;

	HnswHeapInit(&cands, ef * 4 + nentries, false);
	HnswHeapInit(&results, ef + 1, true);

	for (int i = 0; i < nentries; i++)
	{
		HnswHeapPush(&cands, entries[i]);
		if (i < nexpand || !Accepted(filter, entries[i].id))
			continue;
		HnswHeapPush(&results, entries[i]);
		if (results.count > ef)
		{
			HnswCandidate far = HnswHeapPop(&results);

			if (discarded)
				HnswHeapPush(discarded, far);
		}
	}
	nout = SearchLoop(g, &cands, &results, ef, level, visited, filter, discarded, out);

	if (leftover)
		while (cands.count > 0)
			HnswHeapPush(leftover, HnswHeapPop(&cands));
	pfree(cands.items);
	pfree(results.items);
	return nout;
}

/*
 * Resume a level-0 search where the previous rounds left it: leftover is
 * expanded in place (no copy: a scan streaming through much of the graph
 * would otherwise pay for everything it set aside on every round), and the
 * ef best of discarded (all accepted) start the round's results.
 */
int
HnswSearchResume(HnswGraph *g, HnswHeap *leftover, HnswHeap *discarded, int ef,
				 HnswVisited *visited, const HnswFilter *filter, HnswCandidate *out)
{
	HnswHeap	results;
	int			nout;

	HnswHeapInit(&results, ef + 1, true);
	while (results.count < ef && discarded->count > 0)
	{
		HnswCandidate c = HnswHeapPop(discarded);

		HnswHeapPush(&results, c);
		HnswHeapPush(leftover, c);
	}
	nout = SearchLoop(g, leftover, &results, ef, 0, visited, filter, discarded, out);
	pfree(results.items);
	return nout;
}

static int
CompareCandidates(const void *a, const void *b)
{
	float		x = ((const HnswCandidate *) a)->distance;
	float		y = ((const HnswCandidate *) b)->distance;

	return x < y ? -1 : x > y;
}

void
HnswSortCandidates(HnswCandidate *c, int n)
{
	qsort(c, n, sizeof(HnswCandidate), CompareCandidates);
}

/*
 * The entry of a full list (ids[0..n)) that is closest to another entry:
 * the one whose loss a search notices least, since its close twin still
 * leads there.  Used when a new element must displace someone.
 */
int
HnswMostRedundant(const HnswShape *shape, const uint32 *ids, int n, HnswPairFn pair, void *arg)
{
	int			best = n - 1;
	float		bestd = INFINITY;

	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
		{
			float		d = pair(arg, ids[i], ids[j]);

			if (d < bestd)
			{
				bestd = d;
				best = j;		/* keep the earlier (nearer to the owner) of the pair */
			}
		}
	return best;
}

/*
 * SELECT-NEIGHBORS-HEURISTIC (Algorithm 4) with keepPrunedConnections: walk
 * the candidates from the nearest; keep one if it is closer to the base
 * element than to every candidate kept so far; then fill the slots still
 * free with the nearest of the candidates the heuristic passed over.
 *
 * Filling matters: the heuristic alone leaves lists short wherever the
 * candidates cluster, and under the inner product (not a metric: a vector
 * of large norm is "closer" to every other than they are to themselves) it
 * keeps one or two neighbours per element, so the graph falls apart into
 * pieces that searches never reach (recall 0.2-0.35 on low-dimensional
 * data).  Full lists are what pgvector and hnswlib's level-0 build keep.
 *
 * cands must be sorted ascending by distance to the base; pair(arg, a, b)
 * is the distance between two elements (called with the same a for runs of
 * b, which lets it keep a decoded).  Writes at most max candidates to out,
 * nearest first, and returns how many.
 */
int
HnswSelectNeighbors(const HnswShape *shape, HnswCandidate *cands, int ncands, int max,
					HnswPairFn pair, void *arg, HnswCandidate *out)
{
	bool		stack_keep[4 * HNSW_MAX_M + 1];
	bool	   *keep = ncands <= (int) lengthof(stack_keep) ? stack_keep : palloc(sizeof(bool) * ncands);
	int			nkept = 0;
	int			nout = 0;

	for (int i = 0; i < ncands; i++)
	{
		bool		good = nkept < max;

		/* out[0..nkept) holds the kept ones while this loop runs */
		for (int j = 0; j < nkept && good; j++)
			if (pair(arg, cands[i].id, out[j].id) < cands[i].distance)
				good = false;
		keep[i] = good;
		if (good)
			out[nkept++] = cands[i];
	}
	/* keepPrunedConnections: the nearest passed-over ones take the free slots */
	for (int i = 0; i < ncands && nkept < max; i++)
		if (!keep[i])
		{
			keep[i] = true;
			nkept++;
		}
	/* nearest first */
	for (int i = 0; i < ncands; i++)
		if (keep[i])
			out[nout++] = cands[i];
	if (keep != stack_keep)
		pfree(keep);
	return nout;
}

/* ---------------------------------------------------------------- reconnect */

/*
 * HnswIdSet (hnsw.h): one bit per 16 bytes of stream, allocated huge so
 * that no index is too large for it (a uint32 id space needs 512 MB).
 */
void
HnswIdSetInit(HnswIdSet *s, uint32 limit, bool beyond)
{
	s->limit = limit;
	s->beyond = beyond;
	s->nwords = ((Size) limit + 63) / 64;
	s->words = palloc_extended(Max(s->nwords, 1) * sizeof(uint64), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

void
HnswIdSetClear(HnswIdSet *s)
{
	memset(s->words, 0, s->nwords * sizeof(uint64));
}

void
HnswIdSetFree(HnswIdSet *s)
{
	pfree(s->words);
	s->words = NULL;
}

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
 * from the entry point (the search only meets reachable elements).
 */
static uint32
NearestReachable(Reconnect *r, uint32 x)
{
	HnswGraph  *g = r->ops->graph(r->ops->arg, x);
	int			ef = r->shape->ef_construction;
	HnswCandidate *w = palloc(sizeof(HnswCandidate) * ef);
	HnswVisited *visited = HnswVisitedCreate(ef * r->shape->m * 2);
	HnswCandidate e;
	uint32		best = HNSW_INVALID_ID;
	int			nw;

	e.id = r->entry;
	e.distance = g->distance(g, r->entry);
	if (r->entry_level > 0)
		e.id = HnswGreedyDescend(g, r->entry, &e.distance, r->entry_level, 1);
	HnswVisitedTestAndSet(visited, e.id);
	nw = HnswSearchLayer(g, &e, 1, 0, ef, 0, visited, NULL, NULL, NULL, w);
	for (int i = 0; i < nw && best == HNSW_INVALID_ID; i++)
		if (w[i].id != x && HnswIdSetHas(&r->reach, w[i].id))
			best = w[i].id;
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

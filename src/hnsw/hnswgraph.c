/*-------------------------------------------------------------------------
 *
 * hnswgraph.c
 *	  The HNSW search core, shared by the build (over its memory arena),
 *	  inserts, scans and vacuum (over index pages): greedy descent through
 *	  the upper levels, the layer search (paper's Algorithm 2) with filter
 *	  and resume support, the neighbour-selection heuristic (Algorithm 4),
 *	  and sorting candidates; also the id bitmaps of the
 *	  reconnect pass and the check (HnswIdSet).  Its visited sets and heaps
 *	  are the common ones (src/common: vxidhash.h, vxheap.h).
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

#include "distance.h"
#include "hnsw.h"

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
 * results (W, a max-heap of at most s->ef accepted elements).  Elements
 * not expanded stay in cands; with s->discarded, accepted elements that
 * did not make the ef best go there, and rejected ones too far to expand
 * now go to cands (a resumed search expands them).  Writes W to s->out
 * nearest first.
 */
static int
SearchLoop(const HnswSearch *s, HnswNearHeap *cands, HnswFarHeap *results)
{
	HnswGraph  *g = s->graph;
	int			ef = s->ef;
	int			maxn = s->level == 0 ? g->shape->m * 2 : g->shape->m;
	uint32	   *nbrs = palloc(sizeof(uint32) * maxn);
	int			nout;

	while (cands->count > 0)
	{
		HnswCandidate c = HnswNearHeapTop(cands);
		int			n;
		uint8		flags = 0;

		if (results->count >= ef && c.distance > HnswFarHeapTop(results).distance)
			break;
		if (g->max_visits > 0 && g->visited_elements >= g->max_visits)
			break;
		HnswNearHeapPop(cands);
		CHECK_FOR_INTERRUPTS();
		/* the likely next expansion: fetch its list while we work on this one */
		if (g->prefetch && cands->count > 0)
			{
			uint32		next = HnswNearHeapTop(cands).id;

			g->prefetch(g, &next, 1, -1);
		}

		n = g->neighbors(g, c.id, s->level, nbrs, &flags);
		if (flags & HNSW_EXCLUDED)
			continue;			/* leave-one-out: do not search through it */
		/* keep the unvisited ones, and let their data come in together */
		{
			int			fresh = 0;

			for (int i = 0; i < n; i++)
				if (!VxIdHashTestAndAdd(s->visited, nbrs[i]))
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

			if (results->count < ef || e.distance < HnswFarHeapTop(results).distance)
			{
				HnswNearHeapPush(cands, e);
				if (!Accepted(s->filter, e.id))
					continue;
				HnswFarHeapPush(results, e);
				if (results->count > ef)
				{
					HnswCandidate far = HnswFarHeapPop(results);

					if (s->discarded)
						HnswNearHeapPush(s->discarded, far);
				}
			}
			else if (s->discarded)
			{
				/* not expanded now, but a resumed scan will want it */
				if (Accepted(s->filter, e.id))
					HnswNearHeapPush(s->discarded, e);
				else
					HnswNearHeapPush(cands, e);
			}
		}
	}

	/* W in ascending order */
	nout = results->count;
	for (int i = nout - 1; i >= 0; i--)
		s->out[i] = HnswFarHeapPop(results);
	pfree(nbrs);
	return nout;
}

int
HnswSearchLayer(const HnswSearch *s)
{
	HnswNearHeap cands;			/* C: the elements to expand */
	HnswFarHeap results;		/* W: the ef best accepted */
	int			nout;

	HnswNearHeapInit(&cands, s->ef * 4 + s->nentries);
	HnswFarHeapInit(&results, s->ef + 1);

	for (int i = 0; i < s->nentries; i++)
	{
		HnswNearHeapPush(&cands, s->entries[i]);
		if (i < s->nexpand || !Accepted(s->filter, s->entries[i].id))
			continue;
		HnswFarHeapPush(&results, s->entries[i]);
		if (results.count > s->ef)
		{
			HnswCandidate far = HnswFarHeapPop(&results);

			if (s->discarded)
				HnswNearHeapPush(s->discarded, far);
		}
	}
	nout = SearchLoop(s, &cands, &results);

	if (s->leftover)
		while (cands.count > 0)
			HnswNearHeapPush(s->leftover, HnswNearHeapPop(&cands));
	HnswNearHeapFree(&cands);
	HnswFarHeapFree(&results);
	return nout;
}

/*
 * Resume a level-0 search where the previous rounds left it: leftover is
 * expanded in place (no copy: a scan streaming through much of the graph
 * would otherwise pay for everything it set aside on every round), and the
 * ef best of discarded (all accepted) start the round's results.
 */
int
HnswSearchResume(const HnswSearch *s)
{
	HnswFarHeap results;
	int			nout;

	Assert(s->level == 0 && s->leftover != NULL && s->discarded != NULL);
	HnswFarHeapInit(&results, s->ef + 1);
	while (results.count < s->ef && s->discarded->count > 0)
	{
		HnswCandidate c = HnswNearHeapPop(s->discarded);

		HnswFarHeapPush(&results, c);
		HnswNearHeapPush(s->leftover, c);
	}
	nout = SearchLoop(s, s->leftover, &results);
	HnswFarHeapFree(&results);
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

/* ---------------------------------------------------------------- id bitmaps */

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

/*-------------------------------------------------------------------------
 *
 * hnswneighbors.c
 *	  Neighbour lists on index pages: where an element's list at a level
 *	  lives, reading it and replacing it under the L5 rule (compare, then
 *	  write, in one WAL record), adding a link with the heuristic's pruning
 *	  (Algorithm 1's SHRINK step), and the cache of stored vectors that the
 *	  heuristic compares with each other.
 *
 * Callers: inserts (hnswinsert.c) link a new element back from its
 * neighbours; vacuum (hnswvacuum.c) repairs the lists that name deleted
 * elements; the reconnect pass rewrites level-0 lists.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"

/* ---------------------------------------------------------------- vectors */

/*
 * Vectors copied out of the index (quantization parameters and codes, as
 * stored), by element id, for the neighbour heuristic (which compares
 * candidates with each other).  Lives in the caller's short-lived memory
 * context.
 */
struct HnswVecCache
{
	Relation	index;
	const HnswShape *shape;
	uint32	   *ids;
	char	  **recs;			/* HnswQuant, then dims codes */
	uint32		mask;
	int			count;
	float	   *scratch;		/* L1: a decoded vector */
};

HnswVecCache *
HnswVecCacheCreate(Relation index, const HnswShape *shape)
{
	HnswVecCache *c = palloc(sizeof(HnswVecCache));

	c->index = index;
	c->shape = shape;
	c->mask = 255;
	c->count = 0;
	c->ids = palloc(sizeof(uint32) * (c->mask + 1));
	memset(c->ids, 0xff, sizeof(uint32) * (c->mask + 1));
	c->recs = palloc0(sizeof(char *) * (c->mask + 1));
	c->scratch = NULL;
	return c;
}

static void
VecCacheInsert(HnswVecCache *c, uint32 id, char *rec)
{
	uint32		h = (id * 2654435761u) & c->mask;

	while (c->ids[h] != HNSW_INVALID_ID)
		h = (h + 1) & c->mask;
	c->ids[h] = id;
	c->recs[h] = rec;
	if (++c->count * 2 > (int) c->mask)
	{
		uint32	   *oids = c->ids;
		char	  **orecs = c->recs;
		uint32		osize = c->mask + 1;

		c->mask = osize * 2 - 1;
		c->count = 0;
		c->ids = palloc(sizeof(uint32) * osize * 2);
		memset(c->ids, 0xff, sizeof(uint32) * osize * 2);
		c->recs = palloc0(sizeof(char *) * osize * 2);
		for (uint32 i = 0; i < osize; i++)
			if (oids[i] != HNSW_INVALID_ID)
				VecCacheInsert(c, oids[i], orecs[i]);
		pfree(oids);
		pfree(orecs);
	}
}

/* the stored vector of id, read from the index on first use */
static const char *
VecCacheRecord(HnswVecCache *c, uint32 id)
{
	uint32		h = (id * 2654435761u) & c->mask;
	char	   *rec;

	while (c->ids[h] != HNSW_INVALID_ID)
	{
		if (c->ids[h] == id)
			return c->recs[h];
		h = (h + 1) & c->mask;
	}
	rec = palloc(sizeof(HnswQuant) + c->shape->dims);
	HnswReadCodes(c->index, c->shape, id, (HnswQuant *) rec, (uint8 *) rec + sizeof(HnswQuant));
	VecCacheInsert(c, id, rec);
	return rec;
}

/* the decoded vector (x^) of id, in fresh memory */
float *
HnswVecCacheDecode(HnswVecCache *c, uint32 id)
{
	const char *rec = VecCacheRecord(c, id);
	float	   *out = palloc(sizeof(float) * c->shape->dims);

	HnswDecodeVector(c->shape, (const HnswQuant *) rec, (const uint8 *) rec + sizeof(HnswQuant), out);
	return out;
}

/* HnswPairFn over the cache (records never move once cached) */
float
HnswVecCachePair(void *arg, uint32 a, uint32 b)
{
	HnswVecCache *c = (HnswVecCache *) arg;
	const char *ra = VecCacheRecord(c, a);
	const char *rb = VecCacheRecord(c, b);

	if (c->shape->metric == HNSW_METRIC_L1)
	{
		HnswQuery	q;

		if (c->scratch == NULL)
			c->scratch = palloc(sizeof(float) * c->shape->dims);
		HnswDecodeVector(c->shape, (const HnswQuant *) ra, (const uint8 *) ra + sizeof(HnswQuant),
						 c->scratch);
		HnswQueryInit(&q, c->shape, c->scratch);
		return HnswQueryDistance(c->shape, &q, (const HnswQuant *) rb,
								 (const uint8 *) rb + sizeof(HnswQuant));
	}
	return HnswPairDistance(c->shape, (const HnswQuant *) ra, (const uint8 *) ra + sizeof(HnswQuant),
							(const HnswQuant *) rb, (const uint8 *) rb + sizeof(HnswQuant));
}

/* ---------------------------------------------------------------- lists */

/*
 * Stream offset of the level-th neighbour list of element id (level 0 in
 * the element's head, higher levels in its UPPER record), or 0 if id is not
 * a live element of at least that level.
 */
uint64
HnswListOffset(HnswPageGraph *pg, uint32 id, int level)
{
	HnswElementData e;

	if (!HnswReadElementHead(pg, id, &e) || (e.flags & (HNSW_FREE | HNSW_RESERVED)) || level > e.level)
		return 0;
	if (level == 0)
		return HnswIdOffset(id) + offsetof(HnswElementData, neighbors);
	return HnswIdOffset(e.upper) + offsetof(HnswUpperData, neighbors) +
		sizeof(uint32) * pg->graph.shape->m * (level - 1);
}

/* copy the list at off (max slots) into out; returns its length */
int
HnswReadList(Relation index, uint64 off, int max, uint32 *out)
{
	Buffer		buf;
	const uint32 *list;
	int			n = 0;

	if (HnswOffsetInPage(off) + sizeof(uint32) * max > HNSW_DATA_SIZE)
		HnswCorrupt(index, HnswOffsetBlock(off), "a neighbour list crosses the page end");
	buf = HnswReadBlock(index, HnswOffsetBlock(off));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	HnswCheckPage(index, buf);
	list = (const uint32 *) (HnswPageData(BufferGetPage(buf)) + HnswOffsetInPage(off));
	while (n < max && list[n] != HNSW_INVALID_ID)
	{
		out[n] = list[n];
		n++;
	}
	UnlockReleaseBuffer(buf);
	return n;
}

/*
 * Replace the list at off with ids[0..n) if it still holds expected[0..nexp)
 * (L5); one WAL record.  Returns false (and changes nothing) if someone
 * changed the list meanwhile.
 */
bool
HnswWriteList(Relation index, uint64 off, int max, const uint32 *ids, int n,
			  const uint32 *expected, int nexp)
{
	Buffer		buf;
	uint32	   *list;
	HnswPageWrite w;
	int			cur = 0;

	if (HnswOffsetInPage(off) + sizeof(uint32) * max > HNSW_DATA_SIZE)
		HnswCorrupt(index, HnswOffsetBlock(off), "a neighbour list crosses the page end");
	buf = HnswReadBlock(index, HnswOffsetBlock(off));
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswCheckPage(index, buf);
	list = (uint32 *) (HnswPageData(BufferGetPage(buf)) + HnswOffsetInPage(off));
	while (cur < max && list[cur] != HNSW_INVALID_ID)
		cur++;
	if (cur != nexp || memcmp(list, expected, sizeof(uint32) * nexp) != 0)
	{
		UnlockReleaseBuffer(buf);
		return false;
	}
	HnswPageWriteBegin(&w, index);
	list = (uint32 *) (HnswPageData(HnswPageWriteAdd(&w, buf, false)) + HnswOffsetInPage(off));
	memcpy(list, ids, sizeof(uint32) * n);
	for (int i = n; i < max; i++)
		list[i] = HNSW_INVALID_ID;
	HnswPageWriteFinish(&w);
	return true;
}


/*
 * Make id's level-th list contain newid (whose distance to id is d), pruning
 * with the heuristic when the list is full (Algorithm 1's SHRINK step);
 * with force, a full list that would drop newid gives it the slot of its
 * farthest entry instead.  Concurrent changes to the list are detected and
 * the step retried (L5).  Returns whether newid is in the list afterwards.
 */
bool
HnswAddLink(HnswPageGraph *pg, HnswVecCache *vc, uint32 id, int level, uint32 newid, float d,
			bool force)
{
	bool		linked = false;
	const HnswShape *shape = pg->graph.shape;
	int			max = level == 0 ? 2 * shape->m : shape->m;
	uint32	   *cur = palloc(sizeof(uint32) * (max + 1));
	uint32	   *next = palloc(sizeof(uint32) * max);
	HnswCandidate *cands = palloc(sizeof(HnswCandidate) * (max + 1));
	HnswCandidate *kept = palloc(sizeof(HnswCandidate) * max);

	for (int attempt = 0; attempt < 3; attempt++)
	{
		uint64		off = HnswListOffset(pg, id, level);
		int			n;
		int			nnext;
		bool		present = false;

		if (off == 0)
			break;				/* not (or no longer) a live element */
		n = HnswReadList(pg->index, off, max, cur);
		for (int i = 0; i < n; i++)
			present |= cur[i] == newid;
		if (present)
		{
			linked = true;
			break;
		}
		if (n < max)
		{
			memcpy(next, cur, sizeof(uint32) * n);
			next[n] = newid;
			nnext = n + 1;
			linked = true;
		}
		else
		{
			for (int i = 0; i < n; i++)
			{
				cands[i].id = cur[i];
				cands[i].distance = HnswVecCachePair(vc, id, cur[i]);
			}
			cands[n].id = newid;
			cands[n].distance = d;
			HnswSortCandidates(cands, n + 1);
			nnext = HnswSelectNeighbors(shape, cands, n + 1, max, HnswVecCachePair, vc, kept);
			for (int i = 0; i < nnext; i++)
			{
				next[i] = kept[i].id;
				linked |= next[i] == newid;
			}
			if (!linked && force)
			{
				/* the most redundant entry gives way */
				memcpy(next, cur, sizeof(uint32) * n);
				next[HnswMostRedundant(shape, cur, n, HnswVecCachePair, vc)] = newid;
				nnext = n;
				linked = true;
			}
		}
		if (HnswWriteList(pg->index, off, max, next, nnext, cur, n))
			break;
		linked = false;
	}
	pfree(cur);
	pfree(next);
	pfree(cands);
	pfree(kept);
	return linked;
}

/*
 * Link newid from its neighbours nbrs[0..n) (nearest first) at level; if
 * pruning kept it out of every list, force it into the nearest one's, so
 * that no search misses a committed element.
 */
void
HnswLinkBack(HnswPageGraph *pg, HnswVecCache *vc, const HnswCandidate *nbrs, int n, int level,
			 uint32 newid)
{
	bool		any = false;

	for (int i = 0; i < n; i++)
		any |= HnswAddLink(pg, vc, nbrs[i].id, level, newid, nbrs[i].distance, false);
	if (!any && n > 0 && level == 0)
		HnswAddLink(pg, vc, nbrs[0].id, level, newid, nbrs[0].distance, true);
}

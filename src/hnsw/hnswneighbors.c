/*-------------------------------------------------------------------------
 *
 * hnswneighbors.c
 *	  Changing neighbour lists: the one prune-and-retry step (hnsw.h, L5)
 *	  that adds a link with the heuristic's pruning (Algorithm 1's SHRINK
 *	  step) or repairs a list around deleted elements, over any list store
 *	  (HnswListOps: the build's arena, hnswbuild.c, or the index's pages,
 *	  here); and, for the pages, where an element's list at a level lives,
 *	  reading it and replacing it under L5 (compare, then write, in one WAL
 *	  record), and the cache of stored vectors that the heuristic compares
 *	  with each other.
 *
 * Callers: the build (hnswbuild.c) and inserts (hnswinsert.c) link a new
 * element back from its neighbours, and inserts then link from it the
 * entries those back-links cut off (HnswRelinkEvicted); vacuum (hnswvacuum.c) repairs the
 * lists that name deleted elements; the reconnect pass (hnswreconnect.c)
 * rewrites level-0 lists.
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
typedef struct VecEntry
{
	uint32		id;
	char		status;			/* simplehash's slot state */
	char	   *rec;			/* VxQuant, then code_bytes codes */
} VecEntry;

#define SH_PREFIX		veccache
#define SH_ELEMENT_TYPE VecEntry
#define SH_KEY_TYPE		uint32
#define SH_KEY			id
#define SH_HASH_KEY(tb, key) murmurhash32(key)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

struct HnswVecCache
{
	Relation	index;
	const HnswShape *shape;
	veccache_hash *recs;
	MemoryContext cxt;			/* where the records live: the creator's */
	float	   *scratch;		/* L1: a decoded vector */
};

HnswVecCache *
HnswVecCacheCreate(Relation index, const HnswShape *shape)
{
	HnswVecCache *c = palloc(sizeof(HnswVecCache));

	c->index = index;
	c->shape = shape;
	c->recs = veccache_create(CurrentMemoryContext, 128, NULL);
	c->cxt = CurrentMemoryContext;
	c->scratch = NULL;
	return c;
}

/* the stored vector of id, read from the index on first use */
static const char *
VecCacheRecord(HnswVecCache *c, uint32 id)
{
	VecEntry   *e = veccache_lookup(c->recs, id);
	char	   *rec;
	bool		found;

	if (e)
		return e->rec;
	rec = MemoryContextAlloc(c->cxt, sizeof(VxQuant) + c->shape->codec.code_bytes);
	HnswReadCodes(c->index, c->shape, id, (VxQuant *) rec, (uint8 *) rec + sizeof(VxQuant));
	e = veccache_insert(c->recs, id, &found);
	e->rec = rec;
	return rec;
}

/* the decoded vector (x^) of id, in fresh memory */
float *
HnswVecCacheDecode(HnswVecCache *c, uint32 id)
{
	const char *rec = VecCacheRecord(c, id);
	float	   *out = palloc(c->shape->codec.vec_bytes);

	VxDecodeVector(&c->shape->codec, (const VxQuant *) rec, (const uint8 *) rec + sizeof(VxQuant), out);
	return out;
}

/* HnswPairFn over the cache (records never move once cached) */
float
HnswVecCachePair(void *arg, uint32 a, uint32 b)
{
	HnswVecCache *c = (HnswVecCache *) arg;
	const char *ra = VecCacheRecord(c, a);
	const char *rb = VecCacheRecord(c, b);

	if (!VxPairExact(&c->shape->codec))
	{
		VxQuery	q;

		if (c->scratch == NULL)
			c->scratch = MemoryContextAlloc(c->cxt, c->shape->codec.vec_bytes);
		VxDecodeVector(&c->shape->codec, (const VxQuant *) ra, (const uint8 *) ra + sizeof(VxQuant),
						 c->scratch);
		VxQueryInit(&q, &c->shape->codec, c->scratch);
		return VxQueryDistance(&c->shape->codec, &q, (const VxQuant *) rb,
								 (const uint8 *) rb + sizeof(VxQuant));
	}
	return VxPairDistance(&c->shape->codec, (const VxQuant *) ra, (const uint8 *) ra + sizeof(VxQuant),
							(const VxQuant *) rb, (const uint8 *) rb + sizeof(VxQuant));
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
	VxPageWrite w;
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
	VxPageWriteBegin(&w, index);
	list = (uint32 *) (HnswPageData(VxPageWriteAdd(&w, buf, false)) + HnswOffsetInPage(off));
	memcpy(list, ids, sizeof(uint32) * n);
	for (int i = n; i < max; i++)
		list[i] = HNSW_INVALID_ID;
	VxPageWriteFinish(&w);
	return true;
}

/* ---------------------------------------------------------------- pruning */

/*
 * The prune-and-retry step, once for every caller (L5): read a list, choose
 * its new contents with no lock held, then apply them only if the list did
 * not change meanwhile, else read it again and choose again.  The choice
 * is one of two:
 *	 - add one element (Algorithm 1's SHRINK step): into a free slot, else the
 *	   heuristic over the current entries and the new one; with force, a
 *	   full list that would drop it gives it its most redundant entry's slot
 *	   instead;
 *	 - repair (vacuum, V2): the heuristic over the list's entries that are
 *	   not gone and the not-gone entries of the gone ones' own lists; the
 *	   entries new to the list then link back to its owner.
 * The lists are the build's arena or the index's pages (HnswListOps).
 */

/* what one step does to a list */
typedef struct ListChange
{
	uint32		newid;			/* add: this element; HNSW_INVALID_ID: repair */
	float		newdist;		/* add: its distance to the list's owner */
	bool		force;			/* add: over the most redundant entry if need be */
	HnswGoneFn	gone;			/* repair: the entries to replace */
	void	   *gone_arg;
	uint32		evicted;		/* add, out: the entry it pushed out, or invalid */
} ListChange;

/* buffers for one step: the add case fits on the stack, repair is bigger */
typedef struct ListWork
{
	uint32		cur[2 * HNSW_MAX_M];	/* the list as read */
	uint32		next[2 * HNSW_MAX_M];	/* what replaces it */
	uint32	   *sub;			/* repair: a gone entry's list */
	HnswCandidate *cands;		/* max + 1 (add) or max + max * max (repair) */
	HnswCandidate *kept;		/* the heuristic's choice, max */
	VxIdHash   *seen;			/* repair: candidates so far */
} ListWork;

/*
 * The new contents of a list holding cur[0..n) that must gain ch->newid:
 * into next[], returning their number; *linked tells whether newid is in.
 */
static int
ChooseAdd(const HnswListOps *ops, uint32 id, int max, const ListChange *ch, ListWork *lw,
		  int n, bool *linked)
{
	int			nnext;

	*linked = false;
	if (n < max)
	{
		memcpy(lw->next, lw->cur, sizeof(uint32) * n);
		lw->next[n] = ch->newid;
		*linked = true;
		return n + 1;
	}
	for (int i = 0; i < n; i++)
	{
		lw->cands[i].id = lw->cur[i];
		lw->cands[i].distance = ops->pair(ops->pair_arg, id, lw->cur[i]);
	}
	lw->cands[n].id = ch->newid;
	lw->cands[n].distance = ch->newdist;
	HnswSortCandidates(lw->cands, n + 1);
	nnext = HnswSelectNeighbors(ops->shape, lw->cands, n + 1, max, ops->pair, ops->pair_arg,
								lw->kept);
	for (int i = 0; i < nnext; i++)
	{
		lw->next[i] = lw->kept[i].id;
		*linked |= lw->next[i] == ch->newid;
	}
	if (!*linked && ch->force)
	{
		/* the most redundant entry gives way */
		memcpy(lw->next, lw->cur, sizeof(uint32) * n);
		lw->next[HnswMostRedundant(ops->shape, lw->cur, n, ops->pair, ops->pair_arg)] = ch->newid;
		nnext = n;
		*linked = true;
	}
	return nnext;
}

/*
 * The new contents of id's list at level holding cur[0..n), some of them
 * gone: the heuristic over the entries that stay and, through each gone
 * one (whose lists are still in place), its own entries that stay.  Into
 * next[] and kept[] (with distances), returning their number.
 */
static int
ChooseRepair(const HnswListOps *ops, uint32 id, int level, int max, const ListChange *ch,
			 ListWork *lw, int n)
{
	int			ncands = 0;
	int			nnext;

	VxIdHashReset(lw->seen);
	VxIdHashTestAndAdd(lw->seen, id);
	for (int i = 0; i < n; i++)
	{
		uint64		where;
		int			ns;

		if (!ch->gone(ch->gone_arg, lw->cur[i]))
		{
			if (!VxIdHashTestAndAdd(lw->seen, lw->cur[i]))
			{
				lw->cands[ncands].id = lw->cur[i];
				lw->cands[ncands++].distance = ops->pair(ops->pair_arg, id, lw->cur[i]);
			}
			continue;
		}
		/* through a gone neighbour (it keeps its lists) to its entries that stay */
		ns = Max(ops->read(ops->arg, lw->cur[i], level, lw->sub, &where), 0);
		for (int j = 0; j < ns; j++)
		{
			if (ch->gone(ch->gone_arg, lw->sub[j]) || VxIdHashTestAndAdd(lw->seen, lw->sub[j]))
				continue;
			lw->cands[ncands].id = lw->sub[j];
			lw->cands[ncands++].distance = ops->pair(ops->pair_arg, id, lw->sub[j]);
		}
	}
	HnswSortCandidates(lw->cands, ncands);
	nnext = HnswSelectNeighbors(ops->shape, lw->cands, ncands, max, ops->pair, ops->pair_arg,
								lw->kept);
	for (int i = 0; i < nnext; i++)
		lw->next[i] = lw->kept[i].id;
	return nnext;
}

/*
 * The step itself: change id's list at level as ch says, retrying as the
 * ops allow.  Returns whether the change was applied (add: whether newid
 * is in the list afterwards).
 */
static bool
UpdateList(const HnswListOps *ops, uint32 id, int level, ListChange *ch, ListWork *lw)
{
	int			max = level == 0 ? 2 * ops->shape->m : ops->shape->m;

	for (int attempt = 0; ops->attempts == 0 || attempt < ops->attempts; attempt++)
	{
		uint64		where;
		int			n = ops->read(ops->arg, id, level, lw->cur, &where);
		int			nnext;
		bool		linked = false;

		if (n < 0)
			return false;		/* not (or no longer) an element with that list */
		if (ch->newid != HNSW_INVALID_ID)
		{
			for (int i = 0; i < n; i++)
				if (lw->cur[i] == ch->newid)
					return true;
			nnext = ChooseAdd(ops, id, max, ch, lw, n, &linked);
		}
		else
			nnext = ChooseRepair(ops, id, level, max, ch, lw, n);
		if (!ops->write(ops->arg, id, level, where, lw->next, nnext, lw->cur, n))
			continue;
		if (ch->newid != HNSW_INVALID_ID)
		{
			/* a full list that took newid dropped one entry */
			for (int i = 0; i < n && ch->evicted == HNSW_INVALID_ID; i++)
			{
				bool		kept = false;

				for (int j = 0; j < nnext && !kept; j++)
					kept = lw->next[j] == lw->cur[i];
				if (!kept)
					ch->evicted = lw->cur[i];
			}
		}
		else
		{
			/* new neighbours link back, as after an insert */
			for (int i = 0; i < nnext; i++)
			{
				bool		old = false;

				for (int j = 0; j < n && !old; j++)
					old = lw->cur[j] == lw->next[i];
				if (!old)
					HnswAddLink(ops, lw->next[i], level, id, lw->kept[i].distance, false, NULL);
			}
		}
		return ch->newid == HNSW_INVALID_ID || linked;
	}
	return false;
}

/*
 * Make id's level-th list contain newid (whose distance to id is d),
 * pruning with the heuristic when the list is full; with force, a full
 * list that would drop newid gives it the slot of its most redundant entry
 * instead (HnswMostRedundant).  Returns whether newid is in the list
 * afterwards; *evicted (if not NULL) gets the entry that made way for it,
 * or HNSW_INVALID_ID.
 */
bool
HnswAddLink(const HnswListOps *ops, uint32 id, int level, uint32 newid, float d, bool force,
			uint32 *evicted)
{
	ListChange	ch = {.newid = newid, .newdist = d, .force = force, .evicted = HNSW_INVALID_ID};
	bool		linked;
	HnswCandidate cands[2 * HNSW_MAX_M + 1];
	HnswCandidate kept[2 * HNSW_MAX_M];
	ListWork	lw;

	lw.cands = cands;
	lw.kept = kept;
	linked = UpdateList(ops, id, level, &ch, &lw);
	if (evicted)
		*evicted = ch.evicted;
	return linked;
}

/*
 * Link newid from its neighbours nbrs[0..n) (nearest first) at level; if
 * pruning kept it out of every list, force it into the nearest one's, so
 * that no search misses a committed element.  If evicted is not NULL, the
 * entries that made way (at most n + 1, none twice) go to evicted[] and
 * their number is returned.
 */
int
HnswLinkBack(const HnswListOps *ops, const HnswCandidate *nbrs, int n, int level, uint32 newid,
			 uint32 *evicted)
{
	bool		any = false;
	int			nevicted = 0;
	uint32		ev;

	for (int i = 0; i <= n; i++)
	{
		if (i < n)
			any |= HnswAddLink(ops, nbrs[i].id, level, newid, nbrs[i].distance, false, &ev);
		else if (!any && n > 0 && level == 0)
			HnswAddLink(ops, nbrs[0].id, level, newid, nbrs[0].distance, true, &ev);
		else
			break;
		if (evicted && ev != HNSW_INVALID_ID && ev != newid)
		{
			bool		dup = false;

			for (int j = 0; j < nevicted && !dup; j++)
				dup = evicted[j] == ev;
			if (!dup)
				evicted[nevicted++] = ev;
		}
	}
	return nevicted;
}

/*
 * Is id linked at level 0 by an element (other than skip) that the new
 * element's search reached from the entry point, reached(reached_arg, y)?
 * Only such an in-link shows that id is still reachable: elements cut off
 * together (a run of a one-dimensional chain, copies of one vector, the
 * small-norm vectors the inner product's pruning drops) link each other.
 * Looks in the lists of id's own neighbours (the graph is nearly
 * symmetric), so "no" may be wrong and costs a link; an id with no list
 * (not an element) counts as linked.  buf holds 2 * 2m ids.
 */
static bool
HasReachedInLink(const HnswListOps *ops, uint32 id, uint32 skip, HnswGoneFn reached,
				 void *reached_arg, uint32 *buf)
{
	int			max = 2 * ops->shape->m;
	uint32	   *own = buf;
	uint32	   *other = buf + max;
	uint64		where;
	int			n = ops->read(ops->arg, id, 0, own, &where);

	if (n < 0)
		return true;
	for (int i = 0; i < n; i++)
	{
		int			m;

		if (own[i] == skip || !reached(reached_arg, own[i]))
			continue;
		m = ops->read(ops->arg, own[i], 0, other, &where);
		for (int j = 0; j < m; j++)
			if (other[j] == id)
				return true;
	}
	return false;
}

/*
 * After newid's back-links at level 0 pushed evicted[0..n) out of full
 * lists: an entry so pushed out may have lost its last in-link, which cuts
 * it off from every search until VACUUM's reconnect pass (I6, V2b).  That
 * happens where the pruning always drops the same elements: under the
 * inner product in few dimensions (the vectors of small norm, "far" from
 * everyone; 3 of 4 elements of a 1-dimensional index, measured), and among
 * many near-equal vectors.  Each such entry that is not gone() and that
 * no element reached() by newid's search (from the entry point) is seen
 * to link to any more is linked from newid instead: into a free slot of
 * newid's list, else over the entry of newid's list farthest from newid
 * that was not placed there by this pass and that a reached element links
 * to.  With 2m such entries placed, or none left to give way, the rest
 * wait for VACUUM.  Changes newid's list under L5 like every other list
 * change.
 */
void
HnswRelinkEvicted(const HnswListOps *ops, uint32 newid, const uint32 *evicted, int n,
				  HnswGoneFn gone, void *gone_arg, HnswGoneFn reached, void *reached_arg)
{
	int			max = 2 * ops->shape->m;
	uint32		probe[2 * 2 * HNSW_MAX_M];
	uint32		cur[2 * HNSW_MAX_M];
	uint32		next[2 * HNSW_MAX_M];
	uint32		placed[2 * HNSW_MAX_M];
	int			nplaced = 0;

	for (int k = 0; k < n && nplaced < max; k++)
	{
		uint32		id = evicted[k];

		if (gone(gone_arg, id) || HasReachedInLink(ops, id, newid, reached, reached_arg, probe))
			continue;
		for (int attempt = 0; attempt < ops->attempts; attempt++)
		{
			uint64		where;
			int			ncur = ops->read(ops->arg, newid, 0, cur, &where);
			int			nnext = ncur;
			int			victim;
			bool		in = false;

			if (ncur < 0)
				return;
			for (int i = 0; i < ncur && !in; i++)
				in = cur[i] == id;
			if (in)
			{
				placed[nplaced++] = id;
				break;
			}
			memcpy(next, cur, sizeof(uint32) * ncur);
			if (ncur < max)
				next[nnext++] = id;
			else
			{
				/* the farthest entry (not placed here) that has in-links */
				bool		tried[2 * HNSW_MAX_M] = {false};
				float		dist[2 * HNSW_MAX_M];

				for (int i = 0; i < ncur; i++)
				{
					for (int j = 0; j < nplaced && !tried[i]; j++)
						tried[i] = placed[j] == cur[i];
					dist[i] = tried[i] ? 0 : ops->pair(ops->pair_arg, newid, cur[i]);
				}
				for (;;)
				{
					victim = -1;
					for (int i = 0; i < ncur; i++)
						if (!tried[i] && (victim < 0 || dist[i] > dist[victim]))
							victim = i;
					if (victim < 0 ||
						HasReachedInLink(ops, cur[victim], newid, reached, reached_arg, probe))
						break;
					tried[victim] = true;
				}
				if (victim < 0)
					return;
				next[victim] = id;
			}
			if (ops->write(ops->arg, newid, 0, where, next, nnext, cur, ncur))
			{
				placed[nplaced++] = id;
				break;
			}
		}
	}
}

/*
 * New neighbours for id's list at level, which names elements for which
 * gone() holds (vacuum, V2: DELETED ones); see ChooseRepair.  Does nothing
 * if the list keeps changing under it for all the ops' attempts.
 */
void
HnswRepairList(const HnswListOps *ops, uint32 id, int level, HnswGoneFn gone, void *gone_arg)
{
	int			max = level == 0 ? 2 * ops->shape->m : ops->shape->m;
	ListChange	ch = {.newid = HNSW_INVALID_ID, .gone = gone, .gone_arg = gone_arg};
	ListWork	lw;

	lw.sub = palloc(sizeof(uint32) * max);
	lw.cands = palloc(sizeof(HnswCandidate) * (max + max * max));
	lw.kept = palloc(sizeof(HnswCandidate) * max);
	lw.seen = VxIdHashCreate(max * max);
	(void) UpdateList(ops, id, level, &ch, &lw);
	pfree(lw.sub);
	pfree(lw.cands);
	pfree(lw.kept);
}

/* ---------------------------------------------------------------- on pages */

/*
 * The lists of the index's pages as HnswListOps see them.  DELETED
 * elements keep theirs (searches still route through them); FREE and
 * RESERVED ones have none.
 */
static int
PageListRead(void *arg, uint32 id, int level, uint32 *out, uint64 *where)
{
	HnswPageLists *pl = (HnswPageLists *) arg;
	uint64		off = HnswListOffset(pl->pg, id, level);

	*where = off;
	if (off == 0)
		return -1;
	return HnswReadList(pl->pg->index, off, level == 0 ? 2 * pl->pg->graph.shape->m :
						pl->pg->graph.shape->m, out);
}

static bool
PageListWrite(void *arg, uint32 id, int level, uint64 where, const uint32 *ids, int n,
			  const uint32 *old, int nold)
{
	HnswPageLists *pl = (HnswPageLists *) arg;

	VX_WAIT_POINT("hnsw_prune_apply");
	return HnswWriteList(pl->pg->index, where, level == 0 ? 2 * pl->pg->graph.shape->m :
						 pl->pg->graph.shape->m, ids, n, old, nold);
}

/*
 * List operations over pg's index, with vc for the heuristic's distances.
 * Three attempts (L5): each costs page reads and the heuristic's distances
 * with no lock held, and a concurrent insert that keeps changing a hub's
 * list must not hold this one up indefinitely; a link given up is an
 * in-link fewer, as a crash between back-links leaves (W3), which the
 * reconnect pass repairs if it was the only one (V2b).
 */
void
HnswPageListsInit(HnswPageLists *pl, HnswPageGraph *pg, HnswVecCache *vc)
{
	pl->pg = pg;
	pl->ops.read = PageListRead;
	pl->ops.write = PageListWrite;
	pl->ops.pair = HnswVecCachePair;
	pl->ops.pair_arg = vc;
	pl->ops.arg = pl;
	pl->ops.shape = pg->graph.shape;
	pl->ops.attempts = 3;
}

/*-------------------------------------------------------------------------
 *
 * allowlist.c
 *	  The allow-list of the in-scan filter strategy (allowlist.h; the
 *	  strategy: src/planner/filter.h): the TIDs of a bitmap index scan,
 *	  turned into a hash set that the HNSW traversal and the IVF-PQ list
 *	  scan probe once per candidate.  A TIDBitmap has no membership test,
 *	  hence the copy; the filtered-search node builds it once per execution
 *	  in the executor's per-query memory.  Like the bitmap, it keeps within
 *	  work_mem: a set that would grow past it is abandoned (overflow), and
 *	  the node falls back to postfilter (src/planner/filterexec.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/tidbitmap.h"

#include "allowlist.h"

#define LOSSY_OFFSET 0xFFFF

static inline uint64
Key(BlockNumber blk, OffsetNumber off)
{
	return ((uint64) blk << 16) | off;
}

static inline uint64
Slot(uint64 key, uint64 mask)
{
	return (key * UINT64CONST(0x9E3779B97F4A7C15)) >> 17 & mask;
}

static void
Insert(VxAllowList *al, uint64 key)
{
	uint64		i = Slot(key, al->mask);

	while (al->keys[i] != 0)
	{
		if (al->keys[i] == key)
			return;
		i = (i + 1) & al->mask;
	}
	al->keys[i] = key;
}

static bool
Lookup(const VxAllowList *al, uint64 key)
{
	uint64		i = Slot(key, al->mask);

	while (al->keys[i] != 0)
	{
		if (al->keys[i] == key)
			return true;
		i = (i + 1) & al->mask;
	}
	return false;
}

/* double the table when it is half full */
static void
Grow(VxAllowList *al)
{
	uint64	   *old = al->keys;
	uint64		oldcap = al->mask + 1;

	al->mask = oldcap * 2 - 1;
	al->keys = palloc_extended(sizeof(uint64) * oldcap * 2, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (uint64 i = 0; i < oldcap; i++)
		if (old[i] != 0)
			Insert(al, old[i]);
	pfree(old);
}

/*
 * One pass over tbm (iterating sorts its pages, so only once), growing the
 * set as it fills; tbm is left as it was.  A set that would need more than
 * work_mem comes back empty with overflow set.
 */
VxAllowList *
VxAllowListFromBitmap(TIDBitmap *tbm)
{
	VxAllowList *al = palloc0(sizeof(VxAllowList));
	TBMIterator *it;
	TBMIterateResult *r;
	uint64		used = 0;

	al->mask = 1023;
	al->keys = palloc0(sizeof(uint64) * 1024);
	it = tbm_begin_iterate(tbm);
	while ((r = tbm_iterate(it)) != NULL)
	{
		int			n = r->ntuples < 0 ? 1 : r->ntuples;

		while ((used + n) * 2 > al->mask + 1)
		{
			/* the doubled table must fit in work_mem, else give up on it */
			if (sizeof(uint64) * (al->mask + 1) * 2 > (Size) work_mem * 1024)
			{
				pfree(al->keys);
				al->mask = 0;
				al->keys = palloc0(sizeof(uint64));
				al->ntids = al->nlossy = 0;
				al->overflow = true;
				tbm_end_iterate(it);
				return al;
			}
			Grow(al);
		}
		used += n;
		if (r->ntuples < 0)
		{
			Insert(al, Key(r->blockno, LOSSY_OFFSET));
			al->nlossy++;
			continue;
		}
		for (int i = 0; i < r->ntuples; i++)
			Insert(al, Key(r->blockno, r->offsets[i]));
		al->ntids += r->ntuples;
	}
	tbm_end_iterate(it);
	return al;
}

bool
VxAllowListContains(const VxAllowList *al, ItemPointer tid)
{
	BlockNumber blk = ItemPointerGetBlockNumberNoCheck(tid);

	if (Lookup(al, Key(blk, ItemPointerGetOffsetNumberNoCheck(tid))))
		return true;
	return al->nlossy > 0 && Lookup(al, Key(blk, LOSSY_OFFSET));
}

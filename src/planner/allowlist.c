/*-------------------------------------------------------------------------
 *
 * allowlist.c
 *	  The allow-list of the in-scan filter strategy (filter.h): the TIDs of
 *	  a bitmap index scan, turned into a hash set that the HNSW traversal
 *	  and the IVF-PQ list scan probe once per candidate.  A TIDBitmap has no
 *	  membership test, hence the copy; it is built once per execution and
 *	  lives in the executor's per-query memory.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/tidbitmap.h"

#include "filter.h"

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

/* read tbm once to size the set, once to fill it; tbm is left as it was */
VxAllowList *
VxAllowListFromBitmap(TIDBitmap *tbm)
{
	VxAllowList *al = palloc0(sizeof(VxAllowList));
	TBMIterator *it;
	TBMIterateResult *r;
	int64		n = 0;
	uint64		cap = 64;

	it = tbm_begin_iterate(tbm);
	while ((r = tbm_iterate(it)) != NULL)
		n += r->ntuples >= 0 ? r->ntuples : 1;
	tbm_end_iterate(it);

	while (cap < (uint64) n * 2)
		cap <<= 1;
	al->mask = cap - 1;
	al->keys = palloc_extended(sizeof(uint64) * cap, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

	it = tbm_begin_iterate(tbm);
	while ((r = tbm_iterate(it)) != NULL)
	{
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

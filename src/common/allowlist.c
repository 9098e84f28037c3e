/*-------------------------------------------------------------------------
 *
 * allowlist.c
 *	  The allow-list of the in-scan filter strategy (allowlist.h; the
 *	  strategy: src/planner/filter.h): the TIDs of a bitmap index scan,
 *	  turned into a hash set (lib/simplehash.h) that the HNSW traversal
 *	  and the IVF-PQ list scan probe once per candidate.  A TIDBitmap has no membership test,
 *	  hence the copy; the filtered-search node builds it once per execution
 *	  in the executor's per-query memory.  Like the bitmap, it keeps within
 *	  work_mem: a set that would grow past it is abandoned (overflow), and
 *	  the node falls back to postfilter (src/planner/filterexec.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "nodes/tidbitmap.h"

#include "allowlist.h"

#define LOSSY_OFFSET 0xFFFF

/* the set of keys, on lib/simplehash.h */
typedef struct AllowEntry
{
	uint64		key;
	char		status;			/* simplehash's slot state */
} AllowEntry;

#define SH_PREFIX		allowset
#define SH_ELEMENT_TYPE AllowEntry
#define SH_KEY_TYPE		uint64
#define SH_KEY			key
#define SH_HASH_KEY(tb, key) murmurhash32((uint32) ((key) ^ ((key) >> 32)))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

static inline uint64
Key(BlockNumber blk, OffsetNumber off)
{
	return ((uint64) blk << 16) | off;
}

/* give up on al: past work_mem (see VxAllowListFromBitmap) */
static VxAllowList *
Overflow(VxAllowList *al, TBMIterator *it)
{
	allowset_destroy(al->set);
	al->set = allowset_create(CurrentMemoryContext, 16, NULL);
	al->ntids = al->nlossy = 0;
	al->overflow = true;
	tbm_end_iterate(it);
	return al;
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
	allowset_hash *set = allowset_create(CurrentMemoryContext, 1024, NULL);
	bool		found;

	al->set = set;
	it = tbm_begin_iterate(tbm);
	while ((r = tbm_iterate(it)) != NULL)
	{
		int			n = r->ntuples < 0 ? 1 : r->ntuples;

		/* grow ahead of the page's keys, as long as the table fits in work_mem */
		while (set->members + n > set->grow_threshold)
		{
			if (sizeof(AllowEntry) * set->size * 2 > (Size) work_mem * 1024)
				return Overflow(al, it);
			allowset_grow(set, set->size * 2);
		}
		if (r->ntuples < 0)
		{
			(void) allowset_insert(set, Key(r->blockno, LOSSY_OFFSET), &found);
			al->nlossy++;
		}
		else
		{
			for (int i = 0; i < r->ntuples; i++)
				(void) allowset_insert(set, Key(r->blockno, r->offsets[i]), &found);
			al->ntids += r->ntuples;
		}
		/* simplehash also grows by itself when a probe run gets long */
		if (sizeof(AllowEntry) * set->size > (Size) work_mem * 1024)
			return Overflow(al, it);
	}
	tbm_end_iterate(it);
	return al;
}

bool
VxAllowListContains(const VxAllowList *al, ItemPointer tid)
{
	BlockNumber blk = ItemPointerGetBlockNumberNoCheck(tid);

	if (allowset_lookup(al->set, Key(blk, ItemPointerGetOffsetNumberNoCheck(tid))) != NULL)
		return true;
	return al->nlossy > 0 && allowset_lookup(al->set, Key(blk, LOSSY_OFFSET)) != NULL;
}

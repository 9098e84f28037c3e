/*-------------------------------------------------------------------------
 *
 * hnswvacuum.c
 *	  VACUUM for HNSW indexes, in the four passes of hnsw.h (VACUUM):
 *	  V1 removes dead heap TIDs and flags elements left without any as
 *	  DELETED; V2 repairs every neighbour list that names a DELETED element
 *	  (and the entry point), and gives live elements left without a level-0
 *	  in-link one; V3 frees the DELETED elements' space for reuse; V4 frees
 *	  records that inserts stopped by a crash or an error left allocated.
 *
 * The passes walk the element stream page by page (a record's head never
 * crosses a page, so each head is visited exactly once), holding one page
 * lock at a time and calling vacuum_delay_point() between pages.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "storage/procarray.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "postmaster/autovacuum.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"

typedef struct VacState
{
	IndexVacuumInfo *info;
	IndexBulkDeleteResult *stats;
	Relation	index;
	HnswShape	shape;
	uint64		stream_end;
	VxIdHash   *deleted;		/* ids of DELETED elements */
	uint32	   *deleted_ids;	/* the same, as a list */
	int			ndeleted;
	int			maxdeleted;
	uint32		best_id;		/* live element of highest level (I5) */
	int			best_level;
	MemoryContext tmpcxt;
} VacState;

static void
RememberDeleted(VacState *vs, uint32 id)
{
	if (VxIdHashTestAndAdd(vs->deleted, id))
		return;
	if (vs->ndeleted == vs->maxdeleted)
	{
		vs->maxdeleted *= 2;
		vs->deleted_ids = repalloc_huge(vs->deleted_ids, sizeof(uint32) * vs->maxdeleted);
	}
	vs->deleted_ids[vs->ndeleted++] = id;
}

static bool
IsDeleted(VacState *vs, uint32 id)
{
	return VxIdHashContains(vs->deleted, id);
}

/*
 * V1: remove dead TIDs page by page.  Every change on a page is one WAL
 * record.
 */
static void
PassRemoveTids(VacState *vs, IndexBulkDeleteCallback callback, void *callback_state)
{
	HnswStreamCursor c;

	HnswStreamBegin(&c, vs->index, &vs->shape, vs->stream_end, vs->info->strategy,
					BUFFER_LOCK_EXCLUSIVE);
	while (HnswStreamNextPage(&c))
	{
		VxPageWrite w;
		Page		wpage = NULL;

		while (HnswStreamNextRecord(&c))
		{
			HnswElement e = (HnswElement) c.rec;
			uint32		id = HnswOffsetId(c.pos);
			int			live = 0;
			ItemPointerData keep[HNSW_HEAPTIDS];

			if (c.rec[0] != HNSW_KIND_ELEMENT)
				continue;
			if (e->flags & HNSW_DELETED)
			{
				RememberDeleted(vs, id);
				continue;
			}
			if (e->flags != 0)
				continue;
			for (int i = 0; i < e->ntids; i++)
			{
				if (callback(&e->heaptids[i], callback_state))
					vs->stats->tuples_removed += 1;
				else
					keep[live++] = e->heaptids[i];
			}
			if (live != e->ntids)
			{
				/* the page's first change starts its WAL record */
				if (wpage == NULL)
				{
					VxPageWriteBegin(&w, vs->index);
					wpage = VxPageWriteAdd(&w, HnswStreamTakePage(&c), false);
				}
				e = (HnswElement) (HnswPageData(wpage) + HnswOffsetInPage(c.pos));
				memset(e->heaptids, 0, sizeof(e->heaptids));
				memcpy(e->heaptids, keep, sizeof(ItemPointerData) * live);
				e->ntids = live;
				if (live == 0)
				{
					e->flags = HNSW_DELETED;
					RememberDeleted(vs, id);
				}
			}
			if (live > 0)
			{
				vs->stats->num_index_tuples += live;
				if (e->level > vs->best_level)
				{
					vs->best_level = e->level;
					vs->best_id = id;
				}
			}
		}
		if (wpage)
			VxPageWriteFinish(&w);	/* releases the page */
	}
	HnswStreamEnd(&c);
}

/* HnswGoneFn of V2's repairs */
static bool
Gone(void *arg, uint32 id)
{
	return IsDeleted((VacState *) arg, id);
}

/* does the list at rec (max slots) name a deleted element? */
static bool
NamesDeleted(VacState *vs, const uint32 *list, int max)
{
	for (int i = 0; i < max && list[i] != HNSW_INVALID_ID; i++)
		if (IsDeleted(vs, list[i]))
			return true;
	return false;
}

/* V2's walk: collect (id, level) of lists that name deleted elements */
typedef struct RepairTodo
{
	VacState   *vs;
	uint32	   *ids;
	int		   *levels;
	int			n;
	int			cap;
} RepairTodo;

static void
AddTodo(RepairTodo *t, uint32 id, int level)
{
	if (t->n == t->cap)
	{
		t->cap *= 2;
		t->ids = repalloc_huge(t->ids, sizeof(uint32) * t->cap);
		t->levels = repalloc_huge(t->levels, sizeof(int) * t->cap);
	}
	t->ids[t->n] = id;
	t->levels[t->n++] = level;
}

/* a list of the record at c that names deleted elements goes on the list */
static void
CollectRepairs(RepairTodo *t, const HnswStreamCursor *c)
{
	VacState   *vs = t->vs;
	char	   *rec = c->rec;

	if (rec[0] == HNSW_KIND_ELEMENT && ((HnswElement) rec)->flags == 0 &&
		NamesDeleted(vs, ((HnswElement) rec)->neighbors, 2 * vs->shape.m))
		AddTodo(t, HnswOffsetId(c->pos), 0);
	else if (rec[0] == HNSW_KIND_UPPER && ((HnswUpper) rec)->owner != HNSW_INVALID_ID &&
			 !IsDeleted(vs, ((HnswUpper) rec)->owner))
	{
		HnswUpper u = (HnswUpper) rec;

		for (int l = 1; l <= u->nlevels; l++)
			if (NamesDeleted(vs, u->neighbors + (l - 1) * vs->shape.m, vs->shape.m))
				AddTodo(t, u->owner, l);
	}
}

/*
 * V2: repair lists that name deleted elements: collect them in one walk,
 * then repair each with no page locked.
 */
static void
PassRepair(VacState *vs)
{
	HnswPageGraph pg;
	RepairTodo	t = {vs, NULL, NULL, 0, 1024};
	MemoryContext old;
	HnswPageLists lists;
	HnswStreamCursor c;

	t.ids = palloc(sizeof(uint32) * t.cap);
	t.levels = palloc(sizeof(int) * t.cap);
	HnswStreamBegin(&c, vs->index, &vs->shape, vs->stream_end, vs->info->strategy,
					BUFFER_LOCK_SHARE);
	while (HnswStreamNext(&c))
		CollectRepairs(&t, &c);
	HnswStreamEnd(&c);

	HnswPageGraphInit(&pg, vs->index, &vs->shape, NULL);
	old = MemoryContextSwitchTo(vs->tmpcxt);
	for (int i = 0; i < t.n; i++)
	{
		/* a fresh vector cache per batch bounds memory */
		if (i % 256 == 0)
		{
			MemoryContextReset(vs->tmpcxt);
			HnswPageListsInit(&lists, &pg, HnswVecCacheCreate(vs->index, &vs->shape));
		}
		/* new lists: see hnsw.h, ALGORITHM */
		HnswRepairList(&lists.ops, t.ids[i], t.levels[i], Gone, vs);
		vacuum_delay_point();
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(vs->tmpcxt);

	/* I5: a deleted entry point gives way to the live element of highest level */
	{
		HnswMetaPageData meta;

		HnswReadMeta(vs->index, &meta);
		if (meta.entry_point != HNSW_INVALID_ID && IsDeleted(vs, meta.entry_point))
			HnswSetEntryPoint(vs->index, vs->best_id, vs->best_id == HNSW_INVALID_ID ? -1 : vs->best_level, false);
	}
}

static void
PassReconnect(VacState *vs)
{
	int			fixed = HnswReconnectIndex(vs->index, &vs->shape, vs->info->strategy);

	elog(DEBUG1, "hnsw vacuum: %d live elements were unreachable at level 0 and were reconnected in index \"%s\"",
		 fixed, RelationGetRelationName(vs->index));
}

/*
 * V3: free the deleted elements (and their UPPER records): each goes on its
 * free list in one WAL record with the meta page.
 */
static void
PassFree(VacState *vs)
{
	for (int i = 0; i < vs->ndeleted; i++)
	{
		uint32		id = vs->deleted_ids[i];
		uint64		off = HnswIdOffset(id);
		Buffer		metabuf = ReadBuffer(vs->index, HNSW_META_BLKNO);
		Buffer		buf;
		Buffer		ubuf = InvalidBuffer;
		VxPageWrite w;
		HnswMetaPage meta;
		HnswElement e;
		uint32		upper;
		int			level;

		vacuum_delay_point();
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		buf = HnswReadBlock(vs->index, HnswOffsetBlock(off));
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		HnswCheckPage(vs->index, buf);
		e = (HnswElement) (HnswPageData(BufferGetPage(buf)) + HnswOffsetInPage(off));
		if (e->kind != HNSW_KIND_ELEMENT || e->flags != HNSW_DELETED)
		{
			/* an insert added a TID to it since (a duplicate), keep it */
			UnlockReleaseBuffer(buf);
			UnlockReleaseBuffer(metabuf);
			continue;
		}
		upper = e->upper;
		level = e->level;
		if (level > 0 && HnswOffsetBlock(HnswIdOffset(upper)) != HnswOffsetBlock(off))
		{
			/*
			 * Data pages are locked in block order (L4).  A DELETED element
			 * keeps its level and UPPER record until this pass frees it,
			 * and only vacuum frees, so the check above still holds after
			 * relocking.
			 */
			ubuf = HnswReadBlock(vs->index, HnswOffsetBlock(HnswIdOffset(upper)));
			if (BufferGetBlockNumber(ubuf) < BufferGetBlockNumber(buf))
			{
				LockBuffer(buf, BUFFER_LOCK_UNLOCK);
				LockBuffer(ubuf, BUFFER_LOCK_EXCLUSIVE);
				LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			}
			else
				LockBuffer(ubuf, BUFFER_LOCK_EXCLUSIVE);
			HnswCheckPage(vs->index, ubuf);
		}
		if (level > 0)
		{
			/* its UPPER record's level count indexes the meta page's lists */
			Page		upage = ubuf != InvalidBuffer ? BufferGetPage(ubuf) : BufferGetPage(buf);
			uint32		uin = HnswOffsetInPage(HnswIdOffset(upper));

			if (upper == HNSW_INVALID_ID || HnswPageData(upage)[uin] != HNSW_KIND_UPPER)
				HnswCorrupt(vs->index, HnswOffsetBlock(HnswIdOffset(upper)),
							"an element names no upper-level record");
			HnswCheckRecord(vs->index, HnswOffsetBlock(HnswIdOffset(upper)), uin, &vs->shape,
							HnswPageData(upage) + uin);
		}
		VxPageWriteBegin(&w, vs->index);
		meta = HnswPageGetMeta(VxPageWriteAdd(&w, metabuf, false));
		{
			Page		page = VxPageWriteAdd(&w, buf, false);

			e = (HnswElement) (HnswPageData(page) + HnswOffsetInPage(off));
			e->flags = HNSW_FREE;
			e->upper = meta->free_elements;
			meta->free_elements = id;
			if (level > 0)
			{
				Page		upage = ubuf != InvalidBuffer ? VxPageWriteAdd(&w, ubuf, false) : page;
				HnswUpper u = (HnswUpper) (HnswPageData(upage) + HnswOffsetInPage(HnswIdOffset(upper)));

				u->owner = meta->free_upper[u->nlevels];
				u->xid = InvalidTransactionId;	/* free: see Abandoned */
				meta->free_upper[u->nlevels] = upper;
			}
		}
		VxPageWriteFinish(&w);
	}
}

/*
 * V4: reclaim what inserts stopped by a crash or an error left allocated
 * (hnsw.h, W2): RESERVED elements, and UPPER records that no element owns
 * and no free list holds (those have no xid), once the transaction that
 * allocated them is no longer running.  One walk collects them; each is checked again, under
 * the meta page's and its page's exclusive locks, before it goes on its
 * free list in one WAL record.
 */
typedef struct Leftovers
{
	VacState   *vs;
	VxIdHash   *owned;			/* UPPER ids that live or DELETED elements own */
	uint32	   *ids;			/* RESERVED elements and all UPPER records */
	bool	   *upper;
	int			n;
	int			cap;
} Leftovers;

static void
CollectLeftovers(Leftovers *lo, uint64 off, const char *rec)
{
	bool		upper = rec[0] == HNSW_KIND_UPPER;

	if (rec[0] == HNSW_KIND_ELEMENT)
	{
		HnswElement e = (HnswElement) rec;

		if ((e->flags & ~HNSW_DELETED) == 0)
		{
			if (e->level > 0)
				VxIdHashTestAndAdd(lo->owned, e->upper);
			return;
		}
		if (!(e->flags & HNSW_RESERVED) || (e->flags & HNSW_FREE))
			return;
	}
	else if (!upper)
		return;
	if (lo->n == lo->cap)
	{
		lo->cap *= 2;
		lo->ids = repalloc_huge(lo->ids, sizeof(uint32) * lo->cap);
		lo->upper = repalloc_huge(lo->upper, sizeof(bool) * lo->cap);
	}
	lo->ids[lo->n] = HnswOffsetId(off);
	lo->upper[lo->n++] = upper;
}

/* may the record at id, allocated by xid, be reclaimed? (no lock held) */
static bool
Abandoned(VacState *vs, HnswPageGraph *pg, uint32 id, bool upper, uint32 owner, TransactionId xid)
{
	HnswElementData e;

	/*
	 * An UPPER record without an xid is on a free list (V3 and this pass
	 * clear it when they push one; owner is then the next free record) or
	 * was written by the build, whose records all have owners.
	 */
	if (upper && !TransactionIdIsValid(xid))
		return false;
	if (TransactionIdIsInProgress(xid))
		return false;
	if (!upper || owner == HNSW_INVALID_ID)
		return true;
	/* the insert is over: if it published its element, that owns the record */
	if (HnswReadElementHead(pg, owner, &e) && (e.flags & ~HNSW_DELETED) == 0 &&
		e.level > 0 && e.upper == id)
		return false;
	return true;
}

static void
PassReclaim(VacState *vs)
{
	Leftovers	lo = {vs, NULL, NULL, NULL, 0, 256};
	HnswPageGraph pg;
	HnswMetaPageData meta;
	HnswStreamCursor c;
	int			reclaimed = 0;

	lo.owned = VxIdHashCreate(1024);
	lo.ids = palloc(sizeof(uint32) * lo.cap);
	lo.upper = palloc(sizeof(bool) * lo.cap);
	HnswReadMeta(vs->index, &meta);
	HnswStreamBegin(&c, vs->index, &vs->shape, meta.stream_end, vs->info->strategy,
					BUFFER_LOCK_SHARE);
	while (HnswStreamNext(&c))
		CollectLeftovers(&lo, c.pos, c.rec);
	HnswStreamEnd(&c);
	HnswPageGraphInit(&pg, vs->index, &vs->shape, NULL);

	for (int i = 0; i < lo.n; i++)
	{
		uint32		id = lo.ids[i];
		bool		upper = lo.upper[i];
		uint64		off = HnswIdOffset(id);
		Buffer		metabuf;
		Buffer		buf;
		char	   *rec;
		uint32		owner = HNSW_INVALID_ID;
		TransactionId xid;
		VxPageWrite w;
		HnswMetaPage m;

		vacuum_delay_point();
		if (upper && VxIdHashContains(lo.owned, id))
			continue;
		/* what allocated it, read without the write locks (Abandoned reads pages) */
		buf = ReadBuffer(vs->index, HnswOffsetBlock(off));
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		rec = HnswPageData(BufferGetPage(buf)) + HnswOffsetInPage(off);
		if (upper)
		{
			owner = ((HnswUpper) rec)->owner;
			xid = ((HnswUpper) rec)->xid;
		}
		else
			xid = ((HnswElement) rec)->upper;
		UnlockReleaseBuffer(buf);
		if (!Abandoned(vs, &pg, id, upper, owner, xid))
			continue;

		/* L1: meta page first; then check that nothing changed meanwhile */
		metabuf = ReadBuffer(vs->index, HNSW_META_BLKNO);
		LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
		buf = ReadBuffer(vs->index, HnswOffsetBlock(off));
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		rec = HnswPageData(BufferGetPage(buf)) + HnswOffsetInPage(off);
		if (upper ? (rec[0] != HNSW_KIND_UPPER || ((HnswUpper) rec)->owner != owner ||
					 ((HnswUpper) rec)->xid != xid) :
			(rec[0] != HNSW_KIND_ELEMENT || ((HnswElement) rec)->flags != HNSW_RESERVED ||
			 ((HnswElement) rec)->upper != xid))
		{
			UnlockReleaseBuffer(buf);
			UnlockReleaseBuffer(metabuf);
			continue;
		}
		VxPageWriteBegin(&w, vs->index);
		m = HnswPageGetMeta(VxPageWriteAdd(&w, metabuf, false));
		rec = HnswPageData(VxPageWriteAdd(&w, buf, false)) + HnswOffsetInPage(off);
		if (upper)
		{
			HnswUpper	u = (HnswUpper) rec;

			u->owner = m->free_upper[u->nlevels];
			u->xid = InvalidTransactionId;	/* free: see Abandoned */
			m->free_upper[u->nlevels] = id;
		}
		else
		{
			HnswElement e = (HnswElement) rec;

			e->flags = HNSW_FREE;
			e->ntids = 0;
			e->upper = m->free_elements;
			m->free_elements = id;
		}
		VxPageWriteFinish(&w);
		reclaimed++;
	}
	if (reclaimed > 0)
		elog(DEBUG1, "hnsw vacuum: %d records left allocated by interrupted inserts were freed",
			 reclaimed);
}

static void
InitVacState(VacState *vs, IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	HnswMetaPageData meta;

	memset(vs, 0, sizeof(VacState));
	vs->info = info;
	vs->stats = stats;
	vs->index = info->index;
	vs->shape = *HnswGetShape(info->index);
	HnswReadMeta(info->index, &meta);
	vs->stream_end = meta.stream_end;
	vs->deleted = VxIdHashCreate(1024);
	vs->maxdeleted = 1024;
	vs->deleted_ids = palloc(sizeof(uint32) * vs->maxdeleted);
	vs->best_id = HNSW_INVALID_ID;
	vs->best_level = -1;
	vs->tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum", ALLOCSET_DEFAULT_SIZES);
}

IndexBulkDeleteResult *
hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	VacState	vs;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	InitVacState(&vs, info, stats);

	stats->num_index_tuples = 0;
	PassRemoveTids(&vs, callback, callback_state);
	if (vs.ndeleted > 0)
	{
		/*
		 * L6: an insert that began before V1 may have chosen an element V1
		 * has just flagged as a neighbour; once it has ended, its lists are
		 * in the pages for V2 to repair (read the stream's end again: its
		 * element may lie past the end V1 walked to), and every later
		 * insert sees the flags and links to live elements only.
		 */
		HnswMetaPageData meta;

		HnswWaitForInserts(vs.index);
		HnswReadMeta(vs.index, &meta);
		vs.stream_end = meta.stream_end;
		VX_WAIT_POINT("hnsw_vacuum_repair");
		PassRepair(&vs);
		PassReconnect(&vs);
		VX_WAIT_POINT("hnsw_vacuum_free");
		PassFree(&vs);
	}
	PassReclaim(&vs);
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	MemoryContextDelete(vs.tmpcxt);
	return stats;
}

IndexBulkDeleteResult *
hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	HnswMetaPageData meta;

	if (info->analyze_only)
		return stats;

	/*
	 * Inserts since the last reconnect may have cut elements off (pruning a
	 * full list drops an entry, maybe its only in-link).  The pass reads the
	 * whole index, so autovacuum runs it only once the records allocated
	 * since the last pass reach a tenth of the table's rows; a VACUUM
	 * someone asked for runs it after any insert.  (A VACUUM that deleted
	 * elements already ran it in hnswbulkdelete.)
	 */
	HnswReadMeta(info->index, &meta);
	if (meta.allocations != meta.reconnected_at &&
		(!IsAutoVacuumWorkerProcess() ||
		 (double) (meta.allocations - meta.reconnected_at) >= 0.1 * info->num_heap_tuples))
	{
		VacState	vs;
		IndexBulkDeleteResult dummy;

		InitVacState(&vs, info, stats ? stats : &dummy);
		PassReconnect(&vs);
		if (stats == NULL)
			PassReclaim(&vs);	/* hnswbulkdelete did when it ran */
		MemoryContextDelete(vs.tmpcxt);
	}
	if (stats == NULL)
	{
		/* no bulkdelete ran: report what the heap says, marked as estimated */
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		stats->num_index_tuples = info->num_heap_tuples;
		stats->estimated_count = info->estimated_count;
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}

/*-------------------------------------------------------------------------
 *
 * ivfpqcheck.c
 *	  vectorx_ivfpq_check(index): verify an IVF-PQ index's invariants
 *	  (ivfpq.h, I1-I7, with the page checks of CORRUPTION) on a live index
 *	  and report what it found, for tests and for DBAs who suspect a
 *	  problem.  Read-only; takes AccessShareLock on the index and
 *	  ShareUpdateExclusiveLock on its table, VACUUM's, so that no VACUUM
 *	  runs meanwhile (VxOpenIndexForCheck; on a standby AccessShareLock,
 *	  and replayed vacuums go on), and share-locks one page at a time
 *	  (ivfpq.h, L3), so inserts and scans go on.  The IVF-PQ counterpart
 *	  of hnswcheck.c.
 *
 *	  ok            no problem found
 *	  pages         index pages
 *	  lists         lists, from the meta page
 *	  empty_lists   lists holding no entry
 *	  list_pages    pages on the lists' chains
 *	  max_chain     pages of the longest chain
 *	  entries       entries on those pages
 *	  heap_tids     distinct heap TIDs among them (entries, unless I6 or
 *	                I7 fails)
 *	  new_pages     all-zero pages past data_start that no chain links:
 *	                extensions a crash cut short (ivfpq.h, WAL), harmless
 *	  problems      one text per violation (VX_MAX_PROBLEMS at most), each
 *	                prefixed with the invariant (I1-I7) or page check (C1)
 *	                it breaks
 *
 *	  The steps, each named by what it checks:
 *	  1. The meta page, through IvfpqReadMeta's guards (C1, C2: I1 and
 *	     I2), then what they leave to this check (I1: blocks_per_page
 *	     exactly what a page holds, no centroid or codebook block when
 *	     untrained, an odd build_id).
 *	  2. The centroid and codebook pages are flat pages (C1).
 *	  3. Each directory page is one (C1), and every list of it: its
 *	     directory entry (I4: head and insert both invalid or both list
 *	     pages, C3), then its chain: each page reached once (I5: no cycle,
 *	     no page on two chains), a list page (C1), its links within the
 *	     list pages (C3), its count within a page (I6, C4), a heap TID in
 *	     each entry (I6), and insert met on the way (I4).  The TIDs are
 *	     kept for step 5.
 *	  4. Every block past data_start no chain reached: an all-zero page
 *	     (new_pages), or else an IVF-PQ page (C1) and a list page (I2); a
 *	     list page there is on no chain (I5) if step 6 agrees.
 *	  5. The TIDs sorted: each in one entry (I7) if step 6 agrees.
 *	  6. Only when step 4 or 5 found something: every chain walked again.
 *	     Both findings can be a moment of a concurrent change rather than
 *	     damage: a list page appended after step 3 walked its chain, or
 *	     (on a standby, where VACUUM is replayed meanwhile) a heap TID that
 *	     VACUUM removed from one list while step 3 ran and that the heap
 *	     then gave to a new row, inserted into another.
 *	     Links are never removed (I5) and a reused TID's old entry is gone,
 *	     so what the second walk still finds is damage, and it names where.
 *	  A chain, a directory entry or a list page that fails is reported and
 *	  left (its chain ends there), and the check goes on with the next:
 *	  as vectorx_hnsw_check reports the damage it can walk past and
 *	  raises ERRCODE_INDEX_CORRUPTED where it cannot go on, this check
 *	  raises it only for the meta page, without which nothing else can be
 *	  read (and for what any read of a page raises, such as a page
 *	  PostgreSQL cannot verify).
 *
 *	  What it cannot check: I3 says the parts never change after the
 *	  build; one look at the index cannot see a change, and the build
 *	  keeps no checksum of them, so step 2 checks only that they are there.
 *	  I7's second half, that an entry is in the list whose centroid was
 *	  nearest its row, is not checkable from what is stored: an entry
 *	  holds the PQ code of its row's residual against its own list's
 *	  centroid, not the vector, and decoding it gives a point near that
 *	  centroid by construction.  Reading each row's vector from the table
 *	  instead would lock and read the table at random (one heap fetch per
 *	  entry), could not see rows pruned since, and would still not be a
 *	  test: the nearest centroid, recomputed with this server's kernels,
 *	  may differ in a tie or the last bit from the one the build or the
 *	  insert computed (on another CPU, for a standby).  Heap TIDs are
 *	  checked for validity, not against the table's size, for the same
 *	  reason: this check reads the index only, as vectorx_hnsw_check.
 *
 *	  Memory, in a context of its own freed at the end: 6 bytes per entry
 *	  read (its heap TID, sorted in place: as much as the TIDs take in the
 *	  index; the array doubles as it fills, so at most twice that), 4 bytes
 *	  per page past data_start (which chain reached it), and 28 bytes (56
 *	  as that array doubles) per heap TID found in more than one entry.  Like any query's memory it is
 *	  outside maintenance_work_mem and work_mem.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "inspect.h"
#include "ivfpq.h"

/* heap TIDs in order, for step 5 */
#define ST_SORT SortTids
#define ST_ELEMENT_TYPE ItemPointerData
#define ST_COMPARE(a, b) ItemPointerCompare(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* owner marks of the pages past data_start (CheckState.owner) */
#define OWNER_NONE		0			/* no chain reached it */
/* 1..IVFPQ_MAX_LISTS: list + 1 of the chain that reached it first */
#define OWNER_UNLINKED	0x7FFFFFFF	/* a list page no chain reached (step 4) */
#define OWNER_CONFIRMED 0x80000000	/* or'ed in: step 6 reached it */

StaticAssertDecl(IVFPQ_MAX_LISTS < OWNER_UNLINKED, "owner marks must not collide with lists");

/* a heap TID step 3 read in more than one entry, and where step 6 finds it */
typedef struct DupTid
{
	ItemPointerData tid;
	int			count;			/* entries step 6 found it in */
	uint32		list[2];		/* the first two */
	BlockNumber blkno[2];
} DupTid;

typedef struct CheckState
{
	Relation	index;
	IvfpqMetaPageData meta;
	BufferAccessStrategy strategy;
	int			capacity;		/* entries a list page holds */
	int			code_bytes;		/* of one block */
	BlockNumber nblocks;		/* the index's size, as last read */
	bool		confirming;		/* step 6: count, mark, report nothing */

	/* per block from data_start: OWNER_* or list + 1 */
	uint32	   *owner;
	BlockNumber nowner;			/* blocks it covers */

	/* step 3's heap TIDs, then step 5's duplicates among them */
	ItemPointerData *tids;
	int64		ntids;
	int64		maxtids;
	DupTid	   *dups;
	int64		ndups;

	int			empty_lists;
	int64		list_pages;
	int64		max_chain;
	int64		entries;
	int64		heap_tids;
	int64		new_pages;
	bool		unlinked;		/* step 4 found list pages no chain reached */
	List	   *problems;
} CheckState;

/* a problem, unless this is step 6 (which reports through its own) */
#define Problem(cs, ...) \
	do { \
		if (!(cs)->confirming) \
			VxProblem(&(cs)->problems, __VA_ARGS__); \
	} while (0)

/* where blkno's mark is kept (blkno < nblocks, at or past data_start) */
static uint32 *
OwnerOf(CheckState *cs, BlockNumber blkno)
{
	BlockNumber i = blkno - cs->meta.data_start;

	if (i >= cs->nowner)
	{
		/* the index grew since the array was sized */
		BlockNumber n = Max(cs->nblocks - cs->meta.data_start, i + 1);

		cs->owner = repalloc_huge(cs->owner, sizeof(uint32) * n);
		memset(cs->owner + cs->nowner, 0, sizeof(uint32) * (n - cs->nowner));
		cs->nowner = n;
	}
	return &cs->owner[i];
}

/* the kind of one of our pages, 0 for any other page */
static uint8
PageKind(Page page)
{
	return VxPageIsOurs(page, &IvfpqPageFormat) ? IvfpqPageGetOpaque(page)->kind : 0;
}

/* what a page is, for a problem: "an all-zero page", "a page of kind 2" */
static const char *
DescribePage(Page page)
{
	if (PageIsNew(page))
		return "an all-zero page";
	if (!VxPageIsOurs(page, &IvfpqPageFormat))
		return psprintf("not an IVF-PQ page (page id 0x%04X)", VxPageGetId(page));
	return psprintf("a page of kind %d", IvfpqPageGetOpaque(page)->kind);
}

/* ---------------------------------------------------------------- steps 1, 2 */

/* what IvfpqReadMeta's guards leave to the check (I1) */
static void
CheckMeta(CheckState *cs)
{
	const IvfpqMetaPageData *meta = &cs->meta;

	if (meta->blocks_per_page != IVFPQ_DATA_SIZE / meta->block_bytes)
		Problem(cs, "I1: the meta page says %u blocks per page, a page holds %u blocks of %u bytes",
				meta->blocks_per_page, (uint32) (IVFPQ_DATA_SIZE / meta->block_bytes), meta->block_bytes);
	if (!meta->trained && (meta->centroid_start != 0 || meta->codebook_start != 0))
		Problem(cs, "I1: an untrained index has centroids at block %u and codebooks at block %u",
				meta->centroid_start, meta->codebook_start);
	if ((meta->build_id & 1) == 0)
		Problem(cs, "I1: the build id %llu is even", (unsigned long long) meta->build_id);
}

/* every page of a part is there with its kind (C1); the meta page bounds them */
static void
CheckPart(CheckState *cs, BlockNumber start, BlockNumber npages, uint8 kind, const char *part)
{
	for (BlockNumber blkno = start; blkno < start + npages; blkno++)
	{
		Buffer		buf;
		Page		page;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(cs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, cs->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageKind(page) != kind)
			Problem(cs, "C1: block %u, of the %s, is %s", blkno, part, DescribePage(page));
		UnlockReleaseBuffer(buf);
	}
}

/* ---------------------------------------------------------------- step 3 (and 6) */

/* a heap TID a row can have: a valid block, an offset within a page */
static bool
HeapTidValid(ItemPointer tid)
{
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);

	return BlockNumberIsValid(ItemPointerGetBlockNumberNoCheck(tid)) &&
		off >= FirstOffsetNumber && off <= MaxOffsetNumber;
}

/* the duplicate entry of tid, or NULL (dups is sorted by TID) */
static DupTid *
FindDup(CheckState *cs, ItemPointer tid)
{
	int64		lo = 0,
				hi = cs->ndups;

	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;
		int32		c = ItemPointerCompare(&cs->dups[mid].tid, tid);

		if (c == 0)
			return &cs->dups[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* the count entries of a share-locked list page: each a valid heap TID (I6) */
static void
ReadEntries(CheckState *cs, Page page, int count, uint32 list, BlockNumber blkno)
{
	char	   *data = IvfpqPageData(page);

	for (int i = 0; i < count; i++)
	{
		ItemPointer tid = IvfpqEntryTid(data, &cs->meta, cs->code_bytes, i);

		if (!HeapTidValid(tid))
		{
			Problem(cs, "I6: list %u, block %u, entry %d holds (%u,%u), not a heap TID",
					list, blkno, i, ItemPointerGetBlockNumberNoCheck(tid),
					ItemPointerGetOffsetNumberNoCheck(tid));
			continue;
		}
		if (cs->confirming)
		{
			DupTid	   *dup = FindDup(cs, tid);

			if (dup != NULL)
			{
				if (dup->count < 2)
				{
					dup->list[dup->count] = list;
					dup->blkno[dup->count] = blkno;
				}
				dup->count++;
			}
			continue;
		}
		if (cs->ntids == cs->maxtids)
		{
			cs->maxtids *= 2;
			cs->tids = repalloc_huge(cs->tids, sizeof(ItemPointerData) * cs->maxtids);
		}
		cs->tids[cs->ntids++] = *tid;
	}
}

/*
 * Walk list's chain from head (a valid list block): every page reached
 * once (I5), a list page (C1), its link within the list pages (C3), its
 * count within a page (I6).  Returns the pages walked; *entries gets the
 * entries read, *met_insert whether insert was among the pages, *whole
 * whether the walk reached the chain's end.
 */
static int64
WalkChain(CheckState *cs, uint32 list, BlockNumber head, BlockNumber insert,
		  int64 *entries, bool *met_insert, bool *whole)
{
	BlockNumber blkno = head;
	int64		pages = 0;

	*entries = 0;
	*met_insert = false;
	*whole = false;
	for (;;)
	{
		uint32	   *mark = OwnerOf(cs, blkno);
		Buffer		buf;
		Page		page;
		IvfpqPageOpaque op;
		BlockNumber next;
		int			count;

		CHECK_FOR_INTERRUPTS();
		if (cs->confirming)
		{
			if (*mark & OWNER_CONFIRMED)
				break;			/* step 3 reported it */
			*mark |= OWNER_CONFIRMED;
		}
		else if (*mark != OWNER_NONE)
		{
			if (*mark == list + 1)
				Problem(cs, "I5: list %u's chain cycles at block %u", list, blkno);
			else
				Problem(cs, "I5: block %u is on the chains of lists %u and %u", blkno, *mark - 1, list);
			break;
		}
		else
			*mark = list + 1;

		buf = ReadBufferExtended(cs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, cs->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageKind(page) != IVFPQ_LIST)
		{
			Problem(cs, "C1: list %u's chain reaches block %u, %s", list, blkno, DescribePage(page));
			UnlockReleaseBuffer(buf);
			break;
		}
		op = IvfpqPageGetOpaque(page);
		count = op->count;
		next = op->next;
		if (count > cs->capacity)
		{
			/* which of them are entries is anyone's guess: none are read */
			Problem(cs, "I6: list %u, block %u holds %d entries, more than the %d that fit",
					list, blkno, count, cs->capacity);
			count = 0;
		}
		ReadEntries(cs, page, count, list, blkno);
		UnlockReleaseBuffer(buf);

		pages++;
		*entries += count;
		if (blkno == insert)
			*met_insert = true;
		if (!BlockNumberIsValid(next))
		{
			*whole = true;
			break;
		}
		if (!IvfpqListBlockValid(cs->index, &cs->meta, next, &cs->nblocks))
		{
			Problem(cs, "I5: list %u, block %u links to block %u, outside the list pages (%u to %u)",
					list, blkno, next, cs->meta.data_start, cs->nblocks - 1);
			break;
		}
		blkno = next;
	}
	return pages;
}

/* one list: its directory entry (I4), then its chain */
static void
CheckList(CheckState *cs, uint32 list, IvfpqListData entry)
{
	bool		head_ok = IvfpqListBlockValid(cs->index, &cs->meta, entry.head, &cs->nblocks);
	bool		insert_ok = IvfpqListBlockValid(cs->index, &cs->meta, entry.insert, &cs->nblocks);
	int64		pages = 0,
				entries = 0;
	bool		met_insert = false,
				whole = false;

	if (!head_ok)
		Problem(cs, "I4: list %u's first page, block %u, lies outside the list pages (%u to %u)",
				list, entry.head, cs->meta.data_start, cs->nblocks - 1);
	if (!insert_ok)
		Problem(cs, "I4: list %u's insert page, block %u, lies outside the list pages (%u to %u)",
				list, entry.insert, cs->meta.data_start, cs->nblocks - 1);
	if (BlockNumberIsValid(entry.head) && !BlockNumberIsValid(entry.insert))
		Problem(cs, "I4: list %u has a first page, block %u, but no insert page", list, entry.head);
	if (!BlockNumberIsValid(entry.head) && BlockNumberIsValid(entry.insert))
		Problem(cs, "I4: list %u has an insert page, block %u, but no first page", list, entry.insert);
	if (head_ok && BlockNumberIsValid(entry.head))
	{
		pages = WalkChain(cs, list, entry.head, entry.insert, &entries, &met_insert, &whole);
		/* inserts only add pages after the directory entry was read: insert is on the chain */
		if (whole && insert_ok && BlockNumberIsValid(entry.insert) && !met_insert)
			Problem(cs, "I4: list %u's insert page, block %u, is not on its chain", list, entry.insert);
	}
	if (cs->confirming)
		return;
	cs->list_pages += pages;
	cs->max_chain = Max(cs->max_chain, pages);
	cs->entries += entries;
	if (entries == 0)
		cs->empty_lists++;
}

/* every list, directory page by directory page (C1 for each of those) */
static void
CheckLists(CheckState *cs)
{
	IvfpqListData *dir = palloc(sizeof(IvfpqListData) * IVFPQ_LISTS_PER_PAGE);

	for (uint32 first = 0; first < cs->meta.lists; first += IVFPQ_LISTS_PER_PAGE)
	{
		int			slot;
		BlockNumber dirblk = IvfpqDirectoryBlock(&cs->meta, first, &slot);
		uint32		n = Min(cs->meta.lists - first, (uint32) IVFPQ_LISTS_PER_PAGE);
		Buffer		buf;
		Page		page;

		CHECK_FOR_INTERRUPTS();
		/* within the relation: the meta page's guards (C2) */
		buf = ReadBufferExtended(cs->index, MAIN_FORKNUM, dirblk, RBM_NORMAL, cs->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageKind(page) != IVFPQ_DIRECTORY)
		{
			/* its lists' pages then show as on no chain (step 4) */
			Problem(cs, "C1: block %u, of the directory (lists %u to %u), is %s",
					dirblk, first, first + n - 1, DescribePage(page));
			UnlockReleaseBuffer(buf);
			continue;
		}
		/* copied, then released: list pages are read after (L4) */
		memcpy(dir, IvfpqPageData(page), sizeof(IvfpqListData) * n);
		UnlockReleaseBuffer(buf);
		for (uint32 i = 0; i < n; i++)
			CheckList(cs, first + i, dir[i]);
	}
	pfree(dir);
}

/* ---------------------------------------------------------------- steps 4 to 6 */

/* the blocks past data_start that no chain reached (step 4) */
static void
CheckUnreached(CheckState *cs)
{
	cs->nblocks = RelationGetNumberOfBlocks(cs->index);
	for (BlockNumber blkno = cs->meta.data_start; blkno < cs->nblocks; blkno++)
	{
		uint32	   *mark = OwnerOf(cs, blkno);
		Buffer		buf;
		Page		page;
		uint8		kind;

		if (*mark != OWNER_NONE)
			continue;
		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(cs->index, MAIN_FORKNUM, blkno, RBM_NORMAL, cs->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		kind = PageKind(page);
		if (PageIsNew(page))
			cs->new_pages++;
		else if (kind == IVFPQ_LIST)
		{
			/* linked when we read it (W2, W3 link a page as they fill it): step 6 */
			*mark = OWNER_UNLINKED;
			cs->unlinked = true;
		}
		else if (kind == 0)
			Problem(cs, "C1: block %u is %s", blkno, DescribePage(page));
		else
			Problem(cs, "I2: block %u, past the first list page %u, is a page of kind %d",
					blkno, cs->meta.data_start, kind);
		UnlockReleaseBuffer(buf);
	}
}

/* sort the TIDs, count them, keep those in more than one entry (step 5) */
static void
FindDuplicates(CheckState *cs)
{
	int64		maxdups = 0;

	SortTids(cs->tids, cs->ntids);
	for (int64 i = 0, j; i < cs->ntids; i = j)
	{
		for (j = i + 1; j < cs->ntids && ItemPointerEquals(&cs->tids[i], &cs->tids[j]); j++)
			;
		cs->heap_tids++;
		if (j - i == 1)
			continue;
		if (cs->ndups == maxdups)
		{
			maxdups = Max(maxdups * 2, 16);
			cs->dups = cs->dups == NULL ?
				palloc_extended(sizeof(DupTid) * maxdups, MCXT_ALLOC_HUGE) :
				repalloc_huge(cs->dups, sizeof(DupTid) * maxdups);
		}
		memset(&cs->dups[cs->ndups], 0, sizeof(DupTid));
		cs->dups[cs->ndups++].tid = cs->tids[i];
	}
	pfree(cs->tids);
	cs->tids = NULL;
}

/* step 6: walk again; report what is still there */
static void
Confirm(CheckState *cs)
{
	cs->confirming = true;
	CheckLists(cs);
	cs->confirming = false;
	for (BlockNumber i = 0; i < cs->nowner; i++)
		if (cs->owner[i] == OWNER_UNLINKED)
			Problem(cs, "I5: block %u is a list page on no list's chain", cs->meta.data_start + i);
	for (int64 i = 0; i < cs->ndups; i++)
	{
		DupTid	   *d = &cs->dups[i];

		if (d->count >= 2)
			Problem(cs, "I7: heap TID (%u,%u) is in %d entries: list %u, block %u and list %u, block %u",
					ItemPointerGetBlockNumberNoCheck(&d->tid), ItemPointerGetOffsetNumberNoCheck(&d->tid),
					d->count, d->list[0], d->blkno[0], d->list[1], d->blkno[1]);
	}
}

/* all the steps, in the current memory context */
static void
Check(CheckState *cs, Relation index)
{
	IvfpqMetaPageData *meta = &cs->meta;

	memset(cs, 0, sizeof(CheckState));
	cs->index = index;
	IvfpqReadMeta(index, meta);
	cs->strategy = GetAccessStrategy(BAS_BULKREAD);
	cs->capacity = IvfpqPageCapacity(meta);
	cs->code_bytes = IvfpqCodeBytes(meta->m, meta->nbits, IvfpqFlatBytes(meta->dims, meta->metric));
	cs->nblocks = RelationGetNumberOfBlocks(index);
	cs->nowner = cs->nblocks - meta->data_start;	/* data_start <= nblocks (C2) */
	cs->owner = palloc_extended(sizeof(uint32) * Max(cs->nowner, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	cs->maxtids = 1024;
	cs->tids = palloc_extended(sizeof(ItemPointerData) * cs->maxtids, MCXT_ALLOC_HUGE);

	CheckMeta(cs);
	if (meta->trained)
	{
		CheckPart(cs, meta->centroid_start,
				  IvfpqFlatPages(sizeof(float) * (Size) meta->lists * meta->dims), IVFPQ_FLAT, "centroids");
		if (meta->nbits != IVFPQ_NBITS_FLAT)
			CheckPart(cs, meta->codebook_start,
					  IvfpqFlatPages(sizeof(float) * ((Size) 1 << meta->nbits) * meta->dims), IVFPQ_FLAT,
					  "codebooks");
	}
	CheckLists(cs);
	CheckUnreached(cs);
	FindDuplicates(cs);
	if (cs->unlinked || cs->ndups > 0)
		Confirm(cs);
}

PG_FUNCTION_INFO_V1(vectorx_ivfpq_check);
Datum
vectorx_ivfpq_check(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Relation	index;
	CheckState	cs;
	MemoryContext cxt,
				old;
	Datum		values[10];
	bool		nulls[10] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	index = VxOpenIndexForCheck(PG_GETARG_OID(0), "vectorx_ivfpq_check");
	if (index->rd_indam->ambuild != ivfpqbuild && index->rd_indam->ambuild != ivfflatbuild)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("index \"%s\" is not an ivfpq or ivfflat index", RelationGetRelationName(index)),
				 errdetail("Its access method is %s.", get_am_name(index->rd_rel->relam)),
				 errhint("vectorx_ivfpq_check takes an index built with the ivfpq or ivfflat access method; "
						 "vectorx_hnsw_check checks hnsw indexes.")));

	cxt = AllocSetContextCreate(CurrentMemoryContext, "vectorx_ivfpq_check", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	Check(&cs, index);
	MemoryContextSwitchTo(old);

	values[0] = BoolGetDatum(cs.problems == NIL);
	values[1] = Int64GetDatum(cs.nblocks);
	values[2] = Int32GetDatum(cs.meta.lists);
	values[3] = Int32GetDatum(cs.empty_lists);
	values[4] = Int64GetDatum(cs.list_pages);
	values[5] = Int64GetDatum(cs.max_chain);
	values[6] = Int64GetDatum(cs.entries);
	values[7] = Int64GetDatum(cs.heap_tids);
	values[8] = Int64GetDatum(cs.new_pages);
	values[9] = VxProblemArray(cs.problems);	/* copied out of cxt */
	MemoryContextDelete(cxt);
	index_close(index, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

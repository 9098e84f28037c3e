/*-------------------------------------------------------------------------
 *
 * hnswpage.c
 *	  HNSW data pages and the records on them: the guards of C3 and C4,
 *	  initialising a data page, allocating a record (W1: a free one, or
 *	  stream space on pages added at the end) and writing one (W2).  Called
 *	  by inserts (hnswinsert.c), the build's on-disk overflow, vacuum and the
 *	  check; hnsw.h documents the stream, the record layouts and the rules
 *	  (L1-L5, W1-W5) carried out here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "hnsw.h"

/* blkno must lie within the index (refreshing *nblocks when it does not) */
void
HnswCheckBlock(Relation index, BlockNumber blkno, BlockNumber *nblocks)
{
	if (blkno < *nblocks)
		return;
	*nblocks = RelationGetNumberOfBlocks(index);
	if (blkno >= *nblocks)
		HnswCorrupt(index, blkno, "an element id points past the end of the index");
}

/* ReadBuffer of a data block that a page named: checked against the size */
Buffer
HnswReadBlock(Relation index, BlockNumber blkno)
{
	BlockNumber nblocks = 0;

	HnswCheckBlock(index, blkno, &nblocks);
	return ReadBuffer(index, blkno);
}

/*
 * The head of a record at in-page offset inpage of block blkno: an ELEMENT
 * must have a level, a TID count and a head that fits the page; an UPPER
 * record a level count and lists that fit.  The first 16 bytes of any id
 * always lie on the page (HNSW_DATA_SIZE is a multiple of HNSW_UNIT).
 */
void
HnswCheckRecord(Relation index, BlockNumber blkno, uint32 inpage, const HnswShape *shape,
				const char *rec)
{
	if (rec[0] == HNSW_KIND_ELEMENT)
	{
		const HnswElementData *e = (const HnswElementData *) rec;

		if (inpage + shape->head_size > HNSW_DATA_SIZE)
			HnswCorrupt(index, blkno, "an element head crosses the page end");
		if (e->level > HNSW_MAX_LEVEL || e->ntids > HNSW_HEAPTIDS)
			HnswCorrupt(index, blkno, "an element has an invalid level or heap TID count");
	}
	else if (rec[0] == HNSW_KIND_UPPER)
	{
		int			nlevels = ((const HnswUpperData *) rec)->nlevels;

		if (nlevels < 1 || nlevels > HNSW_MAX_LEVEL ||
			inpage + HnswUpperSize(shape->m, nlevels) > HNSW_DATA_SIZE)
			HnswCorrupt(index, blkno, "an upper-level record has an invalid level count");
	}
}

/* raise pd_lower so that the bytes up to end-in-page are not a "hole" */
static void
CoverBytes(Page page, uint32 end_in_page)
{
	PageHeader	ph = (PageHeader) page;
	LocationIndex lower = HNSW_DATA_OFFSET + end_in_page;

	if (ph->pd_lower < lower)
		ph->pd_lower = lower;
}

/* append an initialized page; it must become block expected */
static void
ExtendIndex(Relation index, BlockNumber expected)
{
	Buffer		buf;
	VxPageWrite w;

	buf = VxNewBuffer(index);	/* lock order: page.h */
	if (BufferGetBlockNumber(buf) != expected)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has %u pages where its stream ends in page %u",
						RelationGetRelationName(index), BufferGetBlockNumber(buf), expected),
				 errhint("REINDEX the index.")));
	VxPageWriteBegin(&w, index);
	HnswInitDataPage(VxPageWriteAdd(&w, buf, true));
	VxPageWriteFinish(&w);
}

/*
 * Initialise block blkno, which exists past the pages the stream uses
 * (the caller holds the meta page exclusively, so nobody else reads or
 * writes there).  Such a block is what a crash leaves of an extension:
 * PostgreSQL writes the new block to the file at once and our record that
 * initialises it follows in the WAL, so a crash between the two leaves an
 * all-zero block after recovery (or, if the record made it, an empty
 * page).  Written as a new page, whatever it holds.
 */
static void
ReinitIndexPage(Relation index, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, blkno);
	VxPageWrite w;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	VxPageWriteBegin(&w, index);
	HnswInitDataPage(VxPageWriteAdd(&w, buf, true));
	VxPageWriteFinish(&w);
}

/*
 * W1 for a free record: pop id, the head of its free list, and mark it
 * RESERVED, in one WAL record with the meta page (metabuf, locked
 * exclusively; released with the record).
 */
static uint64
PopFreeRecord(Relation index, const HnswShape *shape, Buffer metabuf, uint32 id,
			  bool element, int nlevels)
{
	uint64		off;
	Buffer		buf;
	VxPageWrite w;
	Page		metapage;
	Page		page;
	char	   *rec;

	off = HnswIdOffset(id);
	buf = HnswReadBlock(index, HnswOffsetBlock(off));
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswCheckPage(index, buf);
	HnswCheckRecord(index, BufferGetBlockNumber(buf), HnswOffsetInPage(off), shape,
					HnswPageData(BufferGetPage(buf)) + HnswOffsetInPage(off));
	VxPageWriteBegin(&w, index);
	metapage = VxPageWriteAdd(&w, metabuf, false);
	page = VxPageWriteAdd(&w, buf, false);
	rec = HnswPageData(page) + HnswOffsetInPage(off);
	if (element)
	{
		HnswElement e = (HnswElement) rec;

		if (e->kind != HNSW_KIND_ELEMENT || !(e->flags & HNSW_FREE))
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("free list of index \"%s\" names a record in use",
							RelationGetRelationName(index))));
		HnswPageGetMeta(metapage)->free_elements = e->upper;
		HnswPageGetMeta(metapage)->allocations++;
		e->flags = HNSW_RESERVED;
		e->upper = HnswReservingXid();
	}
	else
	{
		HnswUpper u = (HnswUpper) rec;

		if (u->kind != HNSW_KIND_UPPER || u->nlevels != nlevels)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("free list of index \"%s\" names a record in use",
							RelationGetRelationName(index))));
		HnswPageGetMeta(metapage)->free_upper[nlevels] = u->owner;
		HnswPageGetMeta(metapage)->allocations++;
		u->owner = HNSW_INVALID_ID;
		u->xid = HnswReservingXid();
	}
	VxPageWriteFinish(&w);	/* releases both buffers */
	return off;
}

/*
 * W1 for new space: the record goes at the stream end (or the next page
 * start, I2); pages first, then the meta page's stream end, so that a
 * crash never leaves the stream ending beyond the relation.  metabuf is
 * locked exclusively and released with the last record.
 */
static uint64
GrowStream(Relation index, const HnswShape *shape, Buffer metabuf, bool element, int nlevels)
{
	HnswMetaPage meta = HnswPageGetMeta(BufferGetPage(metabuf));
	Size		size = element ? shape->element_size : HnswUpperSize(shape->m, nlevels);
	Size		head = element ? shape->head_size : size;
	uint64		off;
	uint64		end;
	VxPageWrite w;
	Page		metapage;

	off = HnswPlaceRecord(meta->stream_end, head);
	end = off + size;
	if (end > HNSW_MAX_STREAM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("HNSW index \"%s\" is full", RelationGetRelationName(index)),
				 errdetail("An HNSW index holds at most %llu GB of elements.",
						   (unsigned long long) (HNSW_MAX_STREAM >> 30)),
				 errhint("Use an ivfpq index for data of this size.")));

	/*
	 * Pages first (they are harmless past the stream end).  Those that
	 * already exist past the stream's last page are left over from a crash
	 * (ReinitIndexPage) and initialised before they are written to: an
	 * all-zero page taken for ours made GenericXLogFinish run past the
	 * buffer (its free space computed from pd_upper 0), a server crash.
	 */
	{
		BlockNumber nblocks = RelationGetNumberOfBlocks(index);
		BlockNumber used = meta->stream_end > 0 ? HnswOffsetBlock(meta->stream_end - 1) : HNSW_META_BLKNO;
		BlockNumber last = HnswOffsetBlock(end - 1);

		for (BlockNumber b = used + 1; b <= last && b < nblocks; b++)
			ReinitIndexPage(index, b);
		for (BlockNumber b = nblocks; b <= last; b++)
			ExtendIndex(index, b);
	}

	VxPageWriteBegin(&w, index);
	metapage = VxPageWriteAdd(&w, metabuf, false);
	if (off != meta->stream_end && HNSW_DATA_SIZE - HnswOffsetInPage(meta->stream_end) >= sizeof(HnswPadData))
	{
		/* a PAD record fills the rest of the page (I2) */
		uint64		padoff = meta->stream_end;
		Buffer		buf = ReadBuffer(index, HnswOffsetBlock(padoff));
		Page		page;
		HnswPadData *pad;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		HnswCheckPage(index, buf);
		page = VxPageWriteAdd(&w, buf, false);
		pad = (HnswPadData *) (HnswPageData(page) + HnswOffsetInPage(padoff));
		pad->kind = HNSW_KIND_PAD;
		pad->unused = 0;
		pad->bytes = HNSW_DATA_SIZE - HnswOffsetInPage(padoff);
		CoverBytes(page, HNSW_DATA_SIZE);
	}
	{
		/*
		 * The record's head, marked reserved, in the same WAL record: a
		 * crash before the insert finishes leaves a record of known size
		 * that walkers can step over (I2).
		 */
		Buffer		buf = ReadBuffer(index, HnswOffsetBlock(off));
		Page		page;
		char	   *rec;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		HnswCheckPage(index, buf);
		page = VxPageWriteAdd(&w, buf, false);
		rec = HnswPageData(page) + HnswOffsetInPage(off);
		memset(rec, 0, head);
		if (element)
		{
			HnswElement e = (HnswElement) rec;

			e->kind = HNSW_KIND_ELEMENT;
			e->flags = HNSW_RESERVED;
			e->upper = HnswReservingXid();
			for (int i = 0; i < 2 * shape->m; i++)
				e->neighbors[i] = HNSW_INVALID_ID;
		}
		else
		{
			HnswUpper u = (HnswUpper) rec;

			u->kind = HNSW_KIND_UPPER;
			u->nlevels = nlevels;
			u->owner = HNSW_INVALID_ID;
			u->xid = HnswReservingXid();
			for (int i = 0; i < shape->m * nlevels; i++)
				u->neighbors[i] = HNSW_INVALID_ID;
		}
		CoverBytes(page, HnswOffsetInPage(off) + head);
	}
	HnswPageGetMeta(metapage)->stream_end = end;
	HnswPageGetMeta(metapage)->allocations++;
	VxPageWriteFinish(&w);
	return off;
}

/*
 * Reserve space for an ELEMENT record (element = true) or an UPPER record
 * of nlevels levels, and return its stream offset (W1).  A free record of
 * the same kind and size is reused when there is one (*reused = true; it is
 * marked RESERVED in the same WAL record that unlinks it); otherwise the
 * stream grows.  The meta page stays locked exclusively throughout (L1).
 */
uint64
HnswAllocateRecord(Relation index, const HnswShape *shape, bool element, int nlevels,
				   bool *reused)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_META_BLKNO);
	HnswMetaPage meta;
	uint32		freehead;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	HnswCheckMeta(index, metabuf);
	meta = HnswPageGetMeta(BufferGetPage(metabuf));
	freehead = element ? meta->free_elements : meta->free_upper[nlevels];
	*reused = freehead != HNSW_INVALID_ID;
	if (*reused)
		return PopFreeRecord(index, shape, metabuf, freehead, element, nlevels);
	return GrowStream(index, shape, metabuf, element, nlevels);
}

/*
 * Write len bytes of one record at stream offset off (W2).  The pages after
 * the first are written first, in block order, a few per WAL record; the
 * first page, with the record's head, is written last, so the record is
 * published (its kind becomes visible) only once all of it is in place.
 * head_len bytes at the start must lie on the first page.
 */
void
HnswWriteRecordBytes(Relation index, uint64 off, const char *data, Size len, Size head_len)
{
	uint32		first_in_page = HnswOffsetInPage(off);
	Size		first_len = Min(len, HNSW_DATA_SIZE - first_in_page);
	uint64		pos = off + first_len;
	const char *src = data + first_len;
	Size		left = len - first_len;
	VxPageWrite w;

	Assert(head_len <= first_len);
	while (left > 0)
	{
		VxPageWriteBegin(&w, index);
		while (left > 0 && w.nbuffers < MAX_GENERIC_XLOG_PAGES)
		{
			Buffer		buf = ReadBuffer(index, HnswOffsetBlock(pos));
			Page		page;
			Size		n = Min(left, HNSW_DATA_SIZE);

			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			HnswCheckPage(index, buf);
			page = VxPageWriteAdd(&w, buf, false);
			memcpy(HnswPageData(page), src, n);
			CoverBytes(page, n);
			pos += n;
			src += n;
			left -= n;
		}
		VxPageWriteFinish(&w);
	}

	/* the head last: this publishes the record */
	{
		Buffer		buf = ReadBuffer(index, HnswOffsetBlock(off));
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		HnswCheckPage(index, buf);
		VxPageWriteBegin(&w, index);
		page = VxPageWriteAdd(&w, buf, false);
		memcpy(HnswPageData(page) + first_in_page, data, first_len);
		CoverBytes(page, first_in_page + first_len);
		VxPageWriteFinish(&w);
	}
}

/*
 * The xid a record allocated now carries until it is published (W2): the
 * current (sub)transaction's, so that an insert whose subtransaction
 * rolled back leaves records VACUUM may reclaim at once.  Inserts always
 * run with an xid (the heap tuple's).
 */
TransactionId
HnswReservingXid(void)
{
	TransactionId xid = GetCurrentTransactionIdIfAny();

	return TransactionIdIsValid(xid) ? xid : GetTopTransactionIdIfAny();
}

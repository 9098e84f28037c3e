/*-------------------------------------------------------------------------
 *
 * hnswstream.c
 *	  The one walk over the element stream (hnsw.h, STORAGE; invariant I2):
 *	  a cursor that visits every record from offset 0 to a given end, page
 *	  by page, in stream order.  A record's head never crosses a page, so
 *	  each head is seen exactly once, on the page that holds it.
 *
 * The cursor walks either the index's pages through the buffer manager
 * (one page pinned and locked at a time, in the caller's lock mode, with
 * vacuum_delay_point() between pages: VACUUM's passes walk the whole index
 * and must honour cancels and the cost delay; elsewhere it only checks for
 * interrupts) or the build's arena, which is laid out as the same stream.
 *
 *	HnswStreamCursor c;
 *	HnswStreamBegin(&c, index, shape, end, strategy, BUFFER_LOCK_SHARE);
 *	while (HnswStreamNext(&c))
 *		... c.rec, c.pos ...
 *	HnswStreamEnd(&c);
 *
 * A caller that changes pages walks them explicitly (HnswStreamNextPage,
 * then HnswStreamNextRecord until it returns false) and may take the
 * current page over (HnswStreamTakePage) to register it for WAL.
 *
 * Callers: vacuum's passes (hnswvacuum.c), the reconnect pass's walk of
 * live elements (hnswreconnect.c, over pages; hnswbuild.c, over the
 * arena), vectorx_hnsw_check and vectorx_hnsw_elements (hnswcheck.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/vacuum.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "hnsw.h"

/*
 * The size of the record at a stream position whose page offset is
 * inpage, or 0 when no valid record can start there (I2; the cursor turns
 * 0 into ERRCODE_INDEX_CORRUPTED).
 */
Size
HnswRecordSize(const HnswShape *shape, const char *rec, uint32 inpage)
{
	switch (rec[0])
	{
		case HNSW_KIND_ELEMENT:
			{
				const HnswElementData *e = (const HnswElementData *) rec;

				if (inpage + shape->head_size > HNSW_DATA_SIZE ||
					e->level > HNSW_MAX_LEVEL || e->ntids > HNSW_HEAPTIDS)
					return 0;
				return shape->element_size;
			}
		case HNSW_KIND_UPPER:
			{
				int			nlevels = ((const HnswUpperData *) rec)->nlevels;

				if (nlevels < 1 || nlevels > HNSW_MAX_LEVEL ||
					inpage + HnswUpperSize(shape->m, nlevels) > HNSW_DATA_SIZE)
					return 0;
				return HnswUpperSize(shape->m, nlevels);
			}
		case HNSW_KIND_PAD:
			{
				Size		bytes = ((const HnswPadData *) rec)->bytes;

				return bytes == HNSW_DATA_SIZE - inpage ? bytes : 0;
			}
	}
	return 0;
}

static void
Init(HnswStreamCursor *c, Relation index, const HnswShape *shape, uint64 end)
{
	memset(c, 0, sizeof(HnswStreamCursor));
	c->index = index;
	c->shape = shape;
	c->end = end;
	c->buf = InvalidBuffer;
	c->blkno = InvalidBlockNumber;
	c->lockmode = BUFFER_LOCK_SHARE;
}

/* walk the index's pages up to stream offset end, locking each in lockmode */
void
HnswStreamBegin(HnswStreamCursor *c, Relation index, const HnswShape *shape, uint64 end,
				BufferAccessStrategy strategy, int lockmode)
{
	Init(c, index, shape, end);
	c->strategy = strategy;
	c->lockmode = lockmode;
}

/* walk the build's arena (index names the index in errors) */
void
HnswStreamBeginArena(HnswStreamCursor *c, Relation index, const HnswShape *shape,
					 const char *arena, uint64 end)
{
	Init(c, index, shape, end);
	c->arena = arena;
}

static void
ReleasePage(HnswStreamCursor *c)
{
	if (BufferIsValid(c->buf))
		UnlockReleaseBuffer(c->buf);
	c->buf = InvalidBuffer;
	c->blkno = InvalidBlockNumber;
	c->data = NULL;
}

/*
 * Move to the next page that holds a record: release the current one (if
 * the caller did not take it), then read and lock the next.  False at the
 * end of the walk.
 */
bool
HnswStreamNextPage(HnswStreamCursor *c)
{
	ReleasePage(c);
	if (c->broken)
		return false;
	while (c->next < c->end)
	{
		uint32		inpage = HnswOffsetInPage(c->next);

		/* no lock held here: interrupts, and VACUUM's cost delay (else a no-op) */
		if (c->arena == NULL)
			vacuum_delay_point();
		if (HNSW_DATA_SIZE - inpage < HNSW_UNIT)
		{
			c->next += HNSW_DATA_SIZE - inpage;
			continue;
		}
		c->blkno = HnswOffsetBlock(c->next);
		if (c->arena != NULL)
			c->data = (char *) c->arena + (c->next - inpage);
		else
		{
			c->buf = ReadBufferExtended(c->index, MAIN_FORKNUM, c->blkno, RBM_NORMAL, c->strategy);
			LockBuffer(c->buf, c->lockmode);
			HnswCheckPage(c->index, c->buf);
			c->data = HnswPageData(BufferGetPage(c->buf));
		}
		return true;
	}
	return false;
}

/*
 * The next record on the current page: c->rec, at stream offset c->pos,
 * c->size bytes.  False once the page (or the walk) has no more.  A
 * position with no valid record (C4) raises ERRCODE_INDEX_CORRUPTED, or,
 * in a tolerant walk, ends it with broken set (c->pos and c->rec then name
 * the position, and the page stays locked until HnswStreamEnd).
 */
bool
HnswStreamNextRecord(HnswStreamCursor *c)
{
	uint32		inpage;
	char	   *rec;
	Size		size;

	if (c->data == NULL || c->broken || c->next >= c->end || HnswOffsetBlock(c->next) != c->blkno)
		return false;
	inpage = HnswOffsetInPage(c->next);
	if (HNSW_DATA_SIZE - inpage < HNSW_UNIT)
	{
		c->next += HNSW_DATA_SIZE - inpage;
		return false;
	}
	rec = c->data + inpage;
	size = HnswRecordSize(c->shape, rec, inpage);
	c->pos = c->next;
	c->rec = rec;
	if (size == 0)
	{
		if (!c->tolerant)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" has no valid record at stream offset %llu",
							RelationGetRelationName(c->index), (unsigned long long) c->pos),
					 errhint("REINDEX the index.")));
		c->broken = true;
		return false;
	}
	c->size = size;
	c->next += size;
	return true;
}

/* the next record of the walk, page after page; false at its end */
bool
HnswStreamNext(HnswStreamCursor *c)
{
	while (!HnswStreamNextRecord(c))
	{
		if (c->broken || !HnswStreamNextPage(c))
			return false;
	}
	return true;
}

/*
 * Hand the current page's pin and lock to the caller (to register it for
 * WAL, whose finish releases it).  Its records can still be read through
 * the cursor; the caller must release it before the next
 * HnswStreamNextPage.
 */
Buffer
HnswStreamTakePage(HnswStreamCursor *c)
{
	Buffer		buf = c->buf;

	Assert(BufferIsValid(buf));
	c->buf = InvalidBuffer;
	return buf;
}

/* release what the cursor holds; c->next tells where the walk ended */
void
HnswStreamEnd(HnswStreamCursor *c)
{
	ReleasePage(c);
}

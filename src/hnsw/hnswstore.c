/*-------------------------------------------------------------------------
 *
 * hnswstore.c
 *	  Walking the HNSW element stream: the size of the record at a stream
 *	  position (HnswRecordSize) and the walk over every record in order
 *	  (HnswWalkStream), used by vacuum's passes and the check (hnsw.h, I2).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/vacuum.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "hnsw.h"

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

/*
 * Call fn for every record of the stream up to end, in order, with its
 * page share-locked (I2's walk: a head never crosses a page, so each is
 * seen once).  fn must be quick and must not take other page locks.
 * Between pages, with no lock held, it runs vacuum_delay_point(): VACUUM's
 * passes walk the whole index, and must honour cancels and the cost delay.
 * Raises ERRCODE_INDEX_CORRUPTED on a position with no valid record.
 */
void
HnswWalkStream(Relation index, const HnswShape *shape, uint64 end,
			   BufferAccessStrategy strategy, HnswRecordFn fn, void *arg)
{
	uint64		pos = 0;

	while (pos < end)
	{
		BlockNumber blkno;
		Buffer		buf;
		Page		page;

		/* no lock held here: interrupts, and VACUUM's cost delay (else a no-op) */
		vacuum_delay_point();
		if (HNSW_DATA_SIZE - HnswOffsetInPage(pos) < HNSW_UNIT)
		{
			pos += HNSW_DATA_SIZE - HnswOffsetInPage(pos);
			continue;
		}
		blkno = HnswOffsetBlock(pos);
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		HnswCheckPage(index, buf);
		page = BufferGetPage(buf);
		while (pos < end && HnswOffsetBlock(pos) == blkno)
		{
			uint32		inpage = HnswOffsetInPage(pos);
			char	   *rec;
			Size		size;

			if (HNSW_DATA_SIZE - inpage < HNSW_UNIT)
			{
				pos += HNSW_DATA_SIZE - inpage;
				break;
			}
			rec = HnswPageData(page) + inpage;
			size = HnswRecordSize(shape, rec, inpage);
			if (size == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("index \"%s\" has no valid record at stream offset %llu",
								RelationGetRelationName(index), (unsigned long long) pos),
						 errhint("REINDEX the index.")));
			fn(arg, pos, rec);
			pos += size;
		}
		UnlockReleaseBuffer(buf);
	}
}

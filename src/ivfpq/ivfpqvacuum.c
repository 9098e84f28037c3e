/*-------------------------------------------------------------------------
 *
 * ivfpqvacuum.c
 *	  VACUUM for IVF-PQ (ivfpq.h, LOCKING): each list page in turn loses
 *	  its dead TIDs and stays dense (the last entry fills each hole), and
 *	  each list's insert page moves back to its first page with room, so
 *	  the space is reused before the list grows.  Entries never change
 *	  pages, so concurrent scans see every live entry once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "ivfpq.h"

/*
 * Walk every list; with a callback, delete the TIDs it reports dead.
 * Counts the remaining entries and list pages into stats.
 */
static void
WalkLists(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
		  IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	IvfpqMetaPageData meta;
	int			code_bytes;
	int			capacity;
	BlockNumber nblocks = 0;

	IvfpqReadMeta(index, &meta);
	code_bytes = IvfpqCodeBytes(meta.m, meta.nbits, IvfpqFlatBytes(meta.dims, meta.metric));
	capacity = IvfpqPageCapacity(&meta);
	for (uint32 l = 0; l < meta.lists; l++)
	{
		int			slot;
		BlockNumber dirblk = IvfpqDirectoryBlock(&meta, l, &slot);
		Buffer		buf;
		BlockNumber blkno = IvfpqReadDirectory(index, &meta, l, info->strategy, &nblocks).head;
		BlockNumber first_room = InvalidBlockNumber;
		uint32		steps = 0;

		VX_WAIT_POINT("ivfpq_vacuum_list");
		while (BlockNumberIsValid(blkno))
		{
			Page		page;
			IvfpqPageOpaque op;
			int			count;
			BlockNumber next;

			vacuum_delay_point();
			buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
			LockBuffer(buf, callback ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE);
			IvfpqCheckListPage(index, &meta, buf, &nblocks, ++steps);
			page = BufferGetPage(buf);
			op = IvfpqPageGetOpaque(page);
			count = op->count;
			next = op->next;
			if (callback)
			{
				int			dead = 0;

				for (int i = op->count - 1; i >= 0; i--)
					if (callback(IvfpqEntryTid(IvfpqPageData(page), &meta, code_bytes, i), callback_state))
						dead++;
				if (dead > 0)
				{
					VxPageWrite w;
					Page		wpage;
					IvfpqPageOpaque wop;
					char	   *data;

					VxPageWriteBegin(&w, index);
					wpage = VxPageWriteAdd(&w, buf, false);
					wop = IvfpqPageGetOpaque(wpage);
					data = IvfpqPageData(wpage);
					/* downwards: the last entry, already checked, fills each hole */
					for (int i = wop->count - 1; i >= 0; i--)
					{
						if (!callback(IvfpqEntryTid(data, &meta, code_bytes, i), callback_state))
							continue;
						if (i != wop->count - 1)
							IvfpqMoveEntry(data, &meta, code_bytes, wop->count - 1, i);
						wop->count--;
					}
					count = wop->count;
					VxPageWriteFinish(&w);	/* releases buf */
					buf = InvalidBuffer;
					stats->tuples_removed += dead;
				}
			}
			if (BufferIsValid(buf))
				UnlockReleaseBuffer(buf);
			stats->num_index_tuples += count;
			stats->num_pages++;
			if (!BlockNumberIsValid(first_room) && count < capacity)
				first_room = blkno;
			blkno = next;
		}
		if (callback && BlockNumberIsValid(first_room))
		{
			IvfpqListData *entry;

			buf = ReadBufferExtended(index, MAIN_FORKNUM, dirblk, RBM_NORMAL, info->strategy);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			IvfpqCheckPage(index, buf, IVFPQ_DIRECTORY);
			entry = &((IvfpqListData *) IvfpqPageData(BufferGetPage(buf)))[slot];
			if (entry->insert != first_room)
			{
				VxPageWrite w;

				VxPageWriteBegin(&w, index);
				entry = &((IvfpqListData *) IvfpqPageData(VxPageWriteAdd(&w, buf, false)))[slot];
				entry->insert = first_room;
				VxPageWriteFinish(&w);	/* releases buf */
			}
			else
				UnlockReleaseBuffer(buf);
		}
	}
}

IndexBulkDeleteResult *
ivfpqbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				IndexBulkDeleteCallback callback, void *callback_state)
{
	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	stats->num_index_tuples = 0;
	stats->num_pages = 0;
	WalkLists(info, stats, callback, callback_state);
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}

IndexBulkDeleteResult *
ivfpqvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		/* no bulkdelete this time: count */
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		WalkLists(info, stats, NULL, NULL);
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}

/*-------------------------------------------------------------------------
 *
 * sample.c
 *	  VxSampleRows: up to `target` live rows whose column `attno` is not
 *	  NULL, from random blocks chosen by a seeded BlockSampler as ANALYZE
 *	  chooses them (so a repeated call on unchanged data returns the same
 *	  rows), with up to ceil(target / blocks) rows per block, each block's
 *	  picks made by reservoir sampling.  Reads at most `target` blocks
 *	  through the table AM's analyze interface, so it works for any table
 *	  access method.  Also estimates the table's live rows from the blocks
 *	  read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "common/pg_prng.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/procarray.h"
#include "utils/datum.h"
#include "utils/sampling.h"

#include "sample.h"

int
VxSampleRows(Relation heap, AttrNumber attno, int target, uint32 seed,
			 VxSampleFn fn, void *arg, double *totalrows)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(heap);
	BlockNumber nsample = Min(nblocks, (BlockNumber) Max(target, 1));
	BlockSamplerData bs;
	pg_prng_state prng;
	TableScanDesc scan;
	TupleTableSlot *slot;
	TransactionId oldest;
	BufferAccessStrategy strategy;
	int			per_block;
	int			done = 0;
	BlockNumber blocks_read = 0;
	double		live = 0,
				dead = 0;
	Datum	   *pick_val;
	ItemPointerData *pick_tid;

	if (totalrows)
		*totalrows = 0;
	if (nblocks == 0 || target <= 0)
		return 0;
	per_block = (target + nsample - 1) / nsample;
	pick_val = palloc(sizeof(Datum) * per_block);
	pick_tid = palloc(sizeof(ItemPointerData) * per_block);
	oldest = GetOldestNonRemovableTransactionId(heap);
	strategy = GetAccessStrategy(BAS_BULKREAD);
	BlockSampler_Init(&bs, nblocks, nsample, seed);
	pg_prng_seed(&prng, seed);
	scan = table_beginscan_analyze(heap);
	slot = table_slot_create(heap, NULL);
	while (BlockSampler_HasMore(&bs) && done < target)
	{
		BlockNumber blkno = BlockSampler_Next(&bs);
		int			seen = 0,
					npick = 0,
					want = Min(per_block, target - done);

		CHECK_FOR_INTERRUPTS();
		if (!table_scan_analyze_next_block(scan, blkno, strategy))
			continue;
		blocks_read++;
		/* the AM may hold the block until next_tuple returns false: read to the end */
		while (table_scan_analyze_next_tuple(scan, oldest, &live, &dead, slot))
		{
			bool		isnull;
			Datum		v = slot_getattr(slot, attno, &isnull);
			bool		replace = npick >= want;
			int			at;

			if (isnull)
				continue;
			seen++;
			at = replace ? (int) pg_prng_uint64_range(&prng, 0, seen - 1) : npick++;
			if (at < want)
			{
				if (replace)
					pfree(DatumGetPointer(pick_val[at]));
				pick_val[at] = datumCopy(v, false, -1);
				pick_tid[at] = slot->tts_tid;
			}
		}
		/* detoasting (in fn) may read other relations: only with no block held */
		for (int i = 0; i < npick; i++)
		{
			fn(arg, pick_val[i], &pick_tid[i]);
			pfree(DatumGetPointer(pick_val[i]));
		}
		done += npick;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	FreeAccessStrategy(strategy);
	pfree(pick_val);
	pfree(pick_tid);
	if (totalrows && blocks_read > 0)
		*totalrows = live / blocks_read * nblocks;
	return done;
}

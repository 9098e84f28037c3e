/*-------------------------------------------------------------------------
 *
 * ivfpqutil.c
 *	  The statistics of an IVF-PQ index for vectorx_index_stats: list
 *	  balance, fill, and the drift check.  Called by monitor.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "ivfpq.h"

static int
CompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * vectorx_index_stats for an ivfpq index: list balance, fill, and the
 * drift check (mean squared quantization error of rows inserted since the
 * build against the training sample's).
 */
void
IvfpqIndexStats(Relation index, VxStatsSink *sink)
{
	const IvfpqShape *shape = IvfpqGetShape(index);
	IvfpqMetaPageData meta = shape->meta;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	int64	   *lengths = palloc0(sizeof(int64) * meta.lists);
	int64		entries = 0,
				list_pages = 0,
				inserted = 0;
	double		inserted_error = 0,
				mean,
				var = 0;
	int			capacity = IvfpqPageCapacity(&meta);
	bool		drifted,
				unbalanced;

	for (uint32 l = 0; l < meta.lists; l++)
	{
		BlockNumber blkno = IvfpqReadDirectory(index, &meta, l, NULL, &nblocks).head;
		uint32		steps = 0;

		while (BlockNumberIsValid(blkno))
		{
			IvfpqPageOpaque op;
			Buffer		buf;

			CHECK_FOR_INTERRUPTS();
			buf = ReadBuffer(index, blkno);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			IvfpqCheckListPage(index, &meta, buf, &nblocks, ++steps);
			op = IvfpqPageGetOpaque(BufferGetPage(buf));
			lengths[l] += op->count;
			inserted += op->inserted;
			inserted_error += op->inserted_error;
			list_pages++;
			blkno = op->next;
			UnlockReleaseBuffer(buf);
		}
		entries += lengths[l];
	}
	mean = meta.lists > 0 ? (double) entries / meta.lists : 0;
	for (uint32 l = 0; l < meta.lists; l++)
		var += (lengths[l] - mean) * (lengths[l] - mean);
	qsort(lengths, meta.lists, sizeof(int64), CompareInt64);

	VxStat(sink, "dimensions", meta.dims, "vector dimensions");
	VxStat(sink, "lists", meta.lists, "coarse centroids (inverted lists)");
	if (meta.nbits == IVFPQ_NBITS_FLAT)
		VxStat(sink, "code_bytes", IvfpqCodeBytes(0, IVFPQ_NBITS_FLAT, IvfpqFlatBytes(meta.dims, meta.metric)),
			   "IVFFlat: bytes of an entry's code, its 8-bit codes and their scale");
	else
	{
		VxStat(sink, "m", meta.m, "PQ sub-quantizers (code bytes per vector at nbits = 8)");
		VxStat(sink, "nbits", meta.nbits, "bits per sub-code");
	}
	VxStat(sink, "trained", meta.trained, "0: built on an empty table, searches exactly; REINDEX after loading");
	VxStat(sink, "pages", nblocks, "index pages, meta page included");
	VxStat(sink, "bytes", (double) nblocks * BLCKSZ, "index size");
	VxStat(sink, "list_pages", list_pages, "pages holding codes and TIDs");
	VxStat(sink, "entries", entries, "codes stored (live and not yet vacuumed)");
	VxStat(sink, "bytes_per_vector", entries > 0 ? (double) nblocks * BLCKSZ / entries : 0,
		   "index bytes per entry, centroids and codebooks included");
	VxStat(sink, "codes_per_page", capacity, "entries a list page holds");
	VxStat(sink, "fill", list_pages > 0 ? (double) entries / ((double) list_pages * capacity) : 0,
		   "used share of the list pages' slots");
	VxStat(sink, "list_length_min", meta.lists > 0 ? lengths[0] : 0, "entries in the shortest list");
	VxStat(sink, "list_length_median", meta.lists > 0 ? lengths[meta.lists / 2] : 0, "median list length");
	VxStat(sink, "list_length_max", meta.lists > 0 ? lengths[meta.lists - 1] : 0, "entries in the longest list");
	VxStat(sink, "list_length_cv", mean > 0 ? sqrt(var / meta.lists) / mean : 0,
		   "coefficient of variation of list lengths (0: perfectly balanced)");
	VxStat(sink, "training_rows", meta.train_rows, "rows in the training sample");
	VxStat(sink, "build_rows", meta.build_rows, "rows indexed by the build");
	VxStat(sink, "quantization_error", meta.train_error,
		   meta.nbits == IVFPQ_NBITS_FLAT ? "mean squared error of the training sample's 8-bit codes" :
		   "mean squared error of the training sample's PQ reconstruction");
	VxStat(sink, "inserted_rows", inserted, "rows inserted since the build");
	VxStat(sink, "inserted_quantization_error", inserted > 0 ? inserted_error / inserted : 0,
		   "the same error for rows inserted since the build");
	/* IVFFlat's codes do not depend on the training: nothing to drift */
	drifted = meta.trained && meta.nbits != IVFPQ_NBITS_FLAT &&
		inserted >= Max(1000, (int64) (0.05 * meta.build_rows)) &&
		inserted_error / inserted > 1.5 * meta.train_error;
	unbalanced = meta.trained && meta.lists > 1 && entries >= 10 * (int64) meta.lists &&
		lengths[meta.lists - 1] > 10 * mean;
	VxStat(sink, "rebuild_suggested",
		   (!meta.trained && entries >= 1000) || drifted || unbalanced,
		   "1 when REINDEX would help: built untrained and now holding data, rows inserted since the "
		   "build quantizing 1.5x worse than the training sample, or a list 10x the mean length");
	pfree(lengths);
}

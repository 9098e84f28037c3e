/*-------------------------------------------------------------------------
 *
 * ivfpqutil.c
 *	  IVF-PQ plumbing shared by build, insert, scan and vacuum: the
 *	  sub-vector split, the block layout of list pages (where entry i's
 *	  codes and TID live), the meta page, the per-backend cache of the
 *	  read-only parts (IvfpqGetShape), and the index's statistics for
 *	  vectorx_index_stats.  ivfpq.h documents the format.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "distance.h"
#include "ivfpq.h"
#include "vxindex.h"
#include "vxcache.h"

void
IvfpqSubspaces(int dims, int m, int *dsub, int *doff)
{
	int			off = 0;

	for (int j = 0; j < m; j++)
	{
		dsub[j] = dims / m + (j < dims % m ? 1 : 0);
		doff[j] = off;
		off += dsub[j];
	}
}

int
IvfpqBlockSize(int nbits)
{
	return nbits == 4 ? VX_PQ4_BLOCK : VX_PQ8_BLOCK;
}

/* code bytes of one block in the fast-scan layout of distance.h */
int
IvfpqCodeBytes(int m, int nbits)
{
	return nbits == 4 ? m * 16 : m * VX_PQ8_BLOCK;
}

int
IvfpqPageCapacity(const IvfpqMetaPageData *meta)
{
	return meta->blocks_per_page * meta->block;
}

/* ---------------------------------------------------------------- entries */

static inline char *
BlockOf(char *data, const IvfpqMetaPageData *meta, int entry)
{
	return data + (Size) (entry / meta->block) * meta->block_bytes;
}

void
IvfpqPutEntry(char *data, const IvfpqMetaPageData *meta, int code_bytes, int entry,
			  const uint8 *code, ItemPointer tid)
{
	char	   *blk = BlockOf(data, meta, entry);
	int			slot = entry % meta->block;

	if (meta->nbits == 8)
	{
		for (int j = 0; j < meta->m; j++)
			((uint8 *) blk)[j * VX_PQ8_BLOCK + slot] = code[j];
	}
	else
	{
		for (int j = 0; j < meta->m; j++)
		{
			uint8	   *b = (uint8 *) blk + j * 16 + (slot & 15);

			if (slot < 16)
				*b = (*b & 0xF0) | (code[j] & 0x0F);
			else
				*b = (*b & 0x0F) | (uint8) (code[j] << 4);
		}
	}
	memcpy(blk + code_bytes + slot * sizeof(ItemPointerData), tid, sizeof(ItemPointerData));
}

ItemPointer
IvfpqEntryTid(char *data, const IvfpqMetaPageData *meta, int code_bytes, int entry)
{
	return (ItemPointer) (BlockOf(data, meta, entry) + code_bytes +
						  (entry % meta->block) * sizeof(ItemPointerData));
}

static void
GetCode(char *data, const IvfpqMetaPageData *meta, int entry, uint8 *code)
{
	char	   *blk = BlockOf(data, meta, entry);
	int			slot = entry % meta->block;

	for (int j = 0; j < meta->m; j++)
	{
		if (meta->nbits == 8)
			code[j] = ((uint8 *) blk)[j * VX_PQ8_BLOCK + slot];
		else
		{
			uint8		b = ((uint8 *) blk)[j * 16 + (slot & 15)];

			code[j] = slot < 16 ? (b & 0x0F) : (b >> 4);
		}
	}
}

void
IvfpqMoveEntry(char *data, const IvfpqMetaPageData *meta, int code_bytes, int from, int to)
{
	uint8		code[IVFPQ_MAX_M];
	ItemPointerData tid = *IvfpqEntryTid(data, meta, code_bytes, from);

	GetCode(data, meta, from, code);
	IvfpqPutEntry(data, meta, code_bytes, to, code, &tid);
}

/* ---------------------------------------------------------------- pages */

void
IvfpqInitPage(Page page, uint8 kind)
{
	IvfpqPageOpaque opaque;

	VxInitPage(page, &IvfpqPageFormat);
	opaque = IvfpqPageGetOpaque(page);
	opaque->next = InvalidBlockNumber;
	opaque->kind = kind;
	/* generic WAL keeps only what lies below pd_lower or above pd_upper */
	((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + IVFPQ_DATA_SIZE;
}

BlockNumber
IvfpqDirectoryBlock(const IvfpqMetaPageData *meta, int list, int *slot)
{
	*slot = list % IVFPQ_LISTS_PER_PAGE;
	return meta->directory_start + list / IVFPQ_LISTS_PER_PAGE;
}

/* ---------------------------------------------------------------- guards */

/* a page of this index, of the kind the caller expects */
void
IvfpqCheckPage(Relation index, Buffer buf, uint8 kind)
{
	VxCheckPage(index, buf, &IvfpqPageFormat);
	if (IvfpqPageGetOpaque(BufferGetPage(buf))->kind != kind)
		IvfpqCorrupt(index, BufferGetBlockNumber(buf), "a page of the wrong kind");
}

/*
 * A list page's link (or a directory entry) must be invalid or a block at
 * or past data_start within the index; *nblocks is refreshed before
 * failing, since inserts extend the index concurrently.
 */
void
IvfpqCheckListBlock(Relation index, const IvfpqMetaPageData *meta, BlockNumber from,
					BlockNumber blkno, BlockNumber *nblocks)
{
	if (!BlockNumberIsValid(blkno))
		return;
	if (blkno >= meta->data_start && blkno < *nblocks)
		return;
	*nblocks = RelationGetNumberOfBlocks(index);
	if (blkno < meta->data_start || blkno >= *nblocks)
		IvfpqCorrupt(index, from, "a list link points outside the list pages");
}

/*
 * A list page, share- or exclusive-locked: its kind, its entry count
 * within the page's capacity, its link; steps counts the pages walked
 * so far, and a chain longer than the index has pages must cycle.
 */
void
IvfpqCheckListPage(Relation index, const IvfpqMetaPageData *meta, Buffer buf,
				   BlockNumber *nblocks, uint32 steps)
{
	IvfpqPageOpaque op = IvfpqPageGetOpaque(BufferGetPage(buf));
	BlockNumber blkno = BufferGetBlockNumber(buf);

	IvfpqCheckPage(index, buf, IVFPQ_LIST);
	if (op->count > IvfpqPageCapacity(meta))
		IvfpqCorrupt(index, blkno, "a list page holds more entries than fit");
	IvfpqCheckListBlock(index, meta, blkno, op->next, nblocks);
	if (steps > *nblocks)
		IvfpqCorrupt(index, blkno, "a list's chain of pages cycles");
}

static Size
FlatPages(Size bytes)
{
	return (bytes + IVFPQ_DATA_SIZE - 1) / IVFPQ_DATA_SIZE;
}

/*
 * The meta page: page id, magic, version, then the shape within the
 * limits the build enforces, and the parts within the relation in their
 * order (centroids, codebooks, directory, list pages).
 */
static void
CheckMeta(Relation index, Buffer buf)
{
	Page		page = BufferGetPage(buf);
	IvfpqMetaPage meta = IvfpqPageGetMeta(page);
	BlockNumber nblocks;
	int			ksub;

	/* page id, magic, version, the struct below pd_lower (page.h) */
	VxCheckMetaPage(index, buf, &IvfpqPageFormat, sizeof(IvfpqMetaPageData));
	IvfpqCheckPage(index, buf, IVFPQ_META);
	if (meta->dims < 1 || meta->dims > VECTOR_MAX_DIM ||
		(meta->metric != VX_METRIC_L2 && meta->metric != VX_METRIC_IP &&
		 meta->metric != VX_METRIC_COSINE) ||
		meta->metric != (uint8) VxIndexMetric(index) ||
		(meta->nbits != 4 && meta->nbits != 8) ||
		meta->m < 1 || meta->m > IVFPQ_MAX_M || meta->m > meta->dims)
		IvfpqCorrupt(index, IVFPQ_META_BLKNO, "dimensions, metric, nbits or m out of range");
	if (meta->block != IvfpqBlockSize(meta->nbits) ||
		meta->block_bytes != IvfpqCodeBytes(meta->m, meta->nbits) + meta->block * sizeof(ItemPointerData) ||
		meta->blocks_per_page < 1 ||
		(Size) meta->blocks_per_page * meta->block_bytes > IVFPQ_DATA_SIZE)
		IvfpqCorrupt(index, IVFPQ_META_BLKNO, "invalid list page layout");
	if (meta->lists < 1 || meta->lists > IVFPQ_MAX_LISTS || meta->trained > 1 ||
		(!meta->trained && meta->lists != 1))
		IvfpqCorrupt(index, IVFPQ_META_BLKNO, "invalid list count");
	ksub = 1 << meta->nbits;
	nblocks = RelationGetNumberOfBlocks(index);
	if ((meta->trained &&
		 (meta->centroid_start < 1 ||
		  meta->centroid_start + FlatPages(sizeof(float) * (Size) meta->lists * meta->dims) >
		  meta->codebook_start ||
		  meta->codebook_start + FlatPages(sizeof(float) * (Size) ksub * meta->dims) >
		  meta->directory_start)) ||
		meta->directory_start < 1 ||
		(Size) meta->directory_start + (meta->lists + IVFPQ_LISTS_PER_PAGE - 1) / IVFPQ_LISTS_PER_PAGE >
		meta->data_start ||
		meta->data_start > nblocks)
		IvfpqCorrupt(index, IVFPQ_META_BLKNO, "the index's parts lie outside it");
}

void
IvfpqReadMeta(Relation index, IvfpqMetaPageData *meta)
{
	VxReadMetaPage(index, CheckMeta, meta, sizeof(IvfpqMetaPageData));
}

/* the directory entry of list (share-locks the directory page) */
IvfpqListData
IvfpqReadDirectory(Relation index, const IvfpqMetaPageData *meta, int list,
				   BufferAccessStrategy strategy, BlockNumber *nblocks)
{
	int			slot;
	BlockNumber dirblk = IvfpqDirectoryBlock(meta, list, &slot);
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, dirblk, RBM_NORMAL, strategy);
	IvfpqListData entry;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	IvfpqCheckPage(index, buf, IVFPQ_DIRECTORY);
	entry = ((IvfpqListData *) IvfpqPageData(BufferGetPage(buf)))[slot];
	UnlockReleaseBuffer(buf);
	IvfpqCheckListBlock(index, meta, dirblk, entry.head, nblocks);
	IvfpqCheckListBlock(index, meta, dirblk, entry.insert, nblocks);
	return entry;
}

/* copy n floats of a flat array that starts at the data area of blkno */
static void
ReadFlat(Relation index, BlockNumber blkno, float *out, Size n)
{
	Size		bytes = n * sizeof(float);
	Size		done = 0;

	while (done < bytes)
	{
		Buffer		buf = ReadBuffer(index, blkno++);
		Size		len = Min(bytes - done, IVFPQ_DATA_SIZE);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		IvfpqCheckPage(index, buf, IVFPQ_FLAT);
		memcpy((char *) out + done, IvfpqPageData(BufferGetPage(buf)), len);
		UnlockReleaseBuffer(buf);
		done += len;
	}
}

/*
 * The shape of an index with its centroids and codebooks (ivfpq.h,
 * IvfpqShape): read once per backend and build, then reused.  Costs one
 * meta-page read per call, to compare build ids.  The cache (vxcache.h)
 * frees an index's entry at the end of a transaction that invalidated it;
 * an entry is stored only once complete, so an error while reading the
 * parts leaves nothing behind.
 */
static VxNodeCache *shape_cache = NULL;

const IvfpqShape *
IvfpqGetShape(Relation index)
{
	IvfpqMetaPageData meta;
	IvfpqShape *shape;
	MemoryContext cxt;
	Size		size;
	char	   *p;
	int			m,
				ksub,
				dims;
	Size		ncent,
				ncb;

	IvfpqReadMeta(index, &meta);
	if (shape_cache == NULL)
		shape_cache = VxNodeCacheCreate("vectorx ivfpq shapes");
	shape = VxNodeCacheLookup(shape_cache, index);
	if (shape && shape->meta.build_id == meta.build_id)
		return shape;

	/* built in a context of its own, the cache's once complete */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vectorx ivfpq shape of one index",
								ALLOCSET_SMALL_SIZES);
	m = meta.m;
	ksub = 1 << meta.nbits;
	dims = meta.dims;
	ncent = meta.trained ? (Size) meta.lists * dims : 0;
	ncb = meta.trained ? (Size) ksub * dims : 0;
	size = MAXALIGN(sizeof(IvfpqShape)) + MAXALIGN(sizeof(int) * m) * 3 +
		MAXALIGN(sizeof(float) * ncent) + MAXALIGN(sizeof(float) * meta.lists) +
		MAXALIGN(sizeof(float) * ncb) * 2 + MAXALIGN(sizeof(float) * ksub * m);
	p = MemoryContextAllocExtended(cxt, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	shape = (IvfpqShape *) p;
	p += MAXALIGN(sizeof(IvfpqShape));
	shape->node = index->rd_node;
	shape->meta = meta;
	shape->ksub = ksub;
	shape->code_bytes = IvfpqCodeBytes(m, meta.nbits);
	shape->dsub = (int *) p;
	p += MAXALIGN(sizeof(int) * m);
	shape->doff = (int *) p;
	p += MAXALIGN(sizeof(int) * m);
	shape->cboff = (int *) p;
	p += MAXALIGN(sizeof(int) * m);
	shape->centroids = (float *) p;
	p += MAXALIGN(sizeof(float) * ncent);
	shape->centroid_norms = (float *) p;
	p += MAXALIGN(sizeof(float) * meta.lists);
	shape->codebooks = (float *) p;
	p += MAXALIGN(sizeof(float) * ncb);
	shape->codebooks_t = (float *) p;
	p += MAXALIGN(sizeof(float) * ncb);
	shape->codebook_norms = (float *) p;
	IvfpqSubspaces(dims, m, shape->dsub, shape->doff);
	for (int j = 0; j < m; j++)
		shape->cboff[j] = ksub * shape->doff[j];
	if (meta.trained)
	{
		ReadFlat(index, meta.centroid_start, shape->centroids, ncent);
		ReadFlat(index, meta.codebook_start, shape->codebooks, ncb);
		IvfpqShapeDerive(shape);
	}
	VxNodeCacheStore(shape_cache, index, shape, cxt);
	return shape;
}

/* centroid norms and the transposed codebooks, from centroids and codebooks */
void
IvfpqShapeDerive(IvfpqShape *shape)
{
	int			dims = shape->meta.dims;
	int			ksub = shape->ksub;

	for (uint32 l = 0; l < shape->meta.lists; l++)
		shape->centroid_norms[l] = vx_inner_product(shape->centroids + (Size) l * dims,
													shape->centroids + (Size) l * dims, dims);
	for (int j = 0; j < shape->meta.m; j++)
	{
		const float *cb = shape->codebooks + shape->cboff[j];
		float	   *cbt = shape->codebooks_t + shape->cboff[j];
		int			ds = shape->dsub[j];

		for (int k = 0; k < ksub; k++)
		{
			float		norm = 0;

			for (int t = 0; t < ds; t++)
			{
				cbt[t * ksub + k] = cb[k * ds + t];
				norm += cb[k * ds + t] * cb[k * ds + t];
			}
			shape->codebook_norms[j * ksub + k] = norm;
		}
	}
}

/* ---------------------------------------------------------------- statistics */

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
	VxStat(sink, "m", meta.m, "PQ sub-quantizers (code bytes per vector at nbits = 8)");
	VxStat(sink, "nbits", meta.nbits, "bits per sub-code");
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
		   "mean squared error of the training sample's PQ reconstruction");
	VxStat(sink, "inserted_rows", inserted, "rows inserted since the build");
	VxStat(sink, "inserted_quantization_error", inserted > 0 ? inserted_error / inserted : 0,
		   "the same error for rows inserted since the build");
	drifted = meta.trained && inserted >= Max(1000, (int64) (0.05 * meta.build_rows)) &&
		inserted_error / inserted > 1.5 * meta.train_error;
	unbalanced = meta.trained && meta.lists > 1 && entries >= 10 * (int64) meta.lists &&
		lengths[meta.lists - 1] > 10 * mean;
	VxStat(sink, "rebuild_suggested",
		   (!meta.trained && entries >= 1000) || drifted || unbalanced,
		   "1 when REINDEX would help: built untrained and now holding data, rows inserted since the "
		   "build quantizing 1.5x worse than the training sample, or a list 10x the mean length");
	pfree(lengths);
}

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

	PageInit(page, BLCKSZ, sizeof(IvfpqPageOpaqueData));
	opaque = IvfpqPageGetOpaque(page);
	opaque->next = InvalidBlockNumber;
	opaque->kind = kind;
	opaque->page_id = IVFPQ_PAGE_ID;
	/* generic WAL keeps only what lies below pd_lower or above pd_upper */
	((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + IVFPQ_DATA_SIZE;
}

BlockNumber
IvfpqDirectoryBlock(const IvfpqMetaPageData *meta, int list, int *slot)
{
	*slot = list % IVFPQ_LISTS_PER_PAGE;
	return meta->directory_start + list / IVFPQ_LISTS_PER_PAGE;
}

static void
CheckMeta(Relation index, Page page)
{
	IvfpqMetaPage meta = IvfpqPageGetMeta(page);

	if (IvfpqPageGetOpaque(page)->page_id != IVFPQ_PAGE_ID ||
		meta->magic != IVFPQ_MAGIC || meta->version != IVFPQ_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not an IVF-PQ index of this format",
						RelationGetRelationName(index)),
				 errdetail("Meta page has magic 0x%08X and version %u, expected 0x%08X and %d.",
						   meta->magic, meta->version, IVFPQ_MAGIC, IVFPQ_VERSION),
				 errhint("REINDEX the index.")));
}

void
IvfpqReadMeta(Relation index, IvfpqMetaPageData *meta)
{
	Buffer		buf = ReadBuffer(index, IVFPQ_META_BLKNO);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	CheckMeta(index, BufferGetPage(buf));
	*meta = *IvfpqPageGetMeta(BufferGetPage(buf));
	UnlockReleaseBuffer(buf);
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
		int			slot;
		Buffer		buf = ReadBuffer(index, IvfpqDirectoryBlock(&meta, l, &slot));
		BlockNumber blkno;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		blkno = ((IvfpqListData *) IvfpqPageData(BufferGetPage(buf)))[slot].head;
		UnlockReleaseBuffer(buf);
		while (BlockNumberIsValid(blkno))
		{
			IvfpqPageOpaque op;

			CHECK_FOR_INTERRUPTS();
			buf = ReadBuffer(index, blkno);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
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

/*-------------------------------------------------------------------------
 *
 * hnswmeta.c
 *	  The HNSW meta page and the index's shape: the meta-page check (C2),
 *	  reading and initialising it, the shape (options and metric) cached in
 *	  rd_amcache, and the meta-page changes of W4 (entry point) and of the
 *	  reconnect pass.  Called by every stage of src/hnsw; hnsw.h documents
 *	  the meta page's layout.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lock.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"
#include "sparsevec.h"
#include "vxindex.h"

void
HnswFillShape(HnswShape *shape, int dims, int m, int efc, VxMetric metric, VxElem elem, int nnz)
{
	VxCodecInit(&shape->codec, dims, metric, elem, nnz);
	shape->m = m;
	shape->ef_construction = efc;
	shape->head_size = HnswElementHeadSize(m);
	shape->element_size = HnswElementSize(m, shape->codec.code_bytes);
	shape->ml = 1.0 / log((double) m);
}

/* the most dimensions an index of the column type may have */
int
HnswMaxDims(VxElem elem)
{
	switch (elem)
	{
		case VX_ELEM_BIT:
			return HNSW_MAX_BITS;
		case VX_ELEM_SPARSE:
			return SPARSEVEC_MAX_DIM;
		default:
			return VECTOR_MAX_DIM;
	}
}

static bool
IdInStream(uint32 id, uint64 stream_end)
{
	return id == HNSW_INVALID_ID || HnswIdOffset(id) < stream_end;
}

/*
 * The meta page (I1): page id, magic, version, the frozen options within
 * their limits, the stream within the relation, and entry point and free
 * lists within the stream.
 */
void
HnswCheckMeta(Relation index, Buffer buf)
{
	Page		page = BufferGetPage(buf);
	HnswMetaPage meta = HnswPageGetMeta(page);
	BlockNumber nblocks;
	VxElem		elem = VxIndexElem(index);

	/* page id, magic, version, the struct below pd_lower (page.h) */
	VxCheckMetaPage(index, buf, &HnswPageFormat, sizeof(HnswMetaPageData));
	if (meta->dims < 1 || meta->dims > (uint32) HnswMaxDims(elem) ||
		meta->m < HNSW_MIN_M || meta->m > HNSW_MAX_M ||
		meta->ef_construction < HNSW_MIN_EF_CONSTRUCTION ||
		meta->ef_construction > HNSW_MAX_EF_CONSTRUCTION)
		HnswCorrupt(index, HNSW_META_BLKNO, "dimensions, m or ef_construction out of range");
	if (elem == VX_ELEM_SPARSE ? meta->nnz < 1 || meta->nnz > SPARSEVEC_MAX_NNZ : meta->nnz != 0)
		HnswCorrupt(index, HNSW_META_BLKNO, "nnz out of range");
	if (!VxIndexDimsMatch(index, meta->dims))
		HnswCorrupt(index, HNSW_META_BLKNO, "the dimensions are not the indexed column's");
	/* the metric must be the operator class's, which orders the scans */
	if (meta->metric != (uint8) VxIndexMetric(index))
		HnswCorrupt(index, HNSW_META_BLKNO, "the metric is not the operator class's");
	nblocks = RelationGetNumberOfBlocks(index);
	if (meta->stream_end > HNSW_MAX_STREAM ||
		(meta->stream_end > 0 && HnswOffsetBlock(meta->stream_end - 1) >= nblocks))
		HnswCorrupt(index, HNSW_META_BLKNO, "the element stream ends past the end of the index");
	if (meta->entry_level < -1 || meta->entry_level > HNSW_MAX_LEVEL ||
		(meta->entry_point == HNSW_INVALID_ID) != (meta->entry_level == -1) ||
		!IdInStream(meta->entry_point, meta->stream_end))
		HnswCorrupt(index, HNSW_META_BLKNO, "invalid entry point");
	if (!IdInStream(meta->free_elements, meta->stream_end))
		HnswCorrupt(index, HNSW_META_BLKNO, "invalid free list head");
	for (int l = 0; l <= HNSW_MAX_LEVEL; l++)
		if (!IdInStream(meta->free_upper[l], meta->stream_end))
			HnswCorrupt(index, HNSW_META_BLKNO, "invalid free list head");
}

void
HnswReadMeta(Relation index, HnswMetaPageData *meta)
{
	VxReadMetaPage(index, HnswCheckMeta, meta, sizeof(HnswMetaPageData));
}

/*
 * The shape of an existing index, cached in rd_amcache.  Callers copy what
 * they keep: a relcache flush may free the cache between calls.
 */
const HnswShape *
HnswGetShape(Relation index)
{
	if (index->rd_amcache == NULL)
	{
		HnswMetaPageData meta;
		HnswShape  *shape;

		HnswReadMeta(index, &meta);
		shape = MemoryContextAlloc(index->rd_indexcxt, sizeof(HnswShape));
		HnswFillShape(shape, meta.dims, meta.m, meta.ef_construction, (VxMetric) meta.metric,
					  VxIndexElem(index), meta.nnz);
		index->rd_amcache = shape;
	}
	return (const HnswShape *) index->rd_amcache;
}

/* a vector datum in the index's internal form (vxindex.c) */
bool
HnswPrepareVector(const HnswShape *shape, Datum value, float *out)
{
	return VxPrepareVector(value, shape->codec.elem, shape->codec.dims, shape->codec.metric, out, "HNSW");
}

void
HnswInitMetaPage(Page page, const HnswShape *shape)
{
	HnswMetaPage meta;

	HnswInitDataPage(page);
	meta = HnswPageGetMeta(page);
	memset(meta, 0, sizeof(HnswMetaPageData));
	meta->magic = HNSW_MAGIC;
	meta->version = HNSW_VERSION;
	meta->dims = shape->codec.dims;
	meta->m = shape->m;
	meta->ef_construction = shape->ef_construction;
	meta->metric = shape->codec.metric;
	meta->nnz = shape->codec.nnz;
	meta->entry_point = HNSW_INVALID_ID;
	meta->entry_level = -1;
	meta->stream_end = 0;
	meta->free_elements = HNSW_INVALID_ID;
	for (int l = 0; l <= HNSW_MAX_LEVEL; l++)
		meta->free_upper[l] = HNSW_INVALID_ID;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
}

/*
 * The insert interlock (hnsw.h, L6): a heavyweight lock on the index as an
 * object, which pg_locks shows as an "object" lock of class pg_class, the
 * index's oid and objsubid 1 (nothing else of PostgreSQL's locks a
 * relation that way).  Inserts hold it in share mode, VACUUM takes it
 * exclusively only to wait for them.
 */
static void
InsertLockTag(Relation index, LOCKTAG *tag)
{
	SET_LOCKTAG_OBJECT(*tag, MyDatabaseId, RelationRelationId, RelationGetRelid(index), 1);
}

void
HnswBeginInsert(Relation index)
{
	LOCKTAG		tag;

	InsertLockTag(index, &tag);
	(void) LockAcquire(&tag, ShareLock, false, false);
}

void
HnswEndInsert(Relation index)
{
	LOCKTAG		tag;

	InsertLockTag(index, &tag);
	LockRelease(&tag, ShareLock, false);
}

/* wait until every insert that began before now has ended */
void
HnswWaitForInserts(Relation index)
{
	LOCKTAG		tag;

	InsertLockTag(index, &tag);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
	LockRelease(&tag, ExclusiveLock, false);
}

/* W4: point the meta page at a new entry point */
void
HnswSetEntryPoint(Relation index, uint32 id, int level, bool only_if_higher)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_META_BLKNO);
	HnswMetaPage meta;
	VxPageWrite w;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = HnswPageGetMeta(BufferGetPage(metabuf));
	if (only_if_higher && meta->entry_point != HNSW_INVALID_ID && meta->entry_level >= level)
	{
		UnlockReleaseBuffer(metabuf);
		return;
	}
	VxPageWriteBegin(&w, index);
	meta = HnswPageGetMeta(VxPageWriteAdd(&w, metabuf, false));
	meta->entry_point = id;
	meta->entry_level = level;
	VxPageWriteFinish(&w);
}

/* record that a reconnect pass covered every allocation so far */
void
HnswSetReconnected(Relation index, uint64 allocations)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_META_BLKNO);
	VxPageWrite w;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	VxPageWriteBegin(&w, index);
	HnswPageGetMeta(VxPageWriteAdd(&w, metabuf, false))->reconnected_at = allocations;
	VxPageWriteFinish(&w);
}

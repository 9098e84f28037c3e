/*-------------------------------------------------------------------------
 *
 * hnswstore.c
 *	  The HNSW element stream on index pages: the index's shape (options
 *	  and metric), reading elements through the buffer manager (the graph
 *	  reader used by scans, inserts and vacuum), the one WAL wrapper, record
 *	  allocation and writing.  hnsw.h documents the format, the lock rules
 *	  (L1-L5) and what each WAL record covers (W1-W4); this file is where
 *	  they are carried out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "miscadmin.h"
#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "distance.h"
#include "hnsw.h"
#include "vector.h"
#include "vxcache.h"
#include "vxindex.h"

HnswMetric
HnswMetricOf(Relation index)
{
	return (HnswMetric) VxIndexMetric(index);
}

void
HnswFillShape(HnswShape *shape, int dims, int m, int efc, HnswMetric metric)
{
	shape->dims = dims;
	shape->m = m;
	shape->ef_construction = efc;
	shape->metric = metric;
	shape->head_size = HnswElementHeadSize(m);
	shape->element_size = HnswElementSize(m, dims);
	shape->ml = 1.0 / log((double) m);
}

/* ---------------------------------------------------------------- guards */

/* a page of this index: initialized, our special space and page id */
void
HnswCheckPage(Relation index, Buffer buf)
{
	Page		page = BufferGetPage(buf);

	if (PageIsNew(page) ||
		PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaqueData)) ||
		((HnswPageOpaqueData *) PageGetSpecialPointer(page))->page_id != HNSW_PAGE_ID)
		HnswCorrupt(index, BufferGetBlockNumber(buf), "not an HNSW page");
}

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
static void
CheckMeta(Relation index, Buffer buf)
{
	Page		page = BufferGetPage(buf);
	HnswMetaPage meta = HnswPageGetMeta(page);
	Size		need = (char *) (meta + 1) - (char *) page;
	BlockNumber nblocks;

	HnswCheckPage(index, buf);
	if (meta->magic != HNSW_MAGIC || meta->version != HNSW_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not an HNSW index of this format",
						RelationGetRelationName(index)),
				 errdetail("Meta page has magic 0x%08X and version %u, expected 0x%08X and %d.",
						   meta->magic, meta->version, HNSW_MAGIC, HNSW_VERSION),
				 errhint("REINDEX the index.")));
	/* generic WAL zeroes a page's hole: the whole struct must lie below pd_lower */
	if (((PageHeader) page)->pd_lower < need)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a meta page of %u bytes, this version needs %zu",
						RelationGetRelationName(index), ((PageHeader) page)->pd_lower, need),
				 errhint("REINDEX the index.")));
	if (meta->dims < 1 || meta->dims > HNSW_MAX_DIM ||
		meta->m < HNSW_MIN_M || meta->m > HNSW_MAX_M ||
		meta->ef_construction < HNSW_MIN_EF_CONSTRUCTION ||
		meta->ef_construction > HNSW_MAX_EF_CONSTRUCTION)
		HnswCorrupt(index, HNSW_META_BLKNO, "dimensions, m or ef_construction out of range");
	/* the metric must be the operator class's, which orders the scans */
	if (meta->metric != (uint8) HnswMetricOf(index))
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
	Buffer		buf = ReadBuffer(index, HNSW_META_BLKNO);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	CheckMeta(index, buf);
	*meta = *HnswPageGetMeta(BufferGetPage(buf));
	UnlockReleaseBuffer(buf);
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
		HnswFillShape(shape, meta.dims, meta.m, meta.ef_construction, (HnswMetric) meta.metric);
		index->rd_amcache = shape;
	}
	return (const HnswShape *) index->rd_amcache;
}

/* a vector datum in the index's internal form (vxindex.c) */
bool
HnswPrepareVector(const HnswShape *shape, Datum value, float *out)
{
	return VxPrepareVector(value, shape->dims, (VxMetric) shape->metric, out, "HNSW");
}

void
HnswInitDataPage(Page page)
{
	HnswPageOpaqueData *opaque;

	PageInit(page, BLCKSZ, sizeof(HnswPageOpaqueData));
	opaque = (HnswPageOpaqueData *) PageGetSpecialPointer(page);
	opaque->page_id = HNSW_PAGE_ID;
	Assert(PageGetSpecialPointer(page) == HnswPageData(page) + HNSW_DATA_SIZE);
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
	meta->dims = shape->dims;
	meta->m = shape->m;
	meta->ef_construction = shape->ef_construction;
	meta->metric = shape->metric;
	meta->entry_point = HNSW_INVALID_ID;
	meta->entry_level = -1;
	meta->stream_end = 0;
	meta->free_elements = HNSW_INVALID_ID;
	for (int l = 0; l <= HNSW_MAX_LEVEL; l++)
		meta->free_upper[l] = HNSW_INVALID_ID;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
}

/* ---------------------------------------------------------------- reading */

/*
 * Per-backend hints block -> buffer for ReadRecentBuffer, per index (by
 * relfilenode, in a vxcache.h cache: freed at the end of a transaction
 * that invalidated the index, so TRUNCATE and REINDEX loops do not
 * accumulate them).  A hint is only a guess that ReadRecentBuffer
 * verifies, so stale ones are harmless; they spare the buffer-mapping hash
 * lookup that dominates random page access.  Hints live in chunks of
 * HINT_CHUNK blocks that never move once allocated (page graphs keep
 * pointers to them); blocks past HINT_CHUNKS chunks (8 GiB of index) go
 * through ReadBuffer.
 */
#define HINT_CHUNK_BITS 16
#define HINT_CHUNK (1 << HINT_CHUNK_BITS)
#define HINT_CHUNKS 16

typedef struct HintEntry
{
	MemoryContext cxt;			/* holds the entry and its chunks */
	Buffer	   *chunks[HINT_CHUNKS];
} HintEntry;

static VxNodeCache *hint_cache = NULL;

static HintEntry *
GetHints(Relation index)
{
	HintEntry  *e;
	MemoryContext cxt;

	if (hint_cache == NULL)
		hint_cache = VxNodeCacheCreate("vectorx hnsw buffer hints");
	e = VxNodeCacheLookup(hint_cache, index);
	if (e)
		return e;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vectorx hnsw hints of one index",
								ALLOCSET_SMALL_SIZES);
	e = MemoryContextAllocZero(cxt, sizeof(HintEntry));
	e->cxt = cxt;
	VxNodeCacheStore(hint_cache, index, e, cxt);
	return e;
}

Buffer
HnswPinBlock(HnswPageGraph *pg, BlockNumber blkno)
{
	uint32		chunk = blkno >> HINT_CHUNK_BITS;
	Buffer	   *hint = NULL;
	Buffer		buf;

	HnswCheckBlock(pg->index, blkno, &pg->nblocks);
	if (chunk < HINT_CHUNKS)
	{
		HintEntry  *e = (HintEntry *) pg->hints;

		if (e->chunks[chunk] == NULL)
			e->chunks[chunk] = MemoryContextAllocZero(e->cxt, sizeof(Buffer) * HINT_CHUNK);
		hint = &e->chunks[chunk][blkno & (HINT_CHUNK - 1)];
		if (*hint != InvalidBuffer &&
			ReadRecentBuffer(pg->index->rd_node, MAIN_FORKNUM, blkno, *hint))
			return *hint;
	}
	buf = ReadBuffer(pg->index, blkno);
	if (hint)
		*hint = buf;
	return buf;
}

/*
 * distance() of the page graph: the quantization parameters end the head
 * and the codes follow; they may continue on the next pages.  Each piece
 * is read under a shared lock of its page, one page at a time (L3).
 */
static float
PageDistance(HnswGraph *g, uint32 id)
{
	HnswPageGraph *pg = (HnswPageGraph *) g;
	const HnswShape *shape = g->shape;
	uint64		off = HnswIdOffset(id) + shape->head_size;
	int			done = 0;
	float		part = 0;
	HnswQuant	quant;
	Buffer		buf = HnswPinBlock(pg, HnswOffsetBlock(HnswIdOffset(id)));
	BlockNumber blkno = BufferGetBlockNumber(buf);
	const char *data;

	g->visited_elements++;
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	HnswCheckPage(pg->index, buf);
	data = HnswPageData(BufferGetPage(buf));
	if (HnswOffsetInPage(HnswIdOffset(id)) + shape->head_size > HNSW_DATA_SIZE)
		HnswCorrupt(pg->index, blkno, "an element head crosses the page end");
	quant = *HnswElementQuant(data + HnswOffsetInPage(HnswIdOffset(id)), shape->head_size);
	while (done < shape->dims)
	{
		uint32		inpage;
		int			n;

		if (HnswOffsetBlock(off) != blkno)
		{
			UnlockReleaseBuffer(buf);
			blkno = HnswOffsetBlock(off);
			buf = HnswPinBlock(pg, blkno);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			HnswCheckPage(pg->index, buf);
			data = HnswPageData(BufferGetPage(buf));
		}
		inpage = HnswOffsetInPage(off);
		n = Min(shape->dims - done, (int) (HNSW_DATA_SIZE - inpage));
		part += HnswCodesPart(shape, &pg->query, done, (const uint8 *) data + inpage, n, &quant);
		done += n;
		off += n;
	}
	UnlockReleaseBuffer(buf);
	return HnswQueryFinish(shape, &pg->query, &quant, part);
}

/*
 * prefetch() of the page graph: for each id whose page we have a buffer
 * hint for, prefetch the buffer's descriptor (which pinning will lock) and
 * the first lines of the vector; misses then overlap instead of queueing.
 * Only hints are used: nothing is pinned, so a stale hint costs a wasted
 * prefetch, never correctness.
 */
static void
PagePrefetch(HnswGraph *g, const uint32 *ids, int n, int lines)
{
	/* a distance reads the quantization parameters, then the codes */
	Size		vstart = g->shape->head_size - sizeof(HnswQuant);
	int			vlines = (sizeof(HnswQuant) + g->shape->dims + 63) / 64;

	HnswPageGraph *pg = (HnswPageGraph *) g;
	HintEntry  *e = (HintEntry *) pg->hints;

	for (int i = 0; i < n; i++)
	{
		uint64		off = HnswIdOffset(ids[i]) + (lines < 0 ? 0 : vstart);
		BlockNumber blkno = HnswOffsetBlock(off);
		uint32		chunk = blkno >> HINT_CHUNK_BITS;
		Buffer		hint;
		const char *p;

		if (chunk >= HINT_CHUNKS || e->chunks[chunk] == NULL)
			continue;
		hint = e->chunks[chunk][blkno & (HINT_CHUNK - 1)];
		if (hint <= 0 || hint > NBuffers)
			continue;
		/* for write: pinning locks the header with an atomic */
		__builtin_prefetch(GetBufferDescriptor(hint - 1), 1);
		p = (const char *) BufferGetBlock(hint) + HNSW_DATA_OFFSET + HnswOffsetInPage(off);
		if (lines < 0)
		{
			/* the head (neighbour list) rather than the vector */
			__builtin_prefetch(p);
			__builtin_prefetch(p + 64);
			__builtin_prefetch(p + 128);
			continue;
		}
		{
			int			room = (HNSW_DATA_SIZE - HnswOffsetInPage(off) + 63) / 64;
			int			want = lines > 0 ? lines : vlines;
			int			nl = Min(want, room);
			BlockNumber next = blkno + 1;

			for (int l = 0; l < nl; l++)
				__builtin_prefetch(p + 64 * l);
			/* the rest of a spanning vector starts the next page */
			if (lines > 0 || want <= room || (next >> HINT_CHUNK_BITS) != chunk)
				continue;
			hint = e->chunks[chunk][next & (HINT_CHUNK - 1)];
			if (hint <= 0 || hint > NBuffers)
				continue;
			__builtin_prefetch(GetBufferDescriptor(hint - 1), 1);
			p = (const char *) BufferGetBlock(hint) + HNSW_DATA_OFFSET;
			for (int l = 0; l < want - room; l++)
				__builtin_prefetch(p + 64 * l);
		}
	}
}

/* neighbors() of the page graph (L2): copies the list under a shared lock */
static int
PageNeighbors(HnswGraph *g, uint32 id, int level, uint32 *out, uint8 *flags)
{
	HnswPageGraph *pg = (HnswPageGraph *) g;
	uint64		off = HnswIdOffset(id);
	Buffer		buf = HnswPinBlock(pg, HnswOffsetBlock(off));
	HnswElement e;
	int			max = level == 0 ? 2 * g->shape->m : g->shape->m;
	int			n = 0;
	uint32		upper = HNSW_INVALID_ID;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	HnswCheckPage(pg->index, buf);
	e = (HnswElement) (HnswPageData(BufferGetPage(buf)) + HnswOffsetInPage(off));
	HnswCheckRecord(pg->index, BufferGetBlockNumber(buf), HnswOffsetInPage(off), g->shape,
					(const char *) e);
	if (flags)
	{
		*flags = e->kind == HNSW_KIND_ELEMENT ? e->flags : HNSW_FREE;
		if (ItemPointerIsValid(&pg->exclude) && e->kind == HNSW_KIND_ELEMENT)
			for (int i = 0; i < e->ntids && i < HNSW_HEAPTIDS; i++)
				if (ItemPointerEquals(&e->heaptids[i], &pg->exclude))
					*flags |= HNSW_EXCLUDED;
	}
	if (e->kind == HNSW_KIND_ELEMENT && !(e->flags & HNSW_FREE) && level <= e->level)
	{
		if (level == 0)
		{
			for (; n < max && e->neighbors[n] != HNSW_INVALID_ID; n++)
				out[n] = e->neighbors[n];
		}
		else
			upper = e->upper;
	}
	UnlockReleaseBuffer(buf);

	if (upper != HNSW_INVALID_ID)
	{
		HnswUpper u;

		off = HnswIdOffset(upper);
		buf = HnswPinBlock(pg, HnswOffsetBlock(off));
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		HnswCheckPage(pg->index, buf);
		u = (HnswUpper) (HnswPageData(BufferGetPage(buf)) + HnswOffsetInPage(off));
		HnswCheckRecord(pg->index, BufferGetBlockNumber(buf), HnswOffsetInPage(off), g->shape,
						(const char *) u);
		if (u->kind == HNSW_KIND_UPPER && u->owner == id && level <= u->nlevels)
		{
			const uint32 *list = u->neighbors + (level - 1) * g->shape->m;

			for (; n < max && list[n] != HNSW_INVALID_ID; n++)
				out[n] = list[n];
		}
		UnlockReleaseBuffer(buf);
	}
	return n;
}

void
HnswPageGraphInit(HnswPageGraph *pg, Relation index, const HnswShape *shape, const float *query)
{
	memset(pg, 0, sizeof(HnswPageGraph));
	pg->graph.distance = PageDistance;
	pg->graph.neighbors = PageNeighbors;
	pg->graph.prefetch = PagePrefetch;
	pg->graph.shape = shape;
	pg->index = index;
	HnswQueryInit(&pg->query, shape, query);
	pg->hints = GetHints(index);
	ItemPointerSetInvalid(&pg->exclude);
}

/* copy the 32-byte header of element id; false if it is not an element */
bool
HnswReadElementHead(HnswPageGraph *pg, uint32 id, HnswElementData *out)
{
	uint64		off = HnswIdOffset(id);
	Buffer		buf = HnswPinBlock(pg, HnswOffsetBlock(off));
	HnswElement e;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	HnswCheckPage(pg->index, buf);
	e = (HnswElement) (HnswPageData(BufferGetPage(buf)) + HnswOffsetInPage(off));
	HnswCheckRecord(pg->index, BufferGetBlockNumber(buf), HnswOffsetInPage(off), pg->graph.shape,
					(const char *) e);
	memcpy(out, e, offsetof(HnswElementData, neighbors));
	UnlockReleaseBuffer(buf);
	return out->kind == HNSW_KIND_ELEMENT;
}

/*
 * For a scan's result: element id's header, quantization parameters and
 * distance to the query, read together.  The head page stays share-locked
 * while the codes are read from the pages after it (locks in block order,
 * L4), so that the distance belongs to the heap TIDs returned with it: a
 * live element's vector cannot change while its head is locked (only an
 * element vacuum freed is rewritten).  Returns false, reading nothing
 * more, if id is not a live element.
 */
bool
HnswReadResult(HnswPageGraph *pg, uint32 id, HnswElementData *head, HnswQuant *quant,
			   float *distance)
{
	const HnswShape *shape = pg->graph.shape;
	uint64		off = HnswIdOffset(id);
	Buffer		headbuf = HnswPinBlock(pg, HnswOffsetBlock(off));
	Buffer		buf = InvalidBuffer;
	const char *e;
	int			done = 0;
	float		part = 0;

	LockBuffer(headbuf, BUFFER_LOCK_SHARE);
	HnswCheckPage(pg->index, headbuf);
	e = HnswPageData(BufferGetPage(headbuf)) + HnswOffsetInPage(off);
	HnswCheckRecord(pg->index, BufferGetBlockNumber(headbuf), HnswOffsetInPage(off), shape, e);
	memcpy(head, e, offsetof(HnswElementData, neighbors));
	if (head->kind != HNSW_KIND_ELEMENT || head->flags != 0 || head->ntids == 0)
	{
		UnlockReleaseBuffer(headbuf);
		return false;
	}
	*quant = *HnswElementQuant(e, shape->head_size);
	off += shape->head_size;
	while (done < shape->dims)
	{
		BlockNumber blkno = HnswOffsetBlock(off);
		Buffer		cur = blkno == BufferGetBlockNumber(headbuf) ? headbuf : InvalidBuffer;
		uint32		inpage = HnswOffsetInPage(off);
		int			n = Min(shape->dims - done, (int) (HNSW_DATA_SIZE - inpage));

		if (cur == InvalidBuffer)
		{
			if (BufferIsValid(buf))
				UnlockReleaseBuffer(buf);
			buf = cur = HnswPinBlock(pg, blkno);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			HnswCheckPage(pg->index, buf);
		}
		part += HnswCodesPart(shape, &pg->query, done,
							  (const uint8 *) HnswPageData(BufferGetPage(cur)) + inpage, n, quant);
		done += n;
		off += n;
	}
	if (BufferIsValid(buf))
		UnlockReleaseBuffer(buf);
	UnlockReleaseBuffer(headbuf);
	*distance = HnswQueryFinish(shape, &pg->query, quant, part);
	return true;
}

/* the quantization parameters and codes of element id */
void
HnswReadCodes(Relation index, const HnswShape *shape, uint32 id, HnswQuant *quant, uint8 *codes)
{
	uint64		off = HnswIdOffset(id) + shape->head_size - sizeof(HnswQuant);
	Size		left = sizeof(HnswQuant) + shape->dims;
	Size		done = 0;

	if (HnswOffsetInPage(HnswIdOffset(id)) + shape->head_size > HNSW_DATA_SIZE)
		HnswCorrupt(index, HnswOffsetBlock(HnswIdOffset(id)), "an element head crosses the page end");

	/* the parameters end the head, on the head's page; the codes may go on */
	while (left > 0)
	{
		uint32		inpage = HnswOffsetInPage(off);
		Size		n = Min(left, HNSW_DATA_SIZE - inpage);
		Buffer		buf = HnswReadBlock(index, HnswOffsetBlock(off));
		const char *src;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		HnswCheckPage(index, buf);
		src = HnswPageData(BufferGetPage(buf)) + inpage;
		{
			Size		nq = done < sizeof(HnswQuant) ? Min(n, sizeof(HnswQuant) - done) : 0;

			memcpy((char *) quant + done, src, nq);
			memcpy(codes + (done + nq - sizeof(HnswQuant)), src + nq, n - nq);
		}
		UnlockReleaseBuffer(buf);
		done += n;
		left -= n;
		off += n;
	}
}

/* ---------------------------------------------------------------- writing */

/*
 * The one WAL wrapper (hnsw.h, WAL): every change to an existing index
 * page goes through Begin / Add (page locked exclusively by the caller) /
 * Finish, which is a single generic WAL record over at most 4 pages.
 *
 * Unlogged mode (hnsw.h, WAL, W5): while this backend builds the index
 * (HnswBeginBuildWrites), changes are made in place and the whole index is
 * logged once at the end, as the build's arena pages are.
 */
static RelFileNode building_node;
static bool building = false;

/* an error during the build must not leave later writes unlogged */
static void
BuildWritesXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		building = false;
}

static void
BuildWritesSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
						   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		building = false;
}

void
HnswBeginBuildWrites(Relation index)
{
	static bool registered = false;

	if (!registered)
	{
		RegisterXactCallback(BuildWritesXactCallback, NULL);
		RegisterSubXactCallback(BuildWritesSubXactCallback, NULL);
		registered = true;
	}
	building_node = index->rd_node;
	building = true;
}

/* leave unlogged mode; log every page now if log (and the index needs WAL) */
void
HnswEndBuildWrites(Relation index, bool log)
{
	building = false;
	if (log && RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);
}

void
HnswPageWriteBegin(HnswPageWrite *w, Relation index)
{
	w->index = index;
	w->unlogged = building && RelFileNodeEquals(index->rd_node, building_node);
	w->state = w->unlogged ? NULL : GenericXLogStart(index);
	w->nbuffers = 0;
}

Page
HnswPageWriteAdd(HnswPageWrite *w, Buffer buf, bool fresh)
{
	Page		page;

	if (w->nbuffers == MAX_GENERIC_XLOG_PAGES)
		elog(ERROR, "too many pages in one HNSW WAL record");
	if (w->unlogged)
		page = BufferGetPage(buf);
	else
		page = GenericXLogRegisterBuffer(w->state, buf, fresh ? GENERIC_XLOG_FULL_IMAGE : 0);
	w->buffers[w->nbuffers] = buf;
	w->pages[w->nbuffers++] = page;
	return page;
}

void
HnswPageWriteFinish(HnswPageWrite *w)
{
	if (w->unlogged)
	{
		for (int i = 0; i < w->nbuffers; i++)
			MarkBufferDirty(w->buffers[i]);
	}
	else
		GenericXLogFinish(w->state);
	for (int i = 0; i < w->nbuffers; i++)
		UnlockReleaseBuffer(w->buffers[i]);
	w->nbuffers = 0;
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
	HnswPageWrite w;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	if (BufferGetBlockNumber(buf) != expected)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has %u pages where its stream ends in page %u",
						RelationGetRelationName(index), BufferGetBlockNumber(buf), expected),
				 errhint("REINDEX the index.")));
	HnswPageWriteBegin(&w, index);
	HnswInitDataPage(HnswPageWriteAdd(&w, buf, true));
	HnswPageWriteFinish(&w);
}

/*
 * Reserve space for an ELEMENT record (element = true) or an UPPER record
 * of nlevels levels, and return its stream offset (W1).  A free record of
 * the same kind and size is reused when there is one (*reused = true; it is
 * marked RESERVED in the same WAL record that unlinks it); otherwise the
 * stream grows: pages first, then the meta page's stream end, so that a
 * crash never leaves the stream ending beyond the relation.
 */
uint64
HnswAllocateRecord(Relation index, const HnswShape *shape, bool element, int nlevels,
				   bool *reused)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_META_BLKNO);
	HnswMetaPage meta;
	Size		size = element ? shape->element_size : HnswUpperSize(shape->m, nlevels);
	Size		head = element ? shape->head_size : size;
	uint32	   *freehead;
	uint64		off;
	uint64		end;
	HnswPageWrite w;
	Page		metapage;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	CheckMeta(index, metabuf);
	meta = HnswPageGetMeta(BufferGetPage(metabuf));
	freehead = element ? &meta->free_elements : &meta->free_upper[nlevels];

	if (*freehead != HNSW_INVALID_ID)
	{
		/* pop a free record and mark it reserved, in one WAL record */
		uint32		id = *freehead;
		Buffer		buf;
		Page		page;
		char	   *rec;

		off = HnswIdOffset(id);
		buf = HnswReadBlock(index, HnswOffsetBlock(off));
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		HnswCheckPage(index, buf);
		HnswCheckRecord(index, BufferGetBlockNumber(buf), HnswOffsetInPage(off), shape,
						HnswPageData(BufferGetPage(buf)) + HnswOffsetInPage(off));
		HnswPageWriteBegin(&w, index);
		metapage = HnswPageWriteAdd(&w, metabuf, false);
		page = HnswPageWriteAdd(&w, buf, false);
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
		HnswPageWriteFinish(&w);	/* releases both buffers */
		*reused = true;
		return off;
	}

	*reused = false;
	off = HnswPlaceRecord(meta->stream_end, head);
	end = off + size;
	if (end > HNSW_MAX_STREAM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("HNSW index \"%s\" is full", RelationGetRelationName(index)),
				 errdetail("An HNSW index holds at most %llu GB of elements.",
						   (unsigned long long) (HNSW_MAX_STREAM >> 30)),
				 errhint("Use an ivfpq index for data of this size.")));

	/* pages first (they are harmless past the stream end) */
	{
		BlockNumber nblocks = RelationGetNumberOfBlocks(index);
		BlockNumber last = HnswOffsetBlock(end - 1);

		for (BlockNumber b = nblocks; b <= last; b++)
			ExtendIndex(index, b);
	}

	HnswPageWriteBegin(&w, index);
	metapage = HnswPageWriteAdd(&w, metabuf, false);
	if (off != meta->stream_end && HNSW_DATA_SIZE - HnswOffsetInPage(meta->stream_end) >= sizeof(HnswPadData))
	{
		/* a PAD record fills the rest of the page (I2) */
		uint64		padoff = meta->stream_end;
		Buffer		buf = ReadBuffer(index, HnswOffsetBlock(padoff));
		Page		page;
		HnswPadData *pad;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = HnswPageWriteAdd(&w, buf, false);
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
		page = HnswPageWriteAdd(&w, buf, false);
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
	HnswPageWriteFinish(&w);
	return off;
}

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
	HnswPageWrite w;

	Assert(head_len <= first_len);
	while (left > 0)
	{
		HnswPageWriteBegin(&w, index);
		while (left > 0 && w.nbuffers < MAX_GENERIC_XLOG_PAGES)
		{
			Buffer		buf = ReadBuffer(index, HnswOffsetBlock(pos));
			Page		page;
			Size		n = Min(left, HNSW_DATA_SIZE);

			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
			page = HnswPageWriteAdd(&w, buf, false);
			memcpy(HnswPageData(page), src, n);
			CoverBytes(page, n);
			pos += n;
			src += n;
			left -= n;
		}
		HnswPageWriteFinish(&w);
	}

	/* the head last: this publishes the record */
	{
		Buffer		buf = ReadBuffer(index, HnswOffsetBlock(off));
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		HnswPageWriteBegin(&w, index);
		page = HnswPageWriteAdd(&w, buf, false);
		memcpy(HnswPageData(page) + first_in_page, data, first_len);
		CoverBytes(page, first_in_page + first_len);
		HnswPageWriteFinish(&w);
	}
}

/* W4: point the meta page at a new entry point */
void
HnswSetEntryPoint(Relation index, uint32 id, int level, bool only_if_higher)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_META_BLKNO);
	HnswMetaPage meta;
	HnswPageWrite w;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	meta = HnswPageGetMeta(BufferGetPage(metabuf));
	if (only_if_higher && meta->entry_point != HNSW_INVALID_ID && meta->entry_level >= level)
	{
		UnlockReleaseBuffer(metabuf);
		return;
	}
	HnswPageWriteBegin(&w, index);
	meta = HnswPageGetMeta(HnswPageWriteAdd(&w, metabuf, false));
	meta->entry_point = id;
	meta->entry_level = level;
	HnswPageWriteFinish(&w);
}

/* record that a reconnect pass covered every allocation so far */
void
HnswSetReconnected(Relation index, uint64 allocations)
{
	Buffer		metabuf = ReadBuffer(index, HNSW_META_BLKNO);
	HnswPageWrite w;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	HnswPageWriteBegin(&w, index);
	HnswPageGetMeta(HnswPageWriteAdd(&w, metabuf, false))->reconnected_at = allocations;
	HnswPageWriteFinish(&w);
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

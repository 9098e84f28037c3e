/*-------------------------------------------------------------------------
 *
 * hnswpagegraph.c
 *	  The HNSW graph read from index pages (HnswPageGraph): the
 *	  distance(), neighbors() and prefetch() of HnswGraph over pages, with
 *	  per-backend buffer hints, and the readers of one element (its head, a
 *	  scan result, its codes).  Scans, inserts and vacuum search through it;
 *	  the build searches its arena instead (hnswbuild.c).  The locks it
 *	  takes are L2-L4 of hnsw.h.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"
#include "vxcache.h"

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

static void *
NewHints(Relation index, MemoryContext cxt, void *arg)
{
	HintEntry  *e = MemoryContextAllocZero(cxt, sizeof(HintEntry));

	e->cxt = cxt;
	return e;
}

/* this index's hints; every entry stays valid (a hint is only a guess) */
static HintEntry *
GetHints(Relation index)
{
	return VxNodeCacheGet(&hint_cache, "vectorx hnsw buffer hints", index, NULL, NewHints, NULL);
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
	VxQuant	quant;
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
	while (done < shape->codec.code_bytes)
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
		n = Min(shape->codec.code_bytes - done, (int) (HNSW_DATA_SIZE - inpage));
		part += VxCodesPart(&shape->codec, &pg->query, done, (const uint8 *) data + inpage, n, &quant);
		done += n;
		off += n;
	}
	UnlockReleaseBuffer(buf);
	return VxQueryFinish(&shape->codec, &pg->query, &quant, part);
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
	Size		vstart = g->shape->head_size - sizeof(VxQuant);
	int			vlines = (sizeof(VxQuant) + g->shape->codec.code_bytes + 63) / 64;

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
	VxQueryInitPieces(&pg->query, &shape->codec, query);
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
HnswReadResult(HnswPageGraph *pg, uint32 id, HnswElementData *head, VxQuant *quant,
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
	while (done < shape->codec.code_bytes)
	{
		BlockNumber blkno = HnswOffsetBlock(off);
		Buffer		cur = blkno == BufferGetBlockNumber(headbuf) ? headbuf : InvalidBuffer;
		uint32		inpage = HnswOffsetInPage(off);
		int			n = Min(shape->codec.code_bytes - done, (int) (HNSW_DATA_SIZE - inpage));

		if (cur == InvalidBuffer)
		{
			if (BufferIsValid(buf))
				UnlockReleaseBuffer(buf);
			buf = cur = HnswPinBlock(pg, blkno);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			HnswCheckPage(pg->index, buf);
		}
		part += VxCodesPart(&shape->codec, &pg->query, done,
							  (const uint8 *) HnswPageData(BufferGetPage(cur)) + inpage, n, quant);
		done += n;
		off += n;
	}
	if (BufferIsValid(buf))
		UnlockReleaseBuffer(buf);
	UnlockReleaseBuffer(headbuf);
	*distance = VxQueryFinish(&shape->codec, &pg->query, quant, part);
	return true;
}

/* the quantization parameters and codes of element id */
void
HnswReadCodes(Relation index, const HnswShape *shape, uint32 id, VxQuant *quant, uint8 *codes)
{
	uint64		off = HnswIdOffset(id) + shape->head_size - sizeof(VxQuant);
	Size		left = sizeof(VxQuant) + shape->codec.code_bytes;
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
			Size		nq = done < sizeof(VxQuant) ? Min(n, sizeof(VxQuant) - done) : 0;

			memcpy((char *) quant + done, src, nq);
			memcpy(codes + (done + nq - sizeof(VxQuant)), src + nq, n - nq);
		}
		UnlockReleaseBuffer(buf);
		done += n;
		left -= n;
		off += n;
	}
}

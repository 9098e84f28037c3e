/*-------------------------------------------------------------------------
 *
 * hnswinsert.c
 *	  Inserting into an existing HNSW index (aminsert), one element at a
 *	  time through the buffer manager: the paper's Algorithm 1 with the
 *	  locking of hnsw.h (L1-L5) and one WAL record per page change (W1-W4).
 *	  The build uses HnswInsertVector too, for tuples that no longer fit its
 *	  memory arena.  Neighbour lists are changed through hnswneighbors.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/generic_xlog.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"

/* ---------------------------------------------------------------- insert */

/*
 * If element id holds the same codes as quant/codes (an identical vector,
 * or one that quantizes identically) and has room, add tid to it and let
 * its err cover the new row's too (duplicates share one element).
 * Returns true if it did.
 */
static bool
AddToDuplicate(HnswPageGraph *pg, uint32 id, const VxQuant *quant, const uint8 *codes,
			   ItemPointer tid)
{
	const HnswShape *shape = pg->graph.shape;
	Buffer		buf;
	HnswElement e;
	VxQuant	old;
	uint8	   *oldcodes = palloc(shape->codec.code_bytes);
	VxPageWrite w;
	uint64		off = HnswIdOffset(id);
	bool		same;

	HnswReadCodes(pg->index, shape, id, &old, oldcodes);
	same = old.lo == quant->lo && old.step == quant->step &&
		memcmp(oldcodes, codes, shape->codec.code_bytes) == 0;
	pfree(oldcodes);
	if (!same)
		return false;
	buf = ReadBuffer(pg->index, HnswOffsetBlock(off));
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	HnswCheckPage(pg->index, buf);
	e = (HnswElement) (HnswPageData(BufferGetPage(buf)) + HnswOffsetInPage(off));
	/* a live element's codes do not change (L3): only its state could have */
	if (e->kind != HNSW_KIND_ELEMENT || e->flags != 0 || e->ntids >= HNSW_HEAPTIDS)
	{
		UnlockReleaseBuffer(buf);
		return false;
	}
	VxPageWriteBegin(&w, pg->index);
	e = (HnswElement) (HnswPageData(VxPageWriteAdd(&w, buf, false)) + HnswOffsetInPage(off));
	e->heaptids[e->ntids++] = *tid;
	if (HnswElementQuant(e, shape->head_size)->err < quant->err)
		HnswElementQuant(e, shape->head_size)->err = quant->err;
	VxPageWriteFinish(&w);
	return true;
}

/*
 * The heuristic over the live elements among cands: a new element must not
 * link to one that vacuum is about to free.
 */
static int
SelectLiveNeighbors(HnswPageGraph *pg, HnswVecCache *vc, const HnswCandidate *cands, int n,
					int max, HnswCandidate *out)
{
	HnswCandidate *live = palloc(sizeof(HnswCandidate) * Max(n, 1));
	int			nlive = 0;
	int			nout;

	for (int i = 0; i < n; i++)
	{
		HnswElementData e;

		if (HnswReadElementHead(pg, cands[i].id, &e) && e.flags == 0)
			live[nlive++] = cands[i];
	}
	nout = HnswSelectNeighbors(pg->graph.shape, live, nlive, max, HnswVecCachePair, vc, out);
	pfree(live);
	return nout;
}

/* HnswGoneFn over the search's visited set: reached from the entry point */
static bool
Reached(void *arg, uint32 id)
{
	return VxIdHashContains((VxIdHash *) arg, id);
}

/* HnswGoneFn: not a live element (vacuum may be about to free it) */
static bool
NotLive(void *arg, uint32 id)
{
	HnswElementData e;

	return !HnswReadElementHead((HnswPageGraph *) arg, id, &e) || e.flags != 0;
}

/*
 * Search the graph for the neighbours of vec at levels 0..level: fills
 * nbrs[l] (at most 2m at level 0, m above) and copies the nearest elements
 * at level 0 (at most HNSW_DUP_PROBES) to nearest[0..*nnearest).
 */
#define HNSW_DUP_PROBES 8

static void
FindNeighbors(HnswPageGraph *pg, HnswVecCache *vc, uint32 ep, int eplevel, int level,
			  HnswCandidate **nbrs, int *nnbrs, HnswCandidate *nearest, int *nnearest,
			  VxIdHash *visited)
{
	const HnswShape *shape = pg->graph.shape;
	int			ef = shape->ef_construction;
	HnswCandidate *w = palloc(sizeof(HnswCandidate) * Max(ef, 1));
	HnswCandidate entry;
	int			nw;

	entry.id = ep;
	entry.distance = pg->graph.distance(&pg->graph, ep);
	if (eplevel > level)
		entry.id = HnswGreedyDescend(&pg->graph, ep, &entry.distance, eplevel, level + 1);
	nw = 1;
	w[0] = entry;
	for (int l = Min(level, eplevel); l >= 0; l--)
	{
		HnswSearch	s = {
			.graph = &pg->graph,
			.entries = w,
			.nentries = nw,
			.ef = ef,
			.level = l,
			.visited = visited,
			.out = w,
		};

		VxIdHashReset(visited);
		for (int i = 0; i < nw; i++)
			VxIdHashTestAndAdd(visited, w[i].id);
		nw = HnswSearchLayer(&s);
		nnbrs[l] = SelectLiveNeighbors(pg, vc, w, nw, l == 0 ? 2 * shape->m : shape->m, nbrs[l]);
	}
	*nnearest = Min(nw, HNSW_DUP_PROBES);
	memcpy(nearest, w, sizeof(HnswCandidate) * *nnearest);
	pfree(w);
}

/*
 * Insert one vector (internal form: cosine already normalised) with its
 * heap TID.  Algorithm 1; see the file header.
 */
void
HnswInsertVector(Relation index, const float *vec, ItemPointer tid)
{
	HnswShape	shape = *HnswGetShape(index);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw insert",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	HnswPageGraph pg;
	HnswVecCache *vc;
	HnswPageLists lists;
	HnswMetaPageData meta;
	int			level = HnswRandomLevel(&shape, tid);
	HnswCandidate *nbrs[HNSW_MAX_LEVEL + 1];
	int			nnbrs[HNSW_MAX_LEVEL + 1];
	HnswCandidate nearest[HNSW_DUP_PROBES];
	int			nnearest = 0;
	uint64		off,
				upperoff = 0;
	uint32		id;
	bool		reused;
	char	   *rec;
	HnswElement e;
	VxQuant  *quant;
	uint8	   *codes;
	bool		was_empty;
	float		self;
	VxIdHash   *visited;

	HnswPageGraphInit(&pg, index, &shape, vec);
	visited = VxIdHashCreate(shape.ef_construction * shape.m * 2);
	vc = HnswVecCacheCreate(index, &shape);
	HnswPageListsInit(&lists, &pg, vc);
	rec = palloc0(shape.element_size);
	quant = HnswElementQuant(rec, shape.head_size);
	codes = (uint8 *) rec + shape.head_size;
	VxEncodeVector(&shape.codec, vec, quant, codes);
	for (int l = 0; l <= level; l++)
	{
		nbrs[l] = palloc(sizeof(HnswCandidate) * 2 * shape.m);
		nnbrs[l] = 0;
	}

	/* L6: VACUUM waits for this insert before it repairs around and frees */
	HnswBeginInsert(index);
	HnswReadMeta(index, &meta);
	was_empty = meta.entry_point == HNSW_INVALID_ID;
	if (!was_empty)
	{
		FindNeighbors(&pg, vc, meta.entry_point, meta.entry_level, level, nbrs, nnbrs, nearest,
					  &nnearest, visited);
		/*
		 * The twin need not be the nearest: others lie within the
		 * quantization error.  Identical codes lie at the distance our own
		 * codes do (up to the summation order of codes split over pages),
		 * which spares reading the others' codes.
		 */
		self = VxQueryDistance(&shape.codec, &pg.query, quant, codes);
		for (int i = 0; i < nnearest; i++)
			if (fabsf(nearest[i].distance - self) <= 1e-5f * (1.0f + fabsf(self)) &&
				AddToDuplicate(&pg, nearest[i].id, quant, codes, tid))
				goto done;
	}

	VX_WAIT_POINT("hnsw_insert_neighbors");

	/* the element record: head, level-0 list, vector (W1, W2) */
	off = HnswAllocateRecord(index, &shape, true, 0, &reused);
	id = HnswOffsetId(off);
	VX_WAIT_POINT("hnsw_insert_reserved");
	if (level > 0)
	{
		HnswUpper u;
		Size		usize = HnswUpperSize(shape.m, level);

		upperoff = HnswAllocateRecord(index, &shape, false, level, &reused);
		u = palloc0(usize);
		u->kind = HNSW_KIND_UPPER;
		u->nlevels = level;
		u->owner = id;
		u->xid = HnswReservingXid();
		for (int l = 1; l <= level; l++)
		{
			uint32	   *list = u->neighbors + (l - 1) * shape.m;

			for (int i = 0; i < shape.m; i++)
				list[i] = i < nnbrs[l] ? nbrs[l][i].id : HNSW_INVALID_ID;
		}
		HnswWriteRecordBytes(index, upperoff, (char *) u, usize, usize);
	}
	e = (HnswElement) rec;
	e->kind = HNSW_KIND_ELEMENT;
	e->level = level;
	e->flags = 0;
	e->ntids = 1;
	e->upper = level > 0 ? HnswOffsetId(upperoff) : HNSW_INVALID_ID;
	e->heaptids[0] = *tid;
	for (int i = 0; i < 2 * shape.m; i++)
		e->neighbors[i] = i < nnbrs[0] ? nbrs[0][i].id : HNSW_INVALID_ID;
	HnswWriteRecordBytes(index, off, rec, shape.element_size, shape.head_size);

	/* back-links (W3), and a new in-link for those they cut off */
	for (int l = 0; l <= level; l++)
	{
		uint32		evicted[2 * HNSW_MAX_M + 1];
		int			nevicted = HnswLinkBack(&lists.ops, nbrs[l], nnbrs[l], l, id,
											l == 0 ? evicted : NULL);

		if (nevicted > 0 && hnsw_insert_relink)
			HnswRelinkEvicted(&lists.ops, id, evicted, nevicted, NotLive, &pg, Reached, visited);
	}

	/* entry point (W4) */
	if (was_empty || level > meta.entry_level)
	{
		HnswMetaPageData now;

		HnswSetEntryPoint(index, id, level, true);
		HnswReadMeta(index, &now);
		if (was_empty && now.entry_point != id)
		{
			/* another first insert won: connect to its graph */
			FindNeighbors(&pg, vc, now.entry_point, now.entry_level, Min(level, now.entry_level),
						  nbrs, nnbrs, nearest, &nnearest, visited);
			for (int l = 0; l <= Min(level, now.entry_level); l++)
			{
				uint64		loff = HnswListOffset(&pg, id, l);
				int			max = l == 0 ? 2 * shape.m : shape.m;
				uint32	   *ids = palloc(sizeof(uint32) * max);

				for (int i = 0; i < nnbrs[l]; i++)
					ids[i] = nbrs[l][i].id;
				if (loff != 0)
					HnswWriteList(index, loff, max, ids, nnbrs[l], ids, 0);
				(void) HnswLinkBack(&lists.ops, nbrs[l], nnbrs[l], l, id, NULL);
			}
		}
	}

done:
	HnswEndInsert(index);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

bool
hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
		   Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
		   IndexInfo *indexInfo)
{
	const HnswShape *shape;
	float	   *vec;

	if (isnull[0])
		return false;
	shape = HnswGetShape(index);
	vec = palloc(shape->codec.vec_bytes);
	if (HnswPrepareVector(shape, values[0], vec))
		HnswInsertVector(index, vec, heap_tid);
	pfree(vec);
	return false;
}

/*-------------------------------------------------------------------------
 *
 * hnswbuild.c
 *	  CREATE INDEX for HNSW: the graph is built in a memory arena laid out
 *	  exactly as the on-disk element stream (hnsw.h), so writing the index
 *	  is a copy of the arena into pages, logged in bulk.  With parallel
 *	  workers the arena lives in dynamic shared memory and every
 *	  participant inserts into it concurrently (a spinlock word per element
 *	  guards its lists).  The arena never exceeds maintenance_work_mem:
 *	  tuples that do not fit are inserted afterwards through the on-disk
 *	  path (hnswinsert.c), announced by a NOTICE.
 *
 * Phases reported in pg_stat_progress_create_index: "loading tuples"
 * (building the graph in memory), "writing index pages", "inserting
 * tuples beyond maintenance_work_mem".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/statvfs.h>

#include "access/parallel.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "pgstat.h"
#include "storage/buffile.h"
#include "storage/bufmgr.h"
#include "storage/condition_variable.h"
#include "storage/s_lock.h"
#include "storage/sharedfileset.h"
#include "storage/smgr.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#ifdef VX_HAVE_NUMA
#include <numa.h>
#endif

#include "hnsw.h"
#include "sparsevec.h"
#include "vxindex.h"

#define PARALLEL_KEY_SHARED		UINT64CONST(0xB100000000000001)
#define PARALLEL_KEY_ARENA		UINT64CONST(0xB100000000000002)
#define PARALLEL_KEY_FILESET	UINT64CONST(0xB100000000000003)
#define PARALLEL_KEY_QUERY_TEXT UINT64CONST(0xB100000000000004)

/* ---------------------------------------------------------------- arena */

/*
 * State shared by all participants of one build (in DSM for a parallel
 * build, else local).  mutex guards the fields after it.
 */
typedef struct HnswBuildShared
{
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	HnswShape	shape;
	Size		arena_size;		/* bytes of stream the arena can hold */
	int			nparticipants;

	slock_t		mutex;
	uint64		stream_end;		/* bytes allocated in the arena */
	uint32		entry_point;
	int32		entry_level;
	bool		full;			/* the arena is full: spill from now on */
	int			ndone;			/* participants that finished scanning */
	double		reltuples;		/* heap tuples seen */
	double		indtuples;		/* tuples in the arena */
	double		spilled;		/* tuples spilled */
	ConditionVariable donecv;

	/* parallel heap scan state, variable size, must come last */
	ParallelTableScanDescData heapdesc;
} HnswBuildShared;

typedef struct HnswBuildState
{
	HnswBuildShared *shared;
	char	   *arena;
	bool		locking;		/* several participants share the arena */
	Relation	index;
	HnswShape	shape;
	MemoryContext buildcxt;		/* lives as long as the build */
	MemoryContext tmpcxt;		/* reset after every tuple */
	float	   *vec;
	/* the pair distance's decoded first element (ArenaPair) */
	uint32		pair_id;
	float	   *pair_vec;
	VxQuery	pair_query;
	/* spill file of this participant (parallel) or NULL */
	SharedFileSet *fileset;
	BufFile    *spill;
	/* serial build only: the arena was written out, insert on disk */
	bool		on_disk;
	/* serial build only: the arena may grow to this many bytes (ArenaGrow) */
	Size		arena_limit;
	double		tuples_done;
	bool		leader;
} HnswBuildState;

/* the arena graph: the search core's reader over arena memory */
typedef struct ArenaGraph
{
	HnswGraph	graph;
	HnswBuildState *bs;
	VxQuery	query;
} ArenaGraph;

static inline HnswElement
ArenaElement(HnswBuildState *bs, uint32 id)
{
	return (HnswElement) (bs->arena + HnswIdOffset(id));
}

static inline VxQuant *
ArenaQuant(HnswBuildState *bs, uint32 id)
{
	return HnswElementQuant(bs->arena + HnswIdOffset(id), bs->shape.head_size);
}

static inline const uint8 *
ArenaCodes(HnswBuildState *bs, uint32 id)
{
	return (const uint8 *) (bs->arena + HnswIdOffset(id) + bs->shape.head_size);
}

static inline uint32 *
ArenaList(HnswBuildState *bs, uint32 id, int level)
{
	HnswElement e = ArenaElement(bs, id);

	if (level == 0)
		return e->neighbors;
	return ((HnswUpper) (bs->arena + HnswIdOffset(e->upper)))->neighbors + (level - 1) * bs->shape.m;
}

/* the per-element lock of a shared arena (held for a few list copies) */
static inline void
LockElement(HnswBuildState *bs, uint32 id)
{
	if (bs->locking)
	{
		pg_atomic_uint32 *lock = &ArenaElement(bs, id)->lock;

		if (pg_atomic_exchange_u32(lock, 1) != 0)
		{
			SpinDelayStatus delay;

			init_local_spin_delay(&delay);
			while (pg_atomic_exchange_u32(lock, 1) != 0)
				perform_spin_delay(&delay);
			finish_spin_delay(&delay);
		}
	}
}

static inline void
UnlockElement(HnswBuildState *bs, uint32 id)
{
	if (bs->locking)
	{
		pg_write_barrier();
		pg_atomic_write_u32(&ArenaElement(bs, id)->lock, 0);
	}
}

static int	ArenaNeighbors(HnswGraph *g, uint32 id, int level, uint32 *out, uint8 *flags);

static float
ArenaDistance(HnswGraph *g, uint32 id)
{
	ArenaGraph *ag = (ArenaGraph *) g;

	g->visited_elements++;
	return VxQueryDistance(&g->shape->codec, &ag->query, ArenaQuant(ag->bs, id), ArenaCodes(ag->bs, id));
}

static void
ArenaGraphInit(ArenaGraph *ag, HnswBuildState *bs, const float *query)
{
	memset(ag, 0, sizeof(ArenaGraph));
	ag->graph.distance = ArenaDistance;
	ag->graph.neighbors = ArenaNeighbors;
	ag->graph.shape = &bs->shape;
	ag->bs = bs;
	VxQueryInit(&ag->query, &bs->shape.codec, query);
}

/*
 * Copy id's list at level into out, under the element's lock; returns its
 * length, or -1 if id has no list at that level.
 */
static int
ArenaCopyList(HnswBuildState *bs, uint32 id, int level, uint32 *out)
{
	int			max = level == 0 ? 2 * bs->shape.m : bs->shape.m;
	const uint32 *list;
	int			n = 0;

	if (level > ArenaElement(bs, id)->level)
		return -1;
	list = ArenaList(bs, id, level);
	LockElement(bs, id);
	while (n < max && list[n] != HNSW_INVALID_ID)
	{
		out[n] = list[n];
		n++;
	}
	UnlockElement(bs, id);
	return n;
}

static int
ArenaNeighbors(HnswGraph *g, uint32 id, int level, uint32 *out, uint8 *flags)
{
	if (flags)
		*flags = 0;
	return Max(ArenaCopyList(((ArenaGraph *) g)->bs, id, level, out), 0);
}

/*
 * HnswPairFn over the arena: both elements' codes in integers; for L1, a
 * decoded as a query against b's codes (the heuristic calls it with the
 * same a for runs of b, so a stays decoded).  An element's codes never
 * change once it is published.
 */
static float
ArenaPair(void *arg, uint32 a, uint32 b)
{
	HnswBuildState *bs = (HnswBuildState *) arg;

	if (VxPairExact(&bs->shape.codec))
		return VxPairDistance(&bs->shape.codec, ArenaQuant(bs, a), ArenaCodes(bs, a),
								ArenaQuant(bs, b), ArenaCodes(bs, b));
	if (bs->pair_id != a)
	{
		VxDecodeVector(&bs->shape.codec, ArenaQuant(bs, a), ArenaCodes(bs, a), bs->pair_vec);
		VxQueryInit(&bs->pair_query, &bs->shape.codec, bs->pair_vec);
		bs->pair_id = a;
	}
	return VxQueryDistance(&bs->shape.codec, &bs->pair_query, ArenaQuant(bs, b), ArenaCodes(bs, b));
}

/*
 * Reserve an element record (and an UPPER record for level > 0) in the
 * arena; returns false if they do not fit.
 */
static bool
ArenaAllocate(HnswBuildState *bs, int level, uint32 *id, uint32 *upper)
{
	HnswBuildShared *sh = bs->shared;
	uint64		end;
	uint64		off;
	uint64		uoff = 0;
	uint64		padfrom[2];
	int			npad = 0;
	bool		ok;

	SpinLockAcquire(&sh->mutex);
	end = sh->stream_end;
	off = HnswPlaceRecord(end, bs->shape.head_size);
	if (off != end)
		padfrom[npad++] = end;
	end = off + bs->shape.element_size;
	if (level > 0)
	{
		Size		usize = HnswUpperSize(bs->shape.m, level);

		uoff = HnswPlaceRecord(end, usize);
		if (uoff != end)
			padfrom[npad++] = end;
		end = uoff + usize;
	}
	ok = !sh->full && end <= sh->arena_size;
	if (ok)
		sh->stream_end = end;
	else
		sh->full = true;
	SpinLockRelease(&sh->mutex);
	if (!ok)
		return false;

	for (int i = 0; i < npad; i++)
	{
		HnswPadData *pad = (HnswPadData *) (bs->arena + padfrom[i]);

		pad->kind = HNSW_KIND_PAD;
		pad->bytes = HNSW_DATA_SIZE - HnswOffsetInPage(padfrom[i]);
	}
	*id = HnswOffsetId(off);
	*upper = level > 0 ? HnswOffsetId(uoff) : HNSW_INVALID_ID;
	return true;
}

/*
 * The arena's lists as the prune-and-retry step sees them (HnswListOps):
 * copied and replaced under the element's lock.  Every element of the
 * arena is live.
 */
static int
ArenaListRead(void *arg, uint32 id, int level, uint32 *out, uint64 *where)
{
	*where = 0;
	return ArenaCopyList((HnswBuildState *) arg, id, level, out);
}

static bool
ArenaListWrite(void *arg, uint32 id, int level, uint64 where, const uint32 *ids, int n,
			   const uint32 *old, int nold)
{
	HnswBuildState *bs = (HnswBuildState *) arg;
	int			max = level == 0 ? 2 * bs->shape.m : bs->shape.m;
	uint32	   *list = ArenaList(bs, id, level);
	bool		same;

	LockElement(bs, id);
	/* the list still holds exactly old[] */
	same = nold == max || list[nold] == HNSW_INVALID_ID;
	for (int i = 0; i < nold && same; i++)
		same = list[i] == old[i];
	if (same)
		for (int i = 0; i < max; i++)
			list[i] = i < n ? ids[i] : HNSW_INVALID_ID;
	UnlockElement(bs, id);
	return same;
}

/*
 * The arena's list operations.  A step retries until it applies: a write
 * fails only when another participant changed the list in the meantime,
 * which costs that participant a memory copy under the element's lock, so
 * every retry follows progress and the loop ends; giving up would leave
 * a parallel build with fewer links than a serial one makes.
 */
static void
ArenaListsInit(HnswBuildState *bs, HnswListOps *ops)
{
	ops->read = ArenaListRead;
	ops->write = ArenaListWrite;
	ops->arg = bs;
	ops->pair = ArenaPair;
	ops->pair_arg = bs;
	ops->shape = &bs->shape;
	ops->attempts = 0;
}

/*
 * Search the arena for the neighbours of the query of ag at levels
 * 0..level from entry point ep of level eplevel (Algorithm 1's search
 * phase): fills nbrs[l] (at most 2m at level 0, m above) and leaves the
 * ef_construction nearest at level 0 in w[0..*nw).
 */
static void
ArenaFindNeighbors(HnswBuildState *bs, ArenaGraph *ag, uint32 ep, int eplevel, int level,
				   HnswCandidate **nbrs, int *nnbrs, HnswCandidate *w, int *nw)
{
	const HnswShape *shape = &bs->shape;
	VxIdHash   *visited = VxIdHashCreate(shape->ef_construction * shape->m * 2);
	HnswCandidate entry;

	entry.id = ep;
	entry.distance = ArenaDistance(&ag->graph, ep);
	if (eplevel > level)
		entry.id = HnswGreedyDescend(&ag->graph, ep, &entry.distance, eplevel, level + 1);
	w[0] = entry;
	*nw = 1;
	for (int l = Min(level, eplevel); l >= 0; l--)
	{
		HnswSearch	s = {
			.graph = &ag->graph,
			.entries = w,
			.nentries = *nw,
			.ef = shape->ef_construction,
			.level = l,
			.visited = visited,
			.out = w,
		};

		VxIdHashReset(visited);
		for (int i = 0; i < *nw; i++)
			VxIdHashTestAndAdd(visited, w[i].id);
		*nw = HnswSearchLayer(&s);
		nnbrs[l] = HnswSelectNeighbors(shape, w, *nw, l == 0 ? 2 * shape->m : shape->m,
									   ArenaPair, bs, nbrs[l]);
	}
}

/*
 * Identical codes with room for another TID take this one (duplicates
 * share an element).  Not only the nearest result: another element within
 * the quantization error can come before the vector's own twin.  Returns
 * true if one of w[0..nw) took tid.
 */
static bool
ArenaAddToDuplicate(HnswBuildState *bs, const HnswCandidate *w, int nw, const VxQuant *quant,
					const uint8 *codes, ItemPointer tid)
{
	for (int i = 0; i < nw; i++)
	{
		HnswElement dup = ArenaElement(bs, w[i].id);
		VxQuant  *dq = ArenaQuant(bs, w[i].id);
		bool		added = false;

		if (dq->lo != quant->lo || dq->step != quant->step ||
			memcmp(ArenaCodes(bs, w[i].id), codes, bs->shape.codec.code_bytes) != 0)
			continue;
		LockElement(bs, w[i].id);
		if (dup->ntids < HNSW_HEAPTIDS)
		{
			dup->heaptids[dup->ntids++] = *tid;
			dq->err = Max(dq->err, quant->err);
			added = true;
		}
		UnlockElement(bs, w[i].id);
		if (added)
			return true;
	}
	return false;
}

/*
 * Write the new element id (and its UPPER record upper, level > 0) with
 * its lists nbrs[l][0..nnbrs[l]), whole, before anything points to it.
 */
static void
ArenaWriteElement(HnswBuildState *bs, uint32 id, uint32 upper, int level, HnswCandidate **nbrs,
				  const int *nnbrs, const VxQuant *quant, const uint8 *codes, ItemPointer tid)
{
	const HnswShape *shape = &bs->shape;
	HnswElement e = ArenaElement(bs, id);

	e->kind = HNSW_KIND_ELEMENT;
	e->level = level;
	e->flags = 0;
	e->ntids = 1;
	e->upper = upper;
	e->heaptids[0] = *tid;
	pg_atomic_init_u32(&e->lock, 0);
	for (int i = 0; i < 2 * shape->m; i++)
		e->neighbors[i] = i < nnbrs[0] ? nbrs[0][i].id : HNSW_INVALID_ID;
	*HnswElementQuant(e, shape->head_size) = *quant;
	memcpy((char *) e + shape->head_size, codes, shape->codec.code_bytes);
	if (level > 0)
	{
		HnswUpper	u = (HnswUpper) (bs->arena + HnswIdOffset(upper));

		u->kind = HNSW_KIND_UPPER;
		u->nlevels = level;
		u->owner = id;
		for (int l = 1; l <= level; l++)
			for (int i = 0; i < shape->m; i++)
				u->neighbors[(l - 1) * shape->m + i] = i < nnbrs[l] ? nbrs[l][i].id : HNSW_INVALID_ID;
	}
	/* other participants may follow a link to it once the back-links land */
	pg_write_barrier();
}

/*
 * Insert one vector into the arena (Algorithm 1).  Returns false if the
 * arena is full.
 */
static bool
ArenaInsert(HnswBuildState *bs, const float *vec, ItemPointer tid)
{
	HnswBuildShared *sh = bs->shared;
	const HnswShape *shape = &bs->shape;
	ArenaGraph	ag;
	int			level = HnswRandomLevel(shape, tid);
	uint32		ep;
	int			eplevel;
	uint32		id,
				upper;
	HnswCandidate *w;
	HnswCandidate *nbrs[HNSW_MAX_LEVEL + 1];
	int			nnbrs[HNSW_MAX_LEVEL + 1];
	int			nw = 0;
	VxQuant	quant;
	uint8	   *codes = palloc(shape->codec.code_bytes);
	HnswListOps lists;

	ArenaGraphInit(&ag, bs, vec);
	VxEncodeVector(&shape->codec, vec, &quant, codes);

	SpinLockAcquire(&sh->mutex);
	ep = sh->entry_point;
	eplevel = sh->entry_level;
	SpinLockRelease(&sh->mutex);

	w = palloc(sizeof(HnswCandidate) * shape->ef_construction);
	for (int l = 0; l <= level; l++)
	{
		nbrs[l] = palloc(sizeof(HnswCandidate) * 2 * shape->m);
		nnbrs[l] = 0;
	}

	if (ep != HNSW_INVALID_ID)
	{
		ArenaFindNeighbors(bs, &ag, ep, eplevel, level, nbrs, nnbrs, w, &nw);
		if (ArenaAddToDuplicate(bs, w, nw, &quant, codes, tid))
			return true;
	}

	if (!ArenaAllocate(bs, level, &id, &upper))
		return false;
	ArenaWriteElement(bs, id, upper, level, nbrs, nnbrs, &quant, codes, tid);

	ArenaListsInit(bs, &lists);
	for (int l = 0; l <= level; l++)
		(void) HnswLinkBack(&lists, nbrs[l], nnbrs[l], l, id, NULL);

	if (level > eplevel || ep == HNSW_INVALID_ID)
	{
		SpinLockAcquire(&sh->mutex);
		if (sh->entry_point == HNSW_INVALID_ID || level > sh->entry_level)
		{
			sh->entry_point = id;
			sh->entry_level = level;
		}
		SpinLockRelease(&sh->mutex);
	}
	return true;
}

/* ---------------------------------------------------------------- reconnect */

typedef struct ArenaReconnectArg
{
	HnswBuildState *bs;
	int			max;
	ArenaGraph	ag;
	float	   *vec;			/* the decoded vector the graph searches for */
	MemoryContext graphcxt;		/* the graph's query (a sparse one's dense
								 * array): reset for each graph */
} ArenaReconnectArg;

static int
ArenaReconnectRead(void *arg, uint32 id, uint32 *out)
{
	ArenaReconnectArg *a = (ArenaReconnectArg *) arg;
	const uint32 *list = ArenaElement(a->bs, id)->neighbors;
	int			n = 0;

	while (n < a->max && list[n] != HNSW_INVALID_ID)
	{
		out[n] = list[n];
		n++;
	}
	return n;
}

static bool
ArenaReconnectWrite(void *arg, uint32 id, const uint32 *old, int nold, const uint32 *ids, int n)
{
	ArenaReconnectArg *a = (ArenaReconnectArg *) arg;
	uint32	   *list = ArenaElement(a->bs, id)->neighbors;

	for (int i = 0; i < a->max; i++)
		list[i] = i < n ? ids[i] : HNSW_INVALID_ID;
	return true;
}

static float
ArenaReconnectPair(void *arg, uint32 a, uint32 b)
{
	return ArenaPair(((ArenaReconnectArg *) arg)->bs, a, b);
}

static HnswGraph *
ArenaReconnectGraph(void *arg, uint32 x)
{
	ArenaReconnectArg *a = (ArenaReconnectArg *) arg;
	MemoryContext old;

	/* one graph at a time: the previous one's memory is done with */
	MemoryContextReset(a->graphcxt);
	old = MemoryContextSwitchTo(a->graphcxt);
	VxDecodeVector(&a->bs->shape.codec, ArenaQuant(a->bs, x), ArenaCodes(a->bs, x), a->vec);
	ArenaGraphInit(&a->ag, a->bs, a->vec);
	MemoryContextSwitchTo(old);
	return &a->ag.graph;
}

/* for_each_live over the arena: every element is live during the build */
static void
ArenaForEachLive(void *arg, HnswIdFn fn, void *fnarg)
{
	ArenaReconnectArg *a = (ArenaReconnectArg *) arg;
	HnswBuildState *bs = a->bs;
	HnswStreamCursor c;

	HnswStreamBeginArena(&c, bs->index, &bs->shape, bs->arena, bs->shared->stream_end);
	while (HnswStreamNext(&c))
		if (c.rec[0] == HNSW_KIND_ELEMENT)
			fn(fnarg, HnswOffsetId(c.pos));
	HnswStreamEnd(&c);
}

static void
ArenaPause(void *arg)
{
	CHECK_FOR_INTERRUPTS();
}

/*
 * After the last insert, reconnect the elements pruning cut off (they
 * could never be found).  Single-threaded.
 */
static void
ArenaReconnect(HnswBuildState *bs)
{
	HnswBuildShared *sh = bs->shared;
	int			fixed;
	ArenaReconnectArg a = {.bs = bs, .max = 2 * bs->shape.m,
		.vec = palloc(bs->shape.codec.vec_bytes),
	.graphcxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw reconnect graph", ALLOCSET_SMALL_SIZES)};
	HnswReconnectOps ops = {
		.read = ArenaReconnectRead,
		.write = ArenaReconnectWrite,
		.pair = ArenaReconnectPair,
		.graph = ArenaReconnectGraph,
		.for_each_live = ArenaForEachLive,
		.pause = ArenaPause,
		.arg = &a,
	};

	fixed = HnswReconnect(&bs->shape, HnswOffsetId(sh->stream_end) + 1, sh->entry_point,
						  sh->entry_level, &ops);
	MemoryContextDelete(a.graphcxt);
	elog(DEBUG1, "hnsw build: %d elements were unreachable at level 0 and were reconnected", fixed);
	pfree(a.vec);
}

/* ---------------------------------------------------------------- pages */

/*
 * Write the arena as the index's pages: meta page, then every page of the
 * stream, logged in batches with log_newpages and written through smgr
 * (as nbtree's sorted build), then synced.  Without log, on-disk inserts
 * follow and the build logs every page at its end instead (W5).
 */
static void
WriteArena(HnswBuildState *bs, bool log)
{
	HnswBuildShared *sh = bs->shared;
	Relation	index = bs->index;
	bool		wal = log && RelationNeedsWAL(index);
	BlockNumber nblocks = HNSW_FIRST_DATA_BLKNO +
	(BlockNumber) ((sh->stream_end + HNSW_DATA_SIZE - 1) / HNSW_DATA_SIZE);
	PGAlignedBlock *batch = palloc(sizeof(PGAlignedBlock) * XLR_MAX_BLOCK_ID);
	BlockNumber blknos[XLR_MAX_BLOCK_ID];
	Page		pages[XLR_MAX_BLOCK_ID];
	int			n = 0;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_WRITE);
	for (BlockNumber blk = 0; blk < nblocks; blk++)
	{
		Page		page = (Page) batch[n].data;

		if (blk == HNSW_META_BLKNO)
		{
			HnswMetaPage meta;

			HnswInitMetaPage(page, &bs->shape);
			meta = HnswPageGetMeta(page);
			meta->entry_point = sh->entry_point;
			meta->entry_level = sh->entry_point == HNSW_INVALID_ID ? -1 : sh->entry_level;
			meta->stream_end = sh->stream_end;
		}
		else
		{
			uint64		start = (uint64) (blk - HNSW_FIRST_DATA_BLKNO) * HNSW_DATA_SIZE;
			Size		len = Min(HNSW_DATA_SIZE, sh->stream_end - start);

			HnswInitDataPage(page);
			memcpy(HnswPageData(page), bs->arena + start, len);
			((PageHeader) page)->pd_lower = HNSW_DATA_OFFSET + len;
		}
		blknos[n] = blk;
		pages[n] = page;
		n++;
		if (n == XLR_MAX_BLOCK_ID || blk == nblocks - 1)
		{
			if (wal)
				log_newpages(&index->rd_node, MAIN_FORKNUM, n, blknos, pages, true);
			for (int i = 0; i < n; i++)
			{
				PageSetChecksumInplace(pages[i], blknos[i]);
				smgrextend(RelationGetSmgr(index), MAIN_FORKNUM, blknos[i], (char *) pages[i], true);
			}
			n = 0;
			CHECK_FOR_INTERRUPTS();
		}
	}
	/* see nbtsort.c: a checkpoint during the build cannot have flushed these */
	if (wal)
		smgrimmedsync(RelationGetSmgr(index), MAIN_FORKNUM);
	pfree(batch);
}

/* ---------------------------------------------------------------- scan */

static void
Spill(HnswBuildState *bs, const float *vec, ItemPointer tid)
{
	if (bs->spill == NULL)
	{
		char		name[64];
		MemoryContext old = MemoryContextSwitchTo(bs->buildcxt);

		/* outlives the per-tuple context this is called in */
		snprintf(name, sizeof(name), "hnsw-spill-%d", ParallelWorkerNumber + 1);
		bs->spill = BufFileCreateFileSet(&bs->fileset->fs, name);
		MemoryContextSwitchTo(old);
	}
	BufFileWrite(bs->spill, tid, sizeof(ItemPointerData));
	BufFileWrite(bs->spill, (void *) vec, VxVectorBytes(&bs->shape.codec, vec));
	SpinLockAcquire(&bs->shared->mutex);
	bs->shared->spilled += 1;
	SpinLockRelease(&bs->shared->mutex);
}

static void
SpillNotice(HnswBuildState *bs)
{
	ereport(NOTICE,
			(errmsg("hnsw graph no longer fits in maintenance_work_mem after %.0f tuples",
					bs->shared->indtuples),
			 errdetail("Building continues with slower on-disk insertion."),
			 errhint("Increase maintenance_work_mem to build faster.")));
}

/*
 * A serial build's arena is sized by the table's estimated rows, which
 * undercounts rows whose vectors are compressed or TOASTed, or sparse ones
 * smaller than the capacity: double it, within maintenance_work_mem,
 * before going on disk.  Nothing keeps a pointer into the arena between
 * inserts (elements are named by offset).  False when at the limit.
 */
static bool
ArenaGrow(HnswBuildState *bs)
{
	HnswBuildShared *sh = bs->shared;
	Size		old = sh->arena_size;
	Size		size = TYPEALIGN_DOWN(HNSW_DATA_SIZE, Min(2 * old, bs->arena_limit));

	if (bs->locking || size <= old)
		return false;
	bs->arena = repalloc_huge(bs->arena, size);
	memset(bs->arena + old, 0, size - old);
	sh->arena_size = size;
	sh->full = false;
	elog(DEBUG1, "hnsw build: arena grown to %zu MB", size >> 20);
	return true;
}

static void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			  bool tupleIsAlive, void *state)
{
	HnswBuildState *bs = (HnswBuildState *) state;
	MemoryContext old;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpcxt);
	if (HnswPrepareVector(&bs->shape, values[0], bs->vec))
	{
		bool		inserted = false;

		if (!bs->on_disk)
		{
			inserted = ArenaInsert(bs, bs->vec, tid);
			if (!inserted && bs->fileset == NULL && ArenaGrow(bs))
				inserted = ArenaInsert(bs, bs->vec, tid);
		}
		if (bs->on_disk)
			HnswInsertVector(index, bs->vec, tid);
		else if (inserted)
		{
			SpinLockAcquire(&bs->shared->mutex);
			bs->shared->indtuples += 1;
			SpinLockRelease(&bs->shared->mutex);
		}
		else if (bs->fileset != NULL)
			Spill(bs, bs->vec, tid);
		else
		{
			/* serial build: write what we have, continue on disk */
			SpillNotice(bs);
			WriteArena(bs, false);
			bs->on_disk = true;
			VxBeginBuildWrites(index);
			pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_OVERFLOW);
			HnswInsertVector(index, bs->vec, tid);
		}
	}
	bs->tuples_done += 1;
	if (bs->leader && ((int64) bs->tuples_done) % 1000 == 0)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->tuples_done);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpcxt);
}

static void
InitBuildState(HnswBuildState *bs, HnswBuildShared *sh, char *arena, Relation index, bool locking)
{
	memset(bs, 0, sizeof(HnswBuildState));
	bs->shared = sh;
	bs->arena = arena;
	bs->locking = locking;
	bs->index = index;
	bs->shape = sh->shape;
	bs->buildcxt = CurrentMemoryContext;
	bs->tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "hnsw build tuple",
									   ALLOCSET_DEFAULT_SIZES);
	bs->vec = palloc(sh->shape.codec.vec_bytes);
	bs->pair_id = HNSW_INVALID_ID;
	bs->pair_vec = palloc(sh->shape.codec.vec_bytes);
}

static void
InitShared(HnswBuildShared *sh, Relation heap, Relation index, const HnswShape *shape,
		   Size arena_size, bool isconcurrent)
{
	memset(sh, 0, offsetof(HnswBuildShared, heapdesc));
	sh->heaprelid = RelationGetRelid(heap);
	sh->indexrelid = RelationGetRelid(index);
	sh->isconcurrent = isconcurrent;
	sh->shape = *shape;
	sh->arena_size = arena_size;
	SpinLockInit(&sh->mutex);
	sh->stream_end = 0;
	sh->entry_point = HNSW_INVALID_ID;
	sh->entry_level = -1;
	ConditionVariableInit(&sh->donecv);
}

/* ---------------------------------------------------------------- parallel */

/* participant's work: scan its share of the heap into the shared arena */
static void
ParallelScan(HnswBuildState *bs, Relation heap, Relation index, IndexInfo *indexInfo)
{
	HnswBuildShared *sh = bs->shared;
	TableScanDesc scan = table_beginscan_parallel(heap, &sh->heapdesc);
	double		reltuples;

	reltuples = table_index_build_scan(heap, index, indexInfo, true, bs->leader,
									   BuildCallback, bs, scan);
	if (bs->spill)
	{
		/* the leader reads it back after every participant is done */
		BufFileExportFileSet(bs->spill);
		BufFileClose(bs->spill);
		bs->spill = NULL;
	}
	SpinLockAcquire(&sh->mutex);
	sh->reltuples += reltuples;
	sh->ndone++;
	SpinLockRelease(&sh->mutex);
	ConditionVariableSignal(&sh->donecv);
}

PGDLLEXPORT void HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc);

void
HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	HnswBuildShared *sh = shm_toc_lookup(toc, PARALLEL_KEY_SHARED, false);
	char	   *arena = shm_toc_lookup(toc, PARALLEL_KEY_ARENA, false);
	SharedFileSet *fileset = shm_toc_lookup(toc, PARALLEL_KEY_FILESET, false);
	char	   *sqltext = shm_toc_lookup(toc, PARALLEL_KEY_QUERY_TEXT, true);
	LOCKMODE	heaplock = sh->isconcurrent ? ShareUpdateExclusiveLock : ShareLock;
	LOCKMODE	indexlock = sh->isconcurrent ? RowExclusiveLock : AccessExclusiveLock;
	Relation	heap,
				index;
	IndexInfo  *indexInfo;
	HnswBuildState bs;

	debug_query_string = sqltext;
	pgstat_report_activity(STATE_RUNNING, debug_query_string);
	SharedFileSetAttach(fileset, seg);
	heap = table_open(sh->heaprelid, heaplock);
	index = index_open(sh->indexrelid, indexlock);
	indexInfo = BuildIndexInfo(index);
	indexInfo->ii_Concurrent = sh->isconcurrent;

	InitBuildState(&bs, sh, arena, index, true);
	bs.fileset = fileset;
	ParallelScan(&bs, heap, index, indexInfo);

	index_close(index, indexlock);
	table_close(heap, heaplock);
}

/* enough free space in /dev/shm (posix DSM) for the arena? */
static bool
ShmHasRoom(Size bytes)
{
	struct statvfs st;

	if (dynamic_shared_memory_type != DSM_IMPL_POSIX)
		return true;
	if (statvfs("/dev/shm", &st) != 0)
		return true;
	return (double) st.f_bavail * st.f_frsize > (double) bytes * 1.1;
}

static void
InterleaveArena(char *arena, Size size)
{
#ifdef VX_HAVE_NUMA
	if (numa_available() >= 0 && numa_num_configured_nodes() > 1)
	{
		numa_interleave_memory(arena, size, numa_all_nodes_ptr);
		elog(DEBUG1, "hnsw build: arena of %zu MB interleaved across %d NUMA nodes",
			 size >> 20, numa_num_configured_nodes());
	}
	else
		elog(DEBUG1, "hnsw build: one NUMA node, arena not interleaved");
#else
	elog(DEBUG1, "hnsw build: built without libnuma, arena not interleaved");
#endif
}

/* after on-disk inserts, as after the arena's: nothing may stay cut off */
static void
ReconnectOnDisk(Relation index)
{
	int			fixed = HnswReconnectIndex(index, HnswGetShape(index), NULL);

	elog(DEBUG1, "hnsw build: %d elements were unreachable at level 0 and were reconnected", fixed);
}

/* the leader inserts what the participants spilled, on disk */
static void
InsertSpilled(Relation index, SharedFileSet *fileset, int nparticipants, float *vec,
			  const VxCodec *codec)
{
	for (int p = 0; p < nparticipants; p++)
	{
		char		name[64];
		BufFile    *f;
		ItemPointerData tid;

		snprintf(name, sizeof(name), "hnsw-spill-%d", p);
		f = BufFileOpenFileSet(&fileset->fs, name, O_RDONLY, true);
		if (f == NULL)
			continue;
		while (BufFileRead(f, &tid, sizeof(tid)) == sizeof(tid))
		{
			Size		bytes = codec->vec_bytes;

			/* a sparse vector's size is in its first word (VxVectorBytes) */
			if (codec->elem == VX_ELEM_SPARSE)
			{
				if (BufFileRead(f, vec, sizeof(int32)) != sizeof(int32) ||
					VX_SPARSE_NNZ(vec) < 0 || VX_SPARSE_NNZ(vec) > SPARSEVEC_MAX_NNZ)
					elog(ERROR, "hnsw build: corrupt spill file");
				bytes = VxVectorBytes(codec, vec) - sizeof(int32);
				if (BufFileRead(f, (char *) vec + sizeof(int32), bytes) != bytes)
					elog(ERROR, "hnsw build: truncated spill file");
			}
			else if (BufFileRead(f, vec, bytes) != bytes)
				elog(ERROR, "hnsw build: truncated spill file");
			HnswInsertVector(index, vec, &tid);
			CHECK_FOR_INTERRUPTS();
		}
		BufFileClose(f);
	}
}

/*
 * Parallel build: leader and workers fill one arena in DSM, then the leader
 * writes it and inserts whatever was spilled.  Returns false (nothing done)
 * if no worker could be launched.
 */
static bool
ParallelBuild(Relation heap, Relation index, IndexInfo *indexInfo, const HnswShape *shape,
			  Size arena_size, int nworkers, double *reltuples, double *indtuples)
{
	ParallelContext *pcxt;
	Snapshot	snapshot;
	Size		sharedsize;
	HnswBuildShared *sh;
	char	   *arena;
	SharedFileSet *fileset;
	char	   *sqltext;
	HnswBuildState bs;
	int			nparticipants;

	EnterParallelMode();
	pcxt = CreateParallelContext("vectorx", "HnswParallelBuildMain", nworkers);
	snapshot = indexInfo->ii_Concurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;
	sharedsize = add_size(offsetof(HnswBuildShared, heapdesc), table_parallelscan_estimate(heap, snapshot));
	shm_toc_estimate_chunk(&pcxt->estimator, sharedsize);
	shm_toc_estimate_chunk(&pcxt->estimator, arena_size);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(SharedFileSet));
	shm_toc_estimate_keys(&pcxt->estimator, 3);
	if (debug_query_string)
	{
		shm_toc_estimate_chunk(&pcxt->estimator, strlen(debug_query_string) + 1);
		shm_toc_estimate_keys(&pcxt->estimator, 1);
	}
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		if (IsMVCCSnapshot(snapshot))
			UnregisterSnapshot(snapshot);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}

	sh = shm_toc_allocate(pcxt->toc, sharedsize);
	InitShared(sh, heap, index, shape, arena_size, indexInfo->ii_Concurrent);
	table_parallelscan_initialize(heap, &sh->heapdesc, snapshot);
	arena = shm_toc_allocate(pcxt->toc, arena_size);
	InterleaveArena(arena, arena_size);
	/* unwritten bytes (spare TID slots, padding) go to disk: make them zero */
	memset(arena, 0, arena_size);
	fileset = shm_toc_allocate(pcxt->toc, sizeof(SharedFileSet));
	SharedFileSetInit(fileset, pcxt->seg);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_SHARED, sh);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_ARENA, arena);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_FILESET, fileset);
	if (debug_query_string)
	{
		sqltext = shm_toc_allocate(pcxt->toc, strlen(debug_query_string) + 1);
		strcpy(sqltext, debug_query_string);
		shm_toc_insert(pcxt->toc, PARALLEL_KEY_QUERY_TEXT, sqltext);
	}

	LaunchParallelWorkers(pcxt);
	if (pcxt->nworkers_launched == 0)
	{
		WaitForParallelWorkersToFinish(pcxt);
		if (IsMVCCSnapshot(snapshot))
			UnregisterSnapshot(snapshot);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		return false;
	}
	nparticipants = pcxt->nworkers_launched + 1;
	elog(DEBUG1, "hnsw build: parallel, %d workers and the leader share a %zu MB arena",
		 pcxt->nworkers_launched, arena_size >> 20);

	/* the leader participates */
	InitBuildState(&bs, sh, arena, index, true);
	bs.fileset = fileset;
	bs.leader = true;
	ParallelScan(&bs, heap, index, indexInfo);

	for (;;)
	{
		int			done;

		SpinLockAcquire(&sh->mutex);
		done = sh->ndone;
		SpinLockRelease(&sh->mutex);
		if (done == nparticipants)
			break;
		ConditionVariableSleep(&sh->donecv, WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();
	WaitForParallelWorkersToFinish(pcxt);

	bs.locking = false;
	if (sh->spilled > 0)
		SpillNotice(&bs);
	ArenaReconnect(&bs);
	WriteArena(&bs, sh->spilled == 0);

	/* tuples that did not fit: insert them on disk */
	if (sh->spilled > 0)
	{
		float	   *vec = palloc(shape->codec.vec_bytes);

		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_OVERFLOW);
		VxBeginBuildWrites(index);
		InsertSpilled(index, fileset, nparticipants, vec, &shape->codec);
		SharedFileSetDeleteAll(fileset);
		ReconnectOnDisk(index);
		VxEndBuildWrites(index, true);
	}

	*reltuples = sh->reltuples;
	*indtuples = sh->indtuples + sh->spilled;
	if (IsMVCCSnapshot(snapshot))
		UnregisterSnapshot(snapshot);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	return true;
}

/* ---------------------------------------------------------------- ambuild */

/* the most non-zeros among the rows an index build reads (SparseCapacity) */
typedef struct MaxNnzState
{
	int			max;
	double		rows;
} MaxNnzState;

static void
MaxNnzCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	MaxNnzState *st = (MaxNnzState *) state;
	SparseVector *s;

	if (isnull[0])
		return;
	s = DatumGetSparseVector(values[0]);
	st->max = Max(st->max, s->nnz);
	st->rows += 1;
	if ((Pointer) s != DatumGetPointer(values[0]))
		pfree(s);
}

/*
 * A sparsevec index's capacity when the option nnz is not given: the most
 * non-zeros among the rows, so that no row is approximated, rounded up to
 * a multiple of 8, at least 16 and at most HNSW_AUTO_MAX_NNZ (pgvector
 * indexes up to 1000; rows with more are approximated, not refused).
 * Costs one more pass over the table, much cheaper than the graph; *rows
 * gets the rows it counted (the arena's estimate).  An empty table (and
 * the INIT fork) gets HNSW_DEFAULT_NNZ.
 */
static int
SparseCapacity(Relation heap, Relation index, IndexInfo *indexInfo, double *rows)
{
	MaxNnzState st = {.max = -1,.rows = 0};

	if (heap == NULL)
		return HNSW_DEFAULT_NNZ;
	(void) table_index_build_scan(heap, index, indexInfo, true, false, MaxNnzCallback, &st, NULL);
	*rows = st.rows;
	if (st.max < 0)
		return HNSW_DEFAULT_NNZ;
	return Min(Max(16, (int) TYPEALIGN(8, st.max)), HNSW_AUTO_MAX_NNZ);
}

/* *rows: the rows a sparse capacity pass counted, else left alone */
static void
ShapeForBuild(Relation heap, Relation index, IndexInfo *indexInfo, HnswShape *shape, double *rows)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;
	int			m = opts ? opts->m : HNSW_DEFAULT_M;
	int			efc = opts ? opts->ef_construction : HNSW_DEFAULT_EF_CONSTRUCTION;
	int			nnz = opts ? opts->nnz : 0;
	VxElem		elem = VxIndexElem(index);
	int			dims;

	if (nnz != 0 && elem != VX_ELEM_SPARSE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hnsw option nnz applies to sparsevec columns only"),
				 errhint("Leave nnz out: vectors of other types keep every element.")));
	dims = VxIndexDims(index, HnswMaxDims(elem), "hnsw");
	if (elem == VX_ELEM_SPARSE && nnz == 0)
		nnz = SparseCapacity(heap, index, indexInfo, rows);
	HnswFillShape(shape, dims, m, efc, VxIndexMetric(index), elem, nnz);
}

/* arena bytes for about n elements (stream, padding, upper records) */
static Size
ArenaBytesFor(const HnswShape *shape, double n)
{
	double		per = shape->element_size + shape->head_size / 2.0 +
	HnswUpperSize(shape->m, 1) / (double) (shape->m - 1);

	return (Size) (n * per * 1.05) + 4 * BLCKSZ;
}

IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	HnswShape	shape;
	double		estimate;
	double		counted = -1;
	Size		limit;
	Size		arena_size;
	double		reltuples = 0;
	double		indtuples = 0;
	int			nworkers = 0;
	bool		parallel_done = false;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	ShapeForBuild(heap, index, indexInfo, &shape, &counted);

	/* arena: what the table needs, within maintenance_work_mem */
	estimate = counted >= 0 ? counted : heap->rd_rel->reltuples > 0 ? heap->rd_rel->reltuples :
		(double) RelationGetNumberOfBlocks(heap) *
		(BLCKSZ / (double) ((shape.codec.elem == VX_ELEM_SPARSE ? (Size) shape.codec.code_bytes :
							 shape.codec.vec_bytes) + 64));
	estimate = Max(estimate, 100);
	/* leave room for the build's other allocations (about 1/8, at most 8 MB) */
	limit = (Size) maintenance_work_mem * 1024;
	limit -= Min(limit / 8, (Size) 8 * 1024 * 1024);
	arena_size = Min(ArenaBytesFor(&shape, estimate * 1.1), limit);
	arena_size = TYPEALIGN(HNSW_DATA_SIZE, arena_size);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) estimate);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, HNSW_PHASE_LOAD);

	if (IsNormalProcessingMode() && !IsParallelWorker())
		nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
	if (nworkers > 0 && !ShmHasRoom(arena_size))
	{
		elog(DEBUG1, "hnsw build: not enough shared memory for a %zu MB arena, building serially",
			 arena_size >> 20);
		nworkers = 0;
	}
	if (nworkers > 0)
		parallel_done = ParallelBuild(heap, index, indexInfo, &shape, arena_size, nworkers,
									  &reltuples, &indtuples);

	if (!parallel_done)
	{
		HnswBuildShared sh;
		HnswBuildState bs;
		/* zeroed: unwritten bytes (spare TID slots, padding) go to disk */
		char	   *arena = palloc_extended(arena_size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);

		elog(DEBUG1, "hnsw build: serial, %zu MB arena", arena_size >> 20);
		InitShared(&sh, heap, index, &shape, arena_size, indexInfo->ii_Concurrent);
		InitBuildState(&bs, &sh, arena, index, false);
		bs.leader = true;
		bs.arena_limit = limit;
		reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
										   BuildCallback, &bs, NULL);
		VX_WAIT_POINT("build_scanned");
		if (bs.on_disk)
		{
			ReconnectOnDisk(index);
			VxEndBuildWrites(index, true);
		}
		else
		{
			ArenaReconnect(&bs);
			WriteArena(&bs, true);
		}
		indtuples = bs.tuples_done;
		pfree(bs.arena);
	}

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = indtuples;
	return result;
}

/* the INIT fork of an unlogged index: an empty meta page */
void
hnswbuildempty(Relation index)
{
	HnswShape	shape;
	PGAlignedBlock page;
	Page		pages[1] = {page.data};

	ShapeForBuild(NULL, index, NULL, &shape, NULL);
	HnswInitMetaPage(page.data, &shape);
	VxWriteInitFork(index, pages, 1);
}

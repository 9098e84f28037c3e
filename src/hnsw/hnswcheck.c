/*-------------------------------------------------------------------------
 *
 * hnswcheck.c
 *	  vectorx_hnsw_check(index): verify an HNSW index's structural
 *	  invariants (hnsw.h, I1-I7) and report what it found, for tests and
 *	  for DBAs who suspect a problem.  Read-only; takes AccessShareLock on
 *	  the index and ShareUpdateExclusiveLock on its table, which keeps
 *	  VACUUM out while it reads (VxOpenIndexForCheck: a VACUUM in mid-pass
 *	  looks broken; on a standby AccessShareLock, without that promise).
 *
 *	  ok                  no invariant is violated
 *	  pages, elements     index pages; live elements
 *	  deleted, free, reserved   elements in those states (reserved: by an
 *	                      insert; once its transaction is over, problem I7)
 *	  heap_tids           heap TIDs held by live elements
 *	  max_level           highest level of a live element
 *	  entry_point, entry_level  from the meta page
 *	  links               list entries naming live elements
 *	  links_to_deleted    entries naming DELETED elements (normal between
 *	                      a delete and the next vacuum)
 *	  bad_links           entries naming anything else (I3)
 *	  unreachable         live elements not reachable at level 0 from the
 *	                      entry point (I6: any makes ok false)
 *	  problems            one text per violation found
 *
 *	  HnswIndexStats: the same walk, reported through vectorx_index_stats
 *	  (monitor.c) as the index's statistics (levels, degrees, sizes, and
 *	  the records allocated since VACUUM's last reconnect pass).
 *
 *	  Memory: the live, DELETED and reached sets are HnswIdSet bitmaps over
 *	  the id space (one bit per 16 bytes of stream each, 3/128 of the
 *	  index's size together), plus a queue of 4 bytes per live or DELETED
 *	  element for the reachability walk; all huge allocations, freed with
 *	  the function's memory context.  Hash sets of ids sized by the element
 *	  count (1 << 26 entries at most, then doubling past MaxAllocSize) made
 *	  the check fail from about 67M elements; the bitmaps cover the whole
 *	  uint32 id space (64 GiB of index) in 512 MB each.  Like any query's
 *	  memory it is outside maintenance_work_mem and work_mem.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/tuplestore.h"
#include "miscadmin.h"
#include "storage/procarray.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "hnsw.h"
#include "inspect.h"

typedef struct CheckState
{
	Relation	index;
	HnswShape	shape;
	HnswMetaPageData meta;
	bool		walked;			/* the sets below were filled */
	HnswIdSet	live;			/* ids of live elements */
	HnswIdSet	dead;			/* ids of DELETED elements */
	int64		nlive;
	int64		ndeleted;
	int64		nfree;
	int64		nreserved;
	int64		heap_tids;
	int			max_level;
	int64		links;
	int64		links_to_deleted;
	int64		bad_links;
	int64		at_level[HNSW_MAX_LEVEL + 1];	/* live elements by level */
	int64		degree_min;		/* level-0 links to live elements, per live element */
	int64		degree_max;
	int64		degree_sum;
	List	   *problems;
} CheckState;

#define Problem(cs, ...) VxProblem(&(cs)->problems, __VA_ARGS__)

/*
 * Walk the stream (I2); pass 1 classifies elements, pass 2 checks lists.
 */
static void
Walk(CheckState *cs, int pass)
{
	HnswStreamCursor c;
	int			max0 = 2 * cs->shape.m;

	HnswStreamBegin(&c, cs->index, &cs->shape, cs->meta.stream_end, NULL, BUFFER_LOCK_SHARE);
	c.tolerant = true;			/* a bad record is a problem to report */
	while (HnswStreamNext(&c))
	{
		char	   *rec = c.rec;
		uint64		pos = c.pos;

		if (rec[0] == HNSW_KIND_ELEMENT)
		{
			HnswElement e = (HnswElement) rec;
			uint32		id = HnswOffsetId(pos);

			if (pass == 1)
			{
				if (e->flags & HNSW_FREE)
					cs->nfree++;
				else if (e->flags & HNSW_RESERVED)
				{
					/* I7: upper holds the xid of the insert that reserved it */
					cs->nreserved++;
					if (!TransactionIdIsInProgress(e->upper))
						Problem(cs, "I7: element %u is reserved by transaction %u, which is no longer running",
								id, e->upper);
				}
				else if (e->flags & HNSW_DELETED)
				{
					cs->ndeleted++;
					HnswIdSetAdd(&cs->dead, id);
				}
				else
				{
					if (e->ntids < 1 || e->ntids > HNSW_HEAPTIDS)
						Problem(cs, "element %u has %d heap TIDs", id, e->ntids);
					if (e->level > HNSW_MAX_LEVEL)
						Problem(cs, "element %u has level %d", id, e->level);
					if (e->level > 0 && e->upper == HNSW_INVALID_ID)
						Problem(cs, "I4: element %u of level %d has no upper record", id, e->level);
					cs->heap_tids += e->ntids;
					cs->max_level = Max(cs->max_level, e->level);
					cs->at_level[Min(e->level, HNSW_MAX_LEVEL)]++;
					HnswIdSetAdd(&cs->live, id);
					cs->nlive++;
				}
			}
			else if (e->flags == 0)
			{
				int64		degree = 0;

				for (int i = 0; i < max0 && e->neighbors[i] != HNSW_INVALID_ID; i++)
				{
					uint32		n = e->neighbors[i];

					if (HnswIdSetHas(&cs->live, n))
						cs->links++, degree++;
					else if (HnswIdSetHas(&cs->dead, n))
						cs->links_to_deleted++;
					else
					{
						cs->bad_links++;
						Problem(cs, "I3: element %u level 0 names %u, not an element", id, n);
					}
				}
				cs->degree_min = Min(cs->degree_min, degree);
				cs->degree_max = Max(cs->degree_max, degree);
				cs->degree_sum += degree;
			}
		}
		else if (rec[0] == HNSW_KIND_UPPER && pass == 2)
		{
			HnswUpper u = (HnswUpper) rec;

			if (u->owner != HNSW_INVALID_ID && HnswIdSetHas(&cs->live, u->owner))
			{
				for (int l = 1; l <= u->nlevels; l++)
				{
					const uint32 *list = u->neighbors + (l - 1) * cs->shape.m;

					for (int i = 0; i < cs->shape.m && list[i] != HNSW_INVALID_ID; i++)
					{
						if (HnswIdSetHas(&cs->live, list[i]))
							cs->links++;
						else if (HnswIdSetHas(&cs->dead, list[i]))
							cs->links_to_deleted++;
						else
						{
							cs->bad_links++;
							Problem(cs, "I3: element %u level %d names %u, not an element",
									u->owner, l, list[i]);
						}
					}
				}
			}
		}
	}
	if (c.broken)
	{
		if (pass == 1)
			Problem(cs, "I2: no valid record at stream offset %llu (kind %d)",
					(unsigned long long) c.pos, c.rec[0]);
	}
	else if (pass == 1 && c.next != c.end)
		Problem(cs, "I2: the stream walk ends at %llu, the meta page says %llu",
				(unsigned long long) c.next, (unsigned long long) c.end);
	HnswStreamEnd(&c);
}

/* read the meta page and walk the stream twice; returns the index's pages */
static BlockNumber
Collect(CheckState *cs, Relation index)
{
	BlockNumber nblocks;

	memset(cs, 0, sizeof(CheckState));
	cs->index = index;
	HnswReadMeta(index, &cs->meta);
	cs->shape = *HnswGetShape(index);
	nblocks = RelationGetNumberOfBlocks(index);
	cs->max_level = -1;
	cs->degree_min = PG_INT64_MAX;
	if (cs->meta.stream_end > (uint64) (nblocks - HNSW_FIRST_DATA_BLKNO) * HNSW_DATA_SIZE)
		Problem(cs, "I1: stream end %llu lies beyond the %u pages",
				(unsigned long long) cs->meta.stream_end, nblocks);
	else
	{
		/* ids name 16-byte units of the stream; I1 bounds it by the pages */
		uint32		limit = (uint32) Min((uint64) HnswOffsetId(cs->meta.stream_end) + 1, PG_UINT32_MAX);

		HnswIdSetInit(&cs->live, limit, false);
		HnswIdSetInit(&cs->dead, limit, false);
		cs->walked = true;
		Walk(cs, 1);
		Walk(cs, 2);
	}
	return nblocks;
}

/*
 * vectorx_index_stats for an hnsw index: the figures of the walk above
 * (no reachability search: that is vectorx_hnsw_check's job, and it costs
 * a random read per element).
 */
void
HnswIndexStats(Relation index, VxStatsSink *sink)
{
	CheckState	cs;
	BlockNumber nblocks = Collect(&cs, index);
	char		desc[128];

	VxStat(sink, "dimensions", cs.shape.codec.dims, "vector dimensions");
	if (cs.shape.codec.elem == VX_ELEM_SPARSE)
		VxStat(sink, "nnz", cs.shape.codec.nnz,
			   "non-zero elements an element keeps (sparsevec; the largest, the rest is error)");
	VxStat(sink, "m", cs.shape.m, "links per element and level (2m at level 0)");
	VxStat(sink, "ef_construction", cs.meta.ef_construction, "beam width of the build and inserts");
	VxStat(sink, "pages", nblocks, "index pages, meta page included");
	VxStat(sink, "bytes", (double) nblocks * BLCKSZ, "index size");
	VxStat(sink, "elements", cs.nlive, "live elements (duplicate vectors share one)");
	VxStat(sink, "heap_tids", cs.heap_tids, "heap rows the live elements point at");
	VxStat(sink, "deleted_elements", cs.ndeleted, "elements whose rows are all dead, awaiting VACUUM's repair");
	VxStat(sink, "free_elements", cs.nfree, "repaired-around elements whose space inserts will reuse");
	VxStat(sink, "bytes_per_vector", cs.heap_tids > 0 ? (double) nblocks * BLCKSZ / cs.heap_tids : 0,
		   "index bytes per indexed row");
	VxStat(sink, "levels", cs.max_level + 1, "levels of the graph, level 0 included");
	for (int l = 1; l <= cs.max_level; l++)
	{
		int64		n = 0;
		char		name[32];

		for (int j = l; j <= HNSW_MAX_LEVEL; j++)
			n += cs.at_level[j];
		snprintf(name, sizeof(name), "elements_level_%d", l);
		snprintf(desc, sizeof(desc), "live elements present at level %d", l);
		VxStat(sink, name, n, desc);
	}
	if (cs.meta.entry_point != HNSW_INVALID_ID)
	{
		VxStat(sink, "entry_point", cs.meta.entry_point, "element id where searches start");
		VxStat(sink, "entry_level", cs.meta.entry_level, "its level");
	}
	VxStat(sink, "degree_mean", cs.nlive > 0 ? (double) cs.degree_sum / cs.nlive : 0,
		   "level-0 links to live elements, mean per live element");
	VxStat(sink, "degree_min", cs.nlive > 0 ? cs.degree_min : 0, "the fewest level-0 links of a live element");
	VxStat(sink, "degree_max", cs.nlive > 0 ? cs.degree_max : 0, "the most (at most 2m)");
	VxStat(sink, "links_to_deleted", cs.links_to_deleted,
		   "list entries naming deleted elements (VACUUM repairs them)");
	VxStat(sink, "records_since_reconnect", (double) (cs.meta.allocations - cs.meta.reconnected_at),
		   "records allocated since VACUUM's last reconnect pass (autovacuum runs it from a tenth of the table's rows)");
	VxStat(sink, "problems", list_length(cs.problems), "invariant violations found; see vectorx_hnsw_check");
}

/* live elements reachable at level 0 from the entry point (through DELETED ones too) */
static int64
Reachable(CheckState *cs)
{
	HnswPageGraph pg;
	HnswIdSet	seen;
	uint32	   *queue;
	uint32	   *nbrs = palloc(sizeof(uint32) * 2 * cs->shape.m);
	int64		head = 0,
				tail = 0,
				reached = 0;

	if (cs->meta.entry_point == HNSW_INVALID_ID)
		return 0;
	/* each element is queued once: live and DELETED ones, 4 bytes each */
	queue = palloc_extended(sizeof(uint32) * (cs->nlive + cs->ndeleted + 1), MCXT_ALLOC_HUGE);
	HnswIdSetInit(&seen, cs->live.limit, false);
	HnswPageGraphInit(&pg, cs->index, &cs->shape, NULL);
	queue[tail++] = cs->meta.entry_point;
	HnswIdSetAdd(&seen, cs->meta.entry_point);
	while (head < tail)
	{
		uint32		id = queue[head++];
		int			n;

		CHECK_FOR_INTERRUPTS();
		if (HnswIdSetHas(&cs->live, id))
			reached++;
		n = pg.graph.neighbors(&pg.graph, id, 0, nbrs, NULL);
		for (int i = 0; i < n; i++)
		{
			if ((HnswIdSetHas(&cs->live, nbrs[i]) || HnswIdSetHas(&cs->dead, nbrs[i])) &&
				!HnswIdSetTestAndAdd(&seen, nbrs[i]))
				queue[tail++] = nbrs[i];
		}
	}
	HnswIdSetFree(&seen);
	pfree(queue);
	pfree(nbrs);
	return reached;
}

PG_FUNCTION_INFO_V1(vectorx_hnsw_check);
Datum
vectorx_hnsw_check(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	TupleDesc	tupdesc;
	CheckState	cs;
	Datum		values[14];
	bool		nulls[14] = {0};
	BlockNumber nblocks;
	int64		reached;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	cs.index = VxOpenIndexForCheck(indexoid, "vectorx_hnsw_check");
	if (cs.index->rd_indam->ambuild != hnswbuild)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an hnsw index", RelationGetRelationName(cs.index))));
	nblocks = Collect(&cs, cs.index);

	/* I5 */
	if (cs.nlive == 0 && cs.meta.entry_point != HNSW_INVALID_ID &&
		!(cs.walked && HnswIdSetHas(&cs.dead, cs.meta.entry_point)))
		Problem(&cs, "I5: entry point %u but no live element", cs.meta.entry_point);
	if (cs.nlive > 0)
	{
		if (cs.meta.entry_point == HNSW_INVALID_ID)
			Problem(&cs, "I5: live elements but no entry point");
		else if (cs.walked && HnswIdSetHas(&cs.dead, cs.meta.entry_point))
			;					/* a crash between VACUUM's V1 and V2 (I5) */
		else if (!HnswIdSetHas(&cs.live, cs.meta.entry_point))
			Problem(&cs, "I5: entry point %u is not a live element", cs.meta.entry_point);
		else if (cs.meta.entry_level != cs.max_level)
			Problem(&cs, "I5: entry point has level %d, the highest live level is %d",
					cs.meta.entry_level, cs.max_level);
	}
	reached = cs.walked ? Reachable(&cs) : 0;
	/* I6: an element no scan can reach is a row the index has lost */
	if (cs.nlive > reached)
		Problem(&cs, "I6: %lld live elements are not reachable at level 0 from the entry point",
				(long long) (cs.nlive - reached));

	values[0] = BoolGetDatum(cs.problems == NIL);
	values[1] = Int64GetDatum(nblocks);
	values[2] = Int64GetDatum(cs.nlive);
	values[3] = Int64GetDatum(cs.ndeleted);
	values[4] = Int64GetDatum(cs.nfree);
	values[5] = Int64GetDatum(cs.nreserved);
	values[6] = Int64GetDatum(cs.heap_tids);
	values[7] = Int32GetDatum(cs.max_level);
	if (cs.meta.entry_point == HNSW_INVALID_ID)
		nulls[8] = true;
	else
		values[8] = Int64GetDatum(cs.meta.entry_point);
	values[9] = Int32GetDatum(cs.meta.entry_level);
	values[10] = Int64GetDatum(cs.links);
	values[11] = Int64GetDatum(cs.links_to_deleted);
	values[12] = Int64GetDatum(cs.bad_links);
	values[13] = Int64GetDatum(cs.nlive - reached);
	{
		Datum		result[15];
		bool		rnulls[15];

		memcpy(result, values, sizeof(values));
		memcpy(rnulls, nulls, sizeof(nulls));
		result[14] = VxProblemArray(cs.problems);
		rnulls[14] = false;
		index_close(cs.index, AccessShareLock);
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, result, rnulls)));
	}
}

/*
 * vectorx_hnsw_elements(index): one row per heap TID of every element
 * (elements without TIDs appear once with a NULL TID): element id, level,
 * state (live, deleted, free, reserved).  An inspection tool in the spirit
 * of pageinspect, for DBAs and tests.
 */
typedef struct ElementsState
{
	Tuplestorestate *store;
	TupleDesc	desc;
} ElementsState;

static void
EmitElement(ElementsState *es, uint64 off, const char *rec)
{
	const HnswElementData *e = (const HnswElementData *) rec;
	const char *state;
	Datum		values[4];
	bool		nulls[4] = {0};

	if (rec[0] != HNSW_KIND_ELEMENT)
		return;
	state = (e->flags & HNSW_FREE) ? "free" : (e->flags & HNSW_RESERVED) ? "reserved" :
		(e->flags & HNSW_DELETED) ? "deleted" : "live";
	values[0] = Int64GetDatum(HnswOffsetId(off));
	values[1] = Int32GetDatum(e->level);
	values[2] = CStringGetTextDatum(state);
	if (e->ntids == 0 || e->flags != 0)
	{
		nulls[3] = true;
		tuplestore_putvalues(es->store, es->desc, values, nulls);
		return;
	}
	for (int i = 0; i < e->ntids && i < HNSW_HEAPTIDS; i++)
	{
		ItemPointer tid = palloc(sizeof(ItemPointerData));

		*tid = e->heaptids[i];
		values[3] = PointerGetDatum(tid);
		tuplestore_putvalues(es->store, es->desc, values, nulls);
	}
}

PG_FUNCTION_INFO_V1(vectorx_hnsw_elements);
Datum
vectorx_hnsw_elements(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	index;
	HnswMetaPageData meta;
	HnswShape	shape;
	ElementsState es;
	HnswStreamCursor c;

	InitMaterializedSRF(fcinfo, 0);
	index = VxOpenIndexForInspection(PG_GETARG_OID(0), "vectorx_hnsw_elements");
	if (index->rd_indam->ambuild != hnswbuild)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an hnsw index", RelationGetRelationName(index))));
	HnswReadMeta(index, &meta);
	shape = *HnswGetShape(index);
	es.store = rsinfo->setResult;
	es.desc = rsinfo->setDesc;
	HnswStreamBegin(&c, index, &shape, meta.stream_end, NULL, BUFFER_LOCK_SHARE);
	while (HnswStreamNext(&c))
		EmitElement(&es, c.pos, c.rec);
	HnswStreamEnd(&c);
	index_close(index, AccessShareLock);
	return (Datum) 0;
}

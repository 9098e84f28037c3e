/*-------------------------------------------------------------------------
 *
 * monitor.c
 *	  Watching vectorx indexes from inside the database.  Approximate
 *	  search degrades silently, so a DBA needs to measure it on the data
 *	  the index actually holds:
 *
 *	  vectorx_index_stats(index)    one row per statistic of the index's
 *	                                structure (each access method supplies
 *	                                its own, VxIndexKind.stats)
 *	  vectorx_recall(index, sample, k)
 *	                                recall@k of the index against exact
 *	                                search, with stored rows as queries
 *	                                (leave-one-out), and the latency of the
 *	                                index scans, under the session's
 *	                                current settings (hnsw.ef_search, ...)
 *	  vectorx_recall_queries(index, queries vector[], k)
 *	                                the same for queries the caller supplies
 *	  vectorx.query_sample_rate     opt-in: the index scans record that
 *	                                fraction of real query vectors, per
 *	                                index, in files in the database's
 *	                                directory (bounded by
 *	                                vectorx.query_sample_size;
 *	                                src/common/querysample.c says where
 *	                                and why);
 *	  vectorx_sampled_queries(index), vectorx_recall_sampled(index, k, max)
 *	                                read them back / evaluate them; the
 *	                                files go when the index is dropped
 *
 *	  Who may call what, and what is checked before any lock: "who may call
 *	  what" below (the inspection check, VxOpenIndexForInspection, lives in
 *	  src/common/inspect.c, where hnswcheck.c uses it too).
 *
 *	  Leave-one-out excludes the query's row from both answers, and asks
 *	  the index not to search through it either (VxScanControl.exclude): in an
 *	  HNSW graph that row's neighbour lists are the query's answer, a
 *	  shortcut outside queries do not have (measured on 1M synthetic rows
 *	  it read 0.09 too high).  Without it the figure errs low instead:
 *	  the row's neighbours lose the links that ran through it, a hole no
 *	  outside query meets (Fashion-MNIST ef_search 20: 0.955 against 0.975
 *	  from outside; 100k synthetic, 40: 0.906 against 0.942).  A monitor
 *	  that errs low is the safe one: it never hides a degraded index.
 *
 *	  The recall functions work through the index AM interface exactly as
 *	  the executor's Index Scan does (index_beginscan, an ORDER BY scan key,
 *	  index_getnext_slot with heap visibility), so they measure what
 *	  queries see.  The exact answers come from ONE sequential scan of the
 *	  table that computes every query's distance to every row, with the
 *	  distance function of the index's ordering operator.  Recall is
 *	  tie-aware: an index result counts when its exact distance is within
 *	  the k-th exact distance, so duplicate vectors do not make a perfect
 *	  answer look wrong.
 *
 *	  Cost: `sample` index scans plus one pass over the table computing
 *	  `sample` distances per row; progress is reported with a NOTICE at
 *	  most every 10 seconds, and the functions are cancellable.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_am.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/bufmgr.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rls.h"
#include "utils/sampling.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "halfvec.h"
#include "inspect.h"
#include "monitor.h"
#include "querysample.h"
#include "registry.h"
#include "sample.h"
#include "vector.h"
#include "vxindex.h"

#define MAX_SAMPLE	100000
#define MAX_K		1000
#define PROGRESS_MS 10000

/* relations dropped in this backend, see MonitorXactCallback (TopMemoryContext) */
static List *pending_drops = NIL;
static bool sweep_pending = false;

/* ---------------------------------------------------------------- which index */

/* fail unless an open index is one of ours */
static void
CheckVxIndex(Relation index, const char *fname)
{
	if (VxIndexKindOf(index) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("index \"%s\" is not a vectorx index", RelationGetRelationName(index)),
				 errdetail("Its access method is %s.", get_am_name(index->rd_rel->relam)),
				 errhint("%s takes an index built with the hnsw, ivfpq or ivfflat access method.", fname)));
}

/* lock an index the caller was found allowed to read, and check it is ours */
static Relation
OpenVxIndex(Oid indexoid, const char *fname)
{
	Relation	index = index_open(indexoid, AccessShareLock);

	CheckVxIndex(index, fname);
	return index;
}

/* ---------------------------------------------------------------- who may call what */

/*
 * The privilege model (README, "Who may call what"):
 *
 * - Inspection (vectorx_index_stats, vectorx_hnsw_check,
 *   vectorx_ivfpq_check, vectorx_hnsw_elements) reads the whole index:
 *   element and deleted-row counts, heap TIDs.  EXECUTE is revoked from
 *   PUBLIC in the install script, and the first three are granted to
 *   pg_stat_scan_tables, as pgstattuple and pg_visibility do;
 *   vectorx_hnsw_elements, a raw dump in the spirit of pageinspect, stays
 *   superuser-only until granted.  On top of EXECUTE the caller must own
 *   the index (so its table) or have the privileges of
 *   pg_stat_scan_tables: EXECUTE granted to an application role then
 *   reaches its own indexes only.
 * - Recall (vectorx_recall, vectorx_recall_queries, vectorx_recall_sampled)
 *   scans the table and the index as a query would, but below row-level
 *   security: it needs SELECT on the table, and refuses to run when
 *   row-level security applies to the caller there (a figure computed over
 *   rows a policy hides would tell how many there are and where).
 * - The recorded queries (vectorx_sampled_queries) are other sessions'
 *   query vectors: only roles with the privileges of pg_read_all_stats, the
 *   role that sees other sessions' query texts in pg_stat_activity and
 *   pg_stat_statements, read them.
 *
 * Every check runs on the OID, from the catalog caches, BEFORE the index or
 * its table is locked, so a role without the privilege never queues for a
 * lock it could hold against VACUUM, DDL or a DROP; it runs again once the
 * lock is held (invalidations are processed then), in case the relation
 * changed hands or gained a policy in between.  The inspection check is
 * VxOpenIndexForInspection (src/common/inspect.c); the other two follow.
 */

static void
CheckRecallPrivilege(Oid heapoid, const char *fname)
{
	AclResult	acl = pg_class_aclcheck(heapoid, GetUserId(), ACL_SELECT);

	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(heapoid));
	/* RLS_NONE_ENV (owner, BYPASSRLS, superuser) sees every row anyway */
	if (check_enable_rls(heapoid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s cannot measure table \"%s\": row-level security applies to it for the current user",
						fname, get_rel_name(heapoid)),
				 errdetail("The recall functions read the table and the index below its policies, so their figures would count rows the policies hide."),
				 errhint("Run it as a role that bypasses row-level security on the table: its owner (unless the table forces row-level security), a role with BYPASSRLS, or a superuser.")));
}

static void
CheckReadQueriesPrivilege(Oid indexoid)
{
	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read the queries recorded for index %s", get_rel_name(indexoid)),
				 errdetail("They are other sessions' query vectors: only roles with privileges of the \"pg_read_all_stats\" role may read them.")));
}

/* ---------------------------------------------------------------- stats */


PG_FUNCTION_INFO_V1(vectorx_index_stats);
Datum
vectorx_index_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	index;
	VxStatsSink sink;

	InitMaterializedSRF(fcinfo, 0);
	index = VxOpenIndexForInspection(PG_GETARG_OID(0), "vectorx_index_stats");
	CheckVxIndex(index, "vectorx_index_stats");
	sink.store = rsinfo->setResult;
	sink.desc = rsinfo->setDesc;
	VxIndexKindOf(index)->stats(index, &sink);
	index_close(index, AccessShareLock);
	return (Datum) 0;
}

/* ---------------------------------------------------------------- recall */

/* the k nearest exact distances: the largest on top (vxheap.h) */
#define VXH_PREFIX BestHeap
#define VXH_ELEMENT float8
#define VXH_ABOVE(a, b) ((a) > (b))
#include "vxheap.h"

typedef struct RecallQuery
{
	Datum		vec;			/* detoasted vector */
	ItemPointerData self;		/* the row it came from, or invalid */
	BestHeap	best;			/* the k best exact distances */
	float8	   *found;			/* exact distances of the index's answers */
	int			nfound;
	double		ms;				/* index scan time */
} RecallQuery;

typedef struct RecallRun
{
	Relation	heap;
	Relation	index;
	AttrNumber	attno;			/* heap column of the indexed vector */
	Oid			collation;
	RegProcedure distproc;		/* function of the ordering operator */
	FmgrInfo	dist;
	int			k;
	RecallQuery *queries;
	int			nqueries;
} RecallRun;

static void
RecallOpen(RecallRun *run, Oid indexoid, int k, const char *fname)
{
	Oid			heapoid;
	Oid			opfamily,
				opcintype,
				op;

	if (k <= 0 || k > MAX_K)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k must be between 1 and %d, not %d", MAX_K, k)));
	memset(run, 0, sizeof(RecallRun));
	run->k = k;
	VxCheckIsIndex(indexoid, fname);
	heapoid = IndexGetRelation(indexoid, true);
	if (!OidIsValid(heapoid))
		VxCheckIsIndex(indexoid, fname);	/* dropped meanwhile: its error */
	/* the function reads the table: the caller must be allowed to, see above */
	CheckRecallPrivilege(heapoid, fname);
	run->heap = table_open(heapoid, AccessShareLock);
	run->index = OpenVxIndex(indexoid, fname);
	if (IndexGetRelation(indexoid, false) != heapoid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation with OID %u changed while %s was starting", indexoid, fname),
				 errhint("Try again.")));
	CheckRecallPrivilege(heapoid, fname);
	if (run->index->rd_index->indkey.values[0] == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s does not support indexes on expressions", fname),
				 errhint("Measure an index on the vector column itself.")));
	run->attno = run->index->rd_index->indkey.values[0];
	run->collation = run->index->rd_indcollation[0];
	opfamily = run->index->rd_opfamily[0];
	opcintype = run->index->rd_opcintype[0];
	op = get_opfamily_member(opfamily, opcintype, opcintype, 1);
	if (!OidIsValid(op))
		elog(ERROR, "operator class of index \"%s\" has no ordering operator",
			 RelationGetRelationName(run->index));
	run->distproc = get_opcode(op);
	fmgr_info(run->distproc, &run->dist);
}

static void
RecallClose(RecallRun *run)
{
	index_close(run->index, AccessShareLock);
	table_close(run->heap, AccessShareLock);
}

static RecallQuery *
AddQuery(RecallRun *run, Datum vec, ItemPointer self)
{
	RecallQuery *q = &run->queries[run->nqueries++];

	memset(q, 0, sizeof(RecallQuery));
	q->vec = PointerGetDatum(PG_DETOAST_DATUM_COPY(vec));
	if (self)
		q->self = *self;
	else
		ItemPointerSetInvalid(&q->self);
	BestHeapInit(&q->best, run->k);
	q->found = palloc(sizeof(float8) * run->k);
	return q;
}

/*
 * A query given or recorded as vector, in the type of the index's column:
 * a halfvec index is asked with the halfvec cast from it (exact for the
 * recorded queries, which were halfvecs).
 */
static Datum
QueryForIndex(RecallRun *run, Vector *v)
{
	if (VxIndexElem(run->index) == VX_ELEM_BIT || VxIndexElem(run->index) == VX_ELEM_SPARSE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("index \"%s\" indexes %s values, not vectors", RelationGetRelationName(run->index),
						VxIndexElem(run->index) == VX_ELEM_BIT ? "bit" : "sparsevec"),
				 errdetail("Queries given or recorded as vectors cannot be asked of it; its scans are not recorded."),
				 errhint("Measure it with vectorx_recall(index, sample, k), which asks with its own rows.")));
	if (VxIndexElem(run->index) == VX_ELEM_HALFVEC)
		return PointerGetDatum(VxHalfFromFloats(v->x, v->dim));
	return PointerGetDatum(v);
}

static void
AddSampledQuery(void *arg, Datum value, ItemPointer tid)
{
	AddQuery((RecallRun *) arg, value, tid);
}

/* leave-one-out queries: up to `sample` stored rows (sample.c) */
static void
SampleRows(RecallRun *run, int sample, uint32 seed)
{
	run->queries = palloc(sizeof(RecallQuery) * sample);
	VxSampleRows(run->heap, run->attno, sample, seed, AddSampledQuery, run, NULL);
}

/* insert d into found[0..*n), ascending, keeping at most k */
static void
KeepFound(float8 *found, int *n, int k, float8 d)
{
	int			i;

	if (*n == k && !(d < found[k - 1]))
		return;
	i = *n < k ? (*n)++ : k - 1;
	while (i > 0 && found[i - 1] > d)
	{
		found[i] = found[i - 1];
		i--;
	}
	found[i] = d;
}

/*
 * Run every query through the index, as an Index Scan would: when the index
 * returns lower bounds to re-check (xs_recheckorderby, HNSW), the exact
 * distances of the rows decide, and rows are read until the bound passes
 * the k-th exact distance found, as the executor's reorder queue does.
 */
static void
IndexPass(RecallRun *run)
{
	TupleTableSlot *slot = table_slot_create(run->heap, NULL);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vectorx recall index pass",
											  ALLOCSET_DEFAULT_SIZES);

	for (int i = 0; i < run->nqueries; i++)
	{
		RecallQuery *q = &run->queries[i];
		IndexScanDesc scan;
		ScanKeyData key;
		instr_time	start,
					end;
		int			n = 0;
		MemoryContext old = MemoryContextSwitchTo(cxt);

		CHECK_FOR_INTERRUPTS();
		INSTR_TIME_SET_CURRENT(start);
		scan = index_beginscan(run->heap, run->index, GetActiveSnapshot(), 0, 1);
		ScanKeyEntryInitialize(&key, SK_ORDER_BY, 1, 1, InvalidOid, run->collation,
							   run->distproc, q->vec);
		/* leave-one-out: the scan does not search through the query's row */
		VxScanControlOf(scan)->exclude = q->self;
		index_rescan(scan, NULL, 0, &key, 1);
		while (index_getnext_slot(scan, ForwardScanDirection, slot))
		{
			bool		isnull;
			Datum		v;

			if (scan->xs_recheckorderby && n == run->k &&
				DatumGetFloat8(scan->xs_orderbyvals[0]) >= q->found[run->k - 1])
				break;			/* no row still to come can be nearer */
			if (ItemPointerIsValid(&q->self) && ItemPointerEquals(&slot->tts_tid, &q->self))
				continue;
			v = slot_getattr(slot, run->attno, &isnull);
			if (isnull)
				continue;
			KeepFound(q->found, &n, run->k,
					  DatumGetFloat8(FunctionCall2Coll(&run->dist, run->collation, v, q->vec)));
			if (!scan->xs_recheckorderby && n == run->k)
				break;
		}
		index_endscan(scan);
		INSTR_TIME_SET_CURRENT(end);
		INSTR_TIME_SUBTRACT(end, start);
		q->ms = INSTR_TIME_GET_MILLISEC(end);
		q->nfound = n;
		MemoryContextSwitchTo(old);
		MemoryContextReset(cxt);
	}
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(cxt);
}

/* keep the k smallest distances */
static inline void
KeepBest(RecallQuery *q, int k, float8 d)
{
	if (q->best.count < k)
		BestHeapPush(&q->best, d);
	else if (d < BestHeapTop(&q->best))
		BestHeapReplaceTop(&q->best, d);
}

/* one sequential scan: every query's exact k nearest distances */
static void
ExactPass(RecallRun *run, const char *fname)
{
	TableScanDesc scan = table_beginscan(run->heap, GetActiveSnapshot(), 0, NULL);
	TupleTableSlot *slot = table_slot_create(run->heap, NULL);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vectorx recall exact pass",
											  ALLOCSET_DEFAULT_SIZES);
	TimestampTz last = GetCurrentTimestamp();
	double		total = Max(run->heap->rd_rel->reltuples, 1);
	int64		rows = 0;

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		v = slot_getattr(slot, run->attno, &isnull);
		MemoryContext old;

		if (isnull)
			continue;
		if ((++rows & 1023) == 0)
		{
			TimestampTz now = GetCurrentTimestamp();

			CHECK_FOR_INTERRUPTS();
			if (TimestampDifferenceExceeds(last, now, PROGRESS_MS))
			{
				ereport(NOTICE,
						(errmsg("%s: exact search over \"%s\", about %.0f%% of the rows done",
								fname, RelationGetRelationName(run->heap),
								Min(100.0, 100.0 * rows / total))));
				last = now;
			}
		}
		old = MemoryContextSwitchTo(cxt);
		v = PointerGetDatum(PG_DETOAST_DATUM(v));	/* once per row, not per query */
		for (int i = 0; i < run->nqueries; i++)
		{
			RecallQuery *q = &run->queries[i];

			if (ItemPointerIsValid(&q->self) && ItemPointerEquals(&slot->tts_tid, &q->self))
				continue;
			KeepBest(q, run->k, DatumGetFloat8(FunctionCall2Coll(&run->dist, run->collation, v, q->vec)));
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(cxt);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	MemoryContextDelete(cxt);
}

static int
CompareDouble(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* run both passes and form the result row (recall, mean_ms, p99_ms, queries) */
static Datum
RecallResult(FunctionCallInfo fcinfo, RecallRun *run, const char *fname)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {0};
	double		sum_recall = 0,
				sum_ms = 0;
	double	   *ms;
	int			counted = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	IndexPass(run);
	ExactPass(run, fname);
	ms = palloc(sizeof(double) * Max(run->nqueries, 1));
	for (int i = 0; i < run->nqueries; i++)
	{
		RecallQuery *q = &run->queries[i];
		int			hits = 0;
		double		kth;

		ms[i] = q->ms;
		sum_ms += q->ms;
		if (q->best.count == 0)
			continue;			/* no other row to find */
		kth = BestHeapTop(&q->best);	/* the largest kept */
		for (int j = 0; j < q->nfound; j++)
			if (q->found[j] <= kth + 1e-6 * fabs(kth) + 1e-12)
				hits++;
		sum_recall += (double) Min(hits, q->best.count) / q->best.count;
		counted++;
	}
	if (counted > 0)
		values[0] = Float8GetDatum(sum_recall / counted);
	else
		nulls[0] = true;
	if (run->nqueries > 0)
	{
		qsort(ms, run->nqueries, sizeof(double), CompareDouble);
		values[1] = Float8GetDatum(sum_ms / run->nqueries);
		values[2] = Float8GetDatum(ms[Min(run->nqueries - 1, (int) ceil(0.99 * run->nqueries) - 1)]);
	}
	else
		nulls[1] = nulls[2] = true;
	values[3] = Int32GetDatum(run->nqueries);
	RecallClose(run);
	return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}

PG_FUNCTION_INFO_V1(vectorx_recall);
Datum
vectorx_recall(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	int			sample = PG_GETARG_INT32(1);
	int			k = PG_GETARG_INT32(2);
	RecallRun	run;

	if (sample <= 0 || sample > MAX_SAMPLE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample must be between 1 and %d, not %d", MAX_SAMPLE, sample)));
	RecallOpen(&run, indexoid, k, "vectorx_recall");
	SampleRows(&run, sample, 0x5eed ^ indexoid);
	PG_RETURN_DATUM(RecallResult(fcinfo, &run, "vectorx_recall"));
}

/* the queries of a vector[] (NULL elements skipped) */
static void
ArrayQueries(RecallRun *run, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign, &elems, &nulls, &n);
	if (n > MAX_SAMPLE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("at most %d queries can be evaluated at once, not %d", MAX_SAMPLE, n)));
	run->queries = palloc(sizeof(RecallQuery) * Max(n, 1));
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			AddQuery(run, QueryForIndex(run, DatumGetVector(elems[i])), NULL);
}

PG_FUNCTION_INFO_V1(vectorx_recall_queries);
Datum
vectorx_recall_queries(PG_FUNCTION_ARGS)
{
	RecallRun	run;

	RecallOpen(&run, PG_GETARG_OID(0), PG_GETARG_INT32(2), "vectorx_recall_queries");
	ArrayQueries(&run, PG_GETARG_ARRAYTYPE_P(1));
	PG_RETURN_DATUM(RecallResult(fcinfo, &run, "vectorx_recall_queries"));
}


/* ---------------------------------------------------------------- query sampling */

/* (the files and their format: src/common/querysample.c) */

/* the recorded queries of an index; a reader also sweeps, at commit */
static List *
SampledQueries(Oid indexoid)
{
	/* stale files go sooner or later */
	sweep_pending = true;
	return VxSampledQueries(indexoid);
}

PG_FUNCTION_INFO_V1(vectorx_sampled_queries);
Datum
vectorx_sampled_queries(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			indexoid = PG_GETARG_OID(0);
	Relation	index;
	ListCell   *lc;
	List	   *samples;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC | MAT_SRF_BLESS);
	VxCheckIsIndex(indexoid, "vectorx_sampled_queries");
	CheckReadQueriesPrivilege(indexoid);
	index = OpenVxIndex(indexoid, "vectorx_sampled_queries");
	samples = SampledQueries(RelationGetRelid(index));
	foreach(lc, samples)
	{
		Datum		value = PointerGetDatum(lfirst(lc));
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	index_close(index, AccessShareLock);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(vectorx_recall_sampled);
Datum
vectorx_recall_sampled(PG_FUNCTION_ARGS)
{
	int			max = PG_GETARG_INT32(2);
	RecallRun	run;
	List	   *samples;
	int			n;

	if (max <= 0 || max > MAX_SAMPLE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max must be between 1 and %d, not %d", MAX_SAMPLE, max)));
	RecallOpen(&run, PG_GETARG_OID(0), PG_GETARG_INT32(1), "vectorx_recall_sampled");
	samples = SampledQueries(RelationGetRelid(run.index));
	/* the most recent ones */
	n = Min(list_length(samples), max);
	run.queries = palloc(sizeof(RecallQuery) * Max(n, 1));
	for (int i = list_length(samples) - n; i < list_length(samples); i++)
		AddQuery(&run, QueryForIndex(&run, list_nth(samples, i)), NULL);
	PG_RETURN_DATUM(RecallResult(fcinfo, &run, "vectorx_recall_sampled"));
}


/*
 * The sweep runs just before a commit, when the transaction still reads
 * the catalog and sees its own DROPs: a rolled-back DROP keeps its samples.
 *
 * pending_drops remembers the relations this backend dropped, with the
 * transaction nesting level of the DROP, so that one rolled back to a
 * savepoint is forgotten; a relation that still exists at commit is being
 * dropped by DROP INDEX CONCURRENTLY, whose later transactions delete it,
 * so it stays (at level 0) until a commit sees it gone.
 */
typedef struct PendingDrop
{
	Oid			relid;
	int			level;			/* transaction nesting level of the DROP */
} PendingDrop;

static void
MonitorXactCallback(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (event == XACT_EVENT_ABORT)
	{
		list_free_deep(pending_drops);
		pending_drops = NIL;
		return;
	}
	if (event != XACT_EVENT_PRE_COMMIT || !OidIsValid(MyDatabaseId) ||
		(!sweep_pending && pending_drops == NIL))
		return;
	VxSweepSamples(VxIsIndexOid);
	sweep_pending = false;
	foreach(lc, pending_drops)
	{
		PendingDrop *pd = (PendingDrop *) lfirst(lc);

		if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(pd->relid)))
			pd->level = 0;
		else
		{
			pending_drops = foreach_delete_current(pending_drops, lc);
			pfree(pd);
		}
	}
}

static void
MonitorSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	ListCell   *lc;

	foreach(lc, pending_drops)
	{
		PendingDrop *pd = (PendingDrop *) lfirst(lc);

		if (pd->level < level)
			continue;
		if (event == SUBXACT_EVENT_ABORT_SUB)
		{
			pending_drops = foreach_delete_current(pending_drops, lc);
			pfree(pd);
		}
		else if (event == SUBXACT_EVENT_COMMIT_SUB)
			pd->level = level - 1;
	}
}

static object_access_hook_type prev_object_access_hook = NULL;

static void
MonitorObjectAccess(ObjectAccessType access, Oid classId, Oid objectId, int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (access == OAT_DROP && classId == RelationRelationId && subId == 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		PendingDrop *pd = palloc(sizeof(PendingDrop));

		pd->relid = objectId;
		pd->level = GetCurrentTransactionNestLevel();
		pending_drops = lappend(pending_drops, pd);
		MemoryContextSwitchTo(old);
	}
}

/* ---------------------------------------------------------------- GUCs */

void
VxMonitorInit(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = MonitorObjectAccess;
	RegisterXactCallback(MonitorXactCallback, NULL);
	RegisterSubXactCallback(MonitorSubXactCallback, NULL);
	/* drops in this backend before vectorx was loaded went unseen */
	sweep_pending = true;

	VxQuerySampleInit();
}

/*-------------------------------------------------------------------------
 *
 * shardroute.c
 *	  Cluster sharding (shard.h, CLUSTER SHARDING): routings (named sets of
 *	  coarse centroids kept in the table vectorx_shard_routing), their
 *	  training from a sample (the IVF-PQ k-means, src/ivfpq/ivfpqtrain.c),
 *	  the partition-key function vectorx_shard_cell, the pruning function
 *	  vectorx_shard_probe that the planner hook (shard.c) puts into an
 *	  Append's run-time pruning steps, vectorx_shard_route (which
 *	  partitions a query contacts, and why), vectorx_shard_partitions (the
 *	  cells each partition owns), and the GUC vectorx.shard_probes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"

#include "distance.h"
#include "ivfpq.h"
#include "shard.h"
#include "vector.h"

int			vx_shard_probes = 0;

#define SHARD_MAX_CELLS 4096
#define SHARD_MAX_SAMPLE 1000000
#define SHARD_TRAIN_SEED 0x5eed5a4d
#define SHARD_TRAIN_ITERS 25

/* A routing as loaded from vectorx_shard_routing. */
typedef struct Routing
{
	char	   *name;
	bool		cosine;			/* metric: cosine (unit centroids), else l2 */
	int			dims;
	int			cells;
	float	   *centroids;		/* cells x dims */
} Routing;

/*
 * The schema of the extension vectorx (PostgreSQL 15 does not export
 * get_extension_schema); where the extension is not created in this
 * database (the library preloaded), InvalidOid if missing_ok, else an ERROR.
 */
Oid
VxExtensionSchema(bool missing_ok)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("vectorx"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(nsp) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"vectorx\" is not installed in this database")));
	return nsp;
}

/* The extension's schema, quoted, for the SQL this file runs. */
static char *
ExtSchema(void)
{
	return (char *) quote_identifier(get_namespace_name(VxExtensionSchema(false)));
}

static void
RoutingNotFound(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("vectorx routing \"%s\" does not exist", name),
			 errhint("Routings are made by vectorx_shard_train() and kept in vectorx_shard_routing; "
					 "vectorx_shard_routing_sql() copies one to another server.")));
}

/* Load a routing into memory of context cxt. */
static Routing *
RoutingLoad(const char *name, MemoryContext cxt)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	Routing    *r;
	bool		isnull;
	ArrayType  *arr;
	MemoryContext old;
	int			ret;

	args[0] = CStringGetTextDatum(name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(psprintf("SELECT metric, dims, cells, centroids FROM %s.vectorx_shard_routing WHERE name = $1",
										 ExtSchema()),
								1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "reading vectorx_shard_routing failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		RoutingNotFound(name);

	old = MemoryContextSwitchTo(cxt);
	r = palloc0(sizeof(Routing));
	r->name = pstrdup(name);
	r->cosine = strcmp(TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)),
					   "cosine") == 0;
	r->dims = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	r->cells = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	arr = DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
	if (ARR_NDIM(arr) != 1 || ARR_HASNULL(arr) || ARR_ELEMTYPE(arr) != FLOAT4OID ||
		ARR_DIMS(arr)[0] != r->dims * r->cells || r->dims <= 0 || r->cells <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("vectorx routing \"%s\" is malformed", name),
				 errdetail("Its centroids must be %d x %d reals without NULLs.", r->cells, r->dims)));
	r->centroids = palloc(sizeof(float) * r->dims * r->cells);
	memcpy(r->centroids, ARR_DATA_PTR(arr), sizeof(float) * r->dims * r->cells);
	MemoryContextSwitchTo(old);
	SPI_finish();
	return r;
}

static void
CheckDims(const Routing *r, const Vector *v)
{
	if (v->dim != r->dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector has %d dimensions, routing \"%s\" has %d", v->dim, r->name, r->dims)));
}

/*
 * Distance of x to each centroid, smaller is nearer: squared L2, or for
 * cosine 1 - cos (the centroids are unit vectors).
 */
static void
CellDistances(const Routing *r, const float *x, float *dist)
{
	float		xn = 1;

	if (r->cosine)
	{
		xn = sqrtf(vx_kernels->dot(x, x, r->dims));
		if (xn == 0)
			xn = 1;
	}
	for (int c = 0; c < r->cells; c++)
	{
		const float *ct = r->centroids + (Size) c * r->dims;

		if (r->cosine)
			dist[c] = 1 - vx_kernels->dot(x, ct, r->dims) / xn;
		else
			dist[c] = vx_kernels->l2_squared(x, ct, r->dims);
	}
}

static int
NearestCell(const Routing *r, const float *x, float *scratch)
{
	int			best = 0;

	CellDistances(r, x, scratch);
	for (int c = 1; c < r->cells; c++)
		if (scratch[c] < scratch[best])
			best = c;
	return best;
}

/* Routing cache in fn_extra: per call site, for the query's duration. */
typedef struct CellCache
{
	Routing    *r;
	float	   *dist;
} CellCache;

static CellCache *
GetCellCache(FunctionCallInfo fcinfo, text *name)
{
	CellCache  *cc = (CellCache *) fcinfo->flinfo->fn_extra;
	char	   *cname = text_to_cstring(name);

	if (cc == NULL || strcmp(cc->r->name, cname) != 0)
	{
		cc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CellCache));
		cc->r = RoutingLoad(cname, fcinfo->flinfo->fn_mcxt);
		cc->dist = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(float) * cc->r->cells);
		fcinfo->flinfo->fn_extra = cc;
	}
	return cc;
}

/*
 * vectorx_shard_cell(v vector, routing text) -> int: the cell (0-based) of
 * the routing's centroid nearest to v.  The partition key of a cluster-
 * sharded table: PARTITION BY LIST (vectorx_shard_cell(embedding, 'r')).
 * IMMUTABLE because a routing's centroids never change (its row cannot be
 * updated: the trigger vectorx_shard_routing_frozen).
 */
PG_FUNCTION_INFO_V1(vectorx_shard_cell);
Datum
vectorx_shard_cell(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	CellCache  *cc = GetCellCache(fcinfo, PG_GETARG_TEXT_PP(1));

	CheckDims(cc->r, v);
	PG_RETURN_INT32(NearestCell(cc->r, v->x, cc->dist));
}

/* ---------------------------------------------------------------------
 * Partitions and the cells they own
 * ---------------------------------------------------------------------
 */

/* One partition of a cluster-sharded table. */
typedef struct ShardPart
{
	Oid			relid;
	int			ncells;
	int		   *cells;			/* the cells it lists; the default partition
								 * owns every cell no other lists */
	int			probe_value;	/* a cell value the pruning step can use to
								 * select it (for a default partition, a
								 * cell no partition lists), or -1 */
	float		dist;			/* to the query: its nearest cell's */
} ShardPart;

typedef struct ShardLayout
{
	int			nparts;
	ShardPart  *parts;
} ShardLayout;

/*
 * The routing name of a table partitioned by LIST
 * (vectorx_shard_cell(col, 'name')), with the column's number; NULL for
 * any other table.
 */
char *
VxShardRoutingOf(Relation rel, AttrNumber *attno)
{
	PartitionKey key;
	FuncExpr   *fe;
	Node	   *a0;
	Node	   *a1;
	char	   *fname;

	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		return NULL;
	key = RelationGetPartitionKey(rel);
	if (key->strategy != PARTITION_STRATEGY_LIST || key->partnatts != 1 ||
		key->partattrs[0] != 0 || list_length(key->partexprs) != 1 ||
		!IsA(linitial(key->partexprs), FuncExpr))
		return NULL;
	fe = (FuncExpr *) linitial(key->partexprs);
	fname = get_func_name(fe->funcid);
	if (fname == NULL || strcmp(fname, "vectorx_shard_cell") != 0 ||
		get_func_namespace(fe->funcid) != VxExtensionSchema(true) ||
		list_length(fe->args) != 2)
		return NULL;
	a0 = linitial(fe->args);
	a1 = lsecond(fe->args);
	if (!IsA(a0, Var) || !IsA(a1, Const) || ((Const *) a1)->constisnull)
		return NULL;
	*attno = ((Var *) a0)->varattno;
	return TextDatumGetCString(((Const *) a1)->constvalue);
}

/* The partitions of rel (partitioned by a routing of ncells cells). */
static ShardLayout *
LayoutLoad(Relation rel, int ncells)
{
	PartitionDesc pd = RelationGetPartitionDesc(rel, true);
	PartitionBoundInfo bi = pd->boundinfo;
	ShardLayout *lay = palloc0(sizeof(ShardLayout));
	bool	   *listed = palloc0(sizeof(bool) * ncells);

	lay->nparts = pd->nparts;
	lay->parts = palloc0(sizeof(ShardPart) * Max(pd->nparts, 1));
	for (int i = 0; i < pd->nparts; i++)
	{
		lay->parts[i].relid = pd->oids[i];
		lay->parts[i].cells = palloc(sizeof(int) * Max(ncells, 1));
		lay->parts[i].probe_value = -1;
	}
	for (int d = 0; bi != NULL && d < bi->ndatums; d++)
	{
		int			p = bi->indexes[d];
		int			cell = DatumGetInt32(bi->datums[d][0]);
		ShardPart  *sp = &lay->parts[p];

		if (cell >= 0 && cell < ncells)
		{
			listed[cell] = true;
			sp->cells[sp->ncells++] = cell;
			if (sp->probe_value < 0)
				sp->probe_value = cell;
		}
	}
	if (bi != NULL && partition_bound_has_default(bi))
	{
		ShardPart  *sp = &lay->parts[bi->default_index];

		for (int c = 0; c < ncells; c++)
			if (!listed[c])
			{
				sp->cells[sp->ncells++] = c;
				if (sp->probe_value < 0)
					sp->probe_value = c;
			}
	}
	pfree(listed);
	return lay;
}

static int
PartDistCmp(const void *a, const void *b)
{
	const ShardPart *pa = *(ShardPart *const *) a;
	const ShardPart *pb = *(ShardPart *const *) b;

	if (pa->dist != pb->dist)
		return pa->dist < pb->dist ? -1 : 1;
	return pa->relid < pb->relid ? -1 : (pa->relid > pb->relid ? 1 : 0);
}

/*
 * The partitions that own a cell, nearest to the query first (a
 * partition's distance is its nearest cell's), into order[].
 */
static int
RankParts(const Routing *r, ShardLayout *lay, const float *q, float *dist, ShardPart **order)
{
	int			n = 0;

	CellDistances(r, q, dist);
	for (int i = 0; i < lay->nparts; i++)
	{
		ShardPart  *sp = &lay->parts[i];

		if (sp->ncells == 0)
			continue;
		sp->dist = FLT_MAX;
		for (int j = 0; j < sp->ncells; j++)
			sp->dist = Min(sp->dist, dist[sp->cells[j]]);
		order[n++] = sp;
	}
	qsort(order, n, sizeof(ShardPart *), PartDistCmp);
	return n;
}

/* fn_extra of vectorx_shard_probe: the routing, the layout, the last query's ranking */
typedef struct ProbeCache
{
	Routing    *r;
	Oid			parent;
	ShardLayout *lay;
	float	   *dist;
	ShardPart **order;
	int			nordered;
	float	   *lastq;			/* the query the ranking is for */
} ProbeCache;

/*
 * vectorx_shard_probe(q vector, routing text, parent regclass, rank int)
 * -> int: a cell value that selects the rank-th nearest partition of
 * parent to q (1-based), or NULL when rank is past vectorx.shard_probes
 * (0: every partition) or past the partitions that own cells.  The
 * planner hook (shard.c) puts one equality pruning step per rank into the
 * Append of a k-NN query on a cluster-sharded table; PostgreSQL's run-time
 * partition pruning then keeps the partitions the steps select.
 */
PG_FUNCTION_INFO_V1(vectorx_shard_probe);
Datum
vectorx_shard_probe(PG_FUNCTION_ARGS)
{
	Vector	   *q = PG_GETARG_VECTOR_P(0);
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Oid			parent = PG_GETARG_OID(2);
	int			rank = PG_GETARG_INT32(3);
	ProbeCache *pc = (ProbeCache *) fcinfo->flinfo->fn_extra;
	MemoryContext cxt = fcinfo->flinfo->fn_mcxt;

	if (pc == NULL || pc->parent != parent || strcmp(pc->r->name, name) != 0)
	{
		Relation	rel;
		MemoryContext old;

		pc = MemoryContextAllocZero(cxt, sizeof(ProbeCache));
		pc->r = RoutingLoad(name, cxt);
		pc->parent = parent;
		rel = relation_open(parent, AccessShareLock);
		old = MemoryContextSwitchTo(cxt);
		pc->lay = LayoutLoad(rel, pc->r->cells);
		pc->dist = palloc(sizeof(float) * pc->r->cells);
		pc->order = palloc(sizeof(ShardPart *) * Max(pc->lay->nparts, 1));
		pc->lastq = palloc(sizeof(float) * pc->r->dims);
		MemoryContextSwitchTo(old);
		relation_close(rel, AccessShareLock);
		fcinfo->flinfo->fn_extra = pc;
		pc->nordered = -1;
	}
	CheckDims(pc->r, q);
	if (pc->nordered < 0 || memcmp(pc->lastq, q->x, sizeof(float) * pc->r->dims) != 0)
	{
		memcpy(pc->lastq, q->x, sizeof(float) * pc->r->dims);
		pc->nordered = RankParts(pc->r, pc->lay, q->x, pc->dist, pc->order);
	}
	if (rank < 1 || rank > pc->nordered || (vx_shard_probes > 0 && rank > vx_shard_probes))
		PG_RETURN_NULL();
	PG_RETURN_INT32(pc->order[rank - 1]->probe_value);
}

/*
 * The routing of a cluster-sharded table, loaded in the current context;
 * an ERROR for a table not partitioned by one.
 */
static Routing *
RoutingOfTable(Relation rel)
{
	AttrNumber	attno;
	char	   *name = VxShardRoutingOf(rel, &attno);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not partitioned by a vectorx routing", RelationGetRelationName(rel)),
				 errhint("A cluster-sharded table is PARTITION BY LIST (vectorx_shard_cell(column, 'routing')).")));
	return RoutingLoad(name, CurrentMemoryContext);
}

/*
 * vectorx_shard_route(tab regclass, q vector): for each partition of a
 * cluster-sharded table that owns a cell, nearest first: its rank, the
 * partition, its foreign server (NULL for a local partition), its cells,
 * the distance of q to its nearest cell (squared L2, or 1 - cos), and
 * whether a k-NN query for q contacts it at the current
 * vectorx.shard_probes.
 */
PG_FUNCTION_INFO_V1(vectorx_shard_route);
Datum
vectorx_shard_route(PG_FUNCTION_ARGS)
{
	Oid			tab = PG_GETARG_OID(0);
	Vector	   *q = PG_GETARG_VECTOR_P(1);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	Routing    *r;
	ShardLayout *lay;
	float	   *dist;
	ShardPart **order;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	rel = relation_open(tab, AccessShareLock);
	r = RoutingOfTable(rel);
	CheckDims(r, q);
	lay = LayoutLoad(rel, r->cells);
	dist = palloc(sizeof(float) * r->cells);
	order = palloc(sizeof(ShardPart *) * Max(lay->nparts, 1));
	n = RankParts(r, lay, q->x, dist, order);
	for (int i = 0; i < n; i++)
	{
		Datum		values[6];
		bool		nulls[6] = {0};
		Datum	   *cells = palloc(sizeof(Datum) * order[i]->ncells);

		for (int j = 0; j < order[i]->ncells; j++)
			cells[j] = Int32GetDatum(order[i]->cells[j]);
		values[0] = Int32GetDatum(i + 1);
		values[1] = ObjectIdGetDatum(order[i]->relid);
		if (get_rel_relkind(order[i]->relid) == RELKIND_FOREIGN_TABLE)
			values[2] = CStringGetTextDatum(GetForeignServer(GetForeignTable(order[i]->relid)->serverid)->servername);
		else
			nulls[2] = true;
		values[3] = PointerGetDatum(construct_array(cells, order[i]->ncells, INT4OID, 4, true, TYPALIGN_INT));
		values[4] = Float8GetDatum(order[i]->dist);
		values[5] = BoolGetDatum(vx_shard_probes <= 0 || i < vx_shard_probes);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	relation_close(rel, AccessShareLock);
	return (Datum) 0;
}

/*
 * The "Shard Routing" line EXPLAIN prints for a k-NN query on a cluster-
 * sharded table (shard.c): the routing, vectorx.shard_probes, and, for a
 * query vector known when EXPLAIN runs (q non-NULL), every partition
 * nearest first with its distance and whether the query contacts it; for
 * one known only when the query runs, what decides.  NULL (no line) unless
 * parent is a table the user may read, partitioned by that routing: the
 * pruning step may come from a user's own call of vectorx_shard_probe.
 */
char *
VxShardRouteExplain(Oid parent, const char *routing, const Vector *q)
{
	StringInfoData buf;
	Relation	rel;
	AttrNumber	attno;
	char	   *name;
	Routing    *r;
	ShardLayout *lay;
	int			owning = 0;

	rel = try_relation_open(parent, AccessShareLock);
	if (rel == NULL)
		return NULL;
	name = VxShardRoutingOf(rel, &attno);
	if (name == NULL || strcmp(name, routing) != 0 ||
		pg_class_aclcheck(parent, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
	{
		relation_close(rel, AccessShareLock);
		return NULL;
	}
	initStringInfo(&buf);
	r = RoutingLoad(routing, CurrentMemoryContext);
	lay = LayoutLoad(rel, r->cells);
	for (int i = 0; i < lay->nparts; i++)
		owning += lay->parts[i].ncells > 0;
	appendStringInfo(&buf, "routing \"%s\" (%d cells), vectorx.shard_probes = %d: ",
					 routing, r->cells, vx_shard_probes);
	if (q == NULL || q->dim != r->dims)
		appendStringInfo(&buf, "the %d of %d partitions nearest the query vector (by their nearest cell), chosen when the query runs (vectorx_shard_route lists them)",
						 vx_shard_probes > 0 ? Min(vx_shard_probes, owning) : owning, owning);
	else
	{
		float	   *dist = palloc(sizeof(float) * r->cells);
		ShardPart **order = palloc(sizeof(ShardPart *) * Max(lay->nparts, 1));
		int			n = RankParts(r, lay, q->x, dist, order);

		for (int i = 0; i < n; i++)
			appendStringInfo(&buf, "%s%s %s (rank %d, distance %.6g)",
							 i > 0 ? ", " : "",
							 (vx_shard_probes <= 0 || i < vx_shard_probes) ? "contacted" : "pruned",
							 get_rel_name(order[i]->relid), i + 1, order[i]->dist);
	}
	relation_close(rel, AccessShareLock);
	return buf.data;
}

/*
 * vectorx_shard_partitions(tab regclass): each partition of a cluster-
 * sharded table with its server and the cells it owns (a default
 * partition: every cell no other lists).  Used by vectorx_shard_balance
 * and vectorx_shard_move_cell.
 */
PG_FUNCTION_INFO_V1(vectorx_shard_partitions);
Datum
vectorx_shard_partitions(PG_FUNCTION_ARGS)
{
	Oid			tab = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	Routing    *r;
	ShardLayout *lay;
	PartitionBoundInfo bi;
	int			default_index;

	InitMaterializedSRF(fcinfo, 0);
	rel = relation_open(tab, AccessShareLock);
	r = RoutingOfTable(rel);
	lay = LayoutLoad(rel, r->cells);
	bi = RelationGetPartitionDesc(rel, true)->boundinfo;
	default_index = bi != NULL && partition_bound_has_default(bi) ? bi->default_index : -1;
	for (int i = 0; i < lay->nparts; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {0};
		ShardPart  *sp = &lay->parts[i];
		Datum	   *cells = palloc(sizeof(Datum) * Max(sp->ncells, 1));

		for (int j = 0; j < sp->ncells; j++)
			cells[j] = Int32GetDatum(sp->cells[j]);
		values[0] = ObjectIdGetDatum(sp->relid);
		if (get_rel_relkind(sp->relid) == RELKIND_FOREIGN_TABLE)
			values[1] = CStringGetTextDatum(GetForeignServer(GetForeignTable(sp->relid)->serverid)->servername);
		else
			nulls[1] = true;
		values[2] = PointerGetDatum(construct_array(cells, sp->ncells, INT4OID, 4, true, TYPALIGN_INT));
		values[3] = BoolGetDatum(i == default_index);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	relation_close(rel, AccessShareLock);
	return (Datum) 0;
}

/* ---------------------------------------------------------------------
 * Training
 * ---------------------------------------------------------------------
 */

/*
 * vectorx_shard_train(routing text, sample_query text, cells int,
 * metric text, sample_rows int) -> int: runs sample_query (one column of
 * type vector), keeps a seeded reservoir sample of at most sample_rows of
 * its rows, clusters them into cells centroids with the IVF-PQ k-means
 * (cosine: on unit vectors, centroids normalised), and stores the routing.
 * Returns the rows sampled.  Needs INSERT on vectorx_shard_routing.
 */
PG_FUNCTION_INFO_V1(vectorx_shard_train);
Datum
vectorx_shard_train(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *query;
	int			cells;
	char	   *metric;
	int			target;
	bool		cosine;
	float	   *x = NULL;
	int			cap = 0;
	int			dims = -1;
	int64		seen = 0;
	int			n = 0;
	pg_prng_state prng;
	Portal		portal;
	float	   *centroids;
	int		   *counts;
	Datum	   *cd;
	Datum	   *nd;
	float	   *scratch;
	Oid			vectoroid;
	Routing		r;
	Oid			argtypes[6] = {TEXTOID, TEXTOID, INT4OID, INT4OID, FLOAT4ARRAYOID, INT4ARRAYOID};
	Datum		args[6];
	int			ret;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("vectorx_shard_train arguments must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	cells = PG_GETARG_INT32(2);
	metric = text_to_cstring(PG_GETARG_TEXT_PP(3));
	target = PG_GETARG_INT32(4);
	if (strcmp(metric, "l2") != 0 && strcmp(metric, "cosine") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown routing metric \"%s\"", metric),
				 errhint("The metrics are l2 and cosine.")));
	cosine = strcmp(metric, "cosine") == 0;
	if (cells < 1 || cells > SHARD_MAX_CELLS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cells must be between 1 and %d", SHARD_MAX_CELLS)));
	if (target < cells || target > SHARD_MAX_SAMPLE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample_rows must be between cells (%d) and %d", cells, SHARD_MAX_SAMPLE)));

	vectoroid = TypenameGetTypid("vector");
	pg_prng_seed(&prng, SHARD_TRAIN_SEED);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	{
		Oid			t[1] = {TEXTOID};
		Datum		a[1] = {CStringGetTextDatum(name)};

		if (SPI_execute_with_args(psprintf("SELECT 1 FROM %s.vectorx_shard_routing WHERE name = $1", ExtSchema()),
								  1, t, a, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "reading vectorx_shard_routing failed");
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("vectorx routing \"%s\" already exists", name),
					 errhint("A routing never changes; train a new one under another name.")));
	}
	portal = SPI_cursor_open_with_args(NULL, query, 0, NULL, NULL, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		if (SPI_tuptable->tupdesc->natts != 1 ||
			(OidIsValid(vectoroid) && SPI_gettypeid(SPI_tuptable->tupdesc, 1) != vectoroid))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("the sample query must return one column of type vector")));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
			Vector	   *v;
			int			slot;

			if (isnull)
				continue;
			v = DatumGetVector(d);
			if (dims < 0)
				dims = v->dim;
			else if (v->dim != dims)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("the sample's vectors have %d and %d dimensions", dims, v->dim)));
			seen++;
			if (n < target)
			{
				/* the sample grows with the rows read, up to target */
				if (n == cap)
				{
					Size		bytes;

					cap = Min(target, Max(1024, cap * 2));
					bytes = sizeof(float) * (Size) dims * cap;
					if (bytes > (Size) maintenance_work_mem * 1024)
						ereport(ERROR,
								(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
								 errmsg("the sample needs more than maintenance_work_mem (%d kB)",
										maintenance_work_mem),
								 errhint("Sample fewer rows, or raise maintenance_work_mem.")));
					x = x ? repalloc_huge(x, bytes) : MemoryContextAllocHuge(CurrentMemoryContext, bytes);
				}
				slot = n++;
			}
			else
			{
				int64		j = (int64) pg_prng_uint64_range(&prng, 0, seen - 1);

				if (j >= target)
					continue;
				slot = (int) j;
			}
			memcpy(x + (Size) slot * dims, v->x, sizeof(float) * dims);
			if ((Pointer) v != DatumGetPointer(d))
				pfree(v);
			if (cosine)
			{
				float	   *p = x + (Size) slot * dims;
				float		norm = sqrtf(vx_kernels->dot(p, p, dims));

				if (norm > 0)
					for (int k = 0; k < dims; k++)
						p[k] /= norm;
			}
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	if (n < cells)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the sample has %d non-NULL vectors, fewer than the %d cells asked for", n, cells),
				 errhint("Train fewer cells, or sample more rows.")));

	centroids = palloc(sizeof(float) * (Size) cells * dims);
	IvfpqKmeans(x, n, dims, cells, centroids, SHARD_TRAIN_ITERS, SHARD_TRAIN_SEED);
	if (cosine)
		for (int c = 0; c < cells; c++)
		{
			float	   *p = centroids + (Size) c * dims;
			float		norm = sqrtf(vx_kernels->dot(p, p, dims));

			if (norm > 0)
				for (int k = 0; k < dims; k++)
					p[k] /= norm;
		}

	r.name = name;
	r.cosine = cosine;
	r.dims = dims;
	r.cells = cells;
	r.centroids = centroids;
	counts = palloc0(sizeof(int) * cells);
	scratch = palloc(sizeof(float) * cells);
	for (int i = 0; i < n; i++)
		counts[NearestCell(&r, x + (Size) i * dims, scratch)]++;
	pfree(x);

	cd = palloc(sizeof(Datum) * (Size) cells * dims);
	for (Size i = 0; i < (Size) cells * dims; i++)
		cd[i] = Float4GetDatum(centroids[i]);
	nd = palloc(sizeof(Datum) * cells);
	for (int c = 0; c < cells; c++)
		nd[c] = Int32GetDatum(counts[c]);
	args[0] = CStringGetTextDatum(name);
	args[1] = CStringGetTextDatum(metric);
	args[2] = Int32GetDatum(dims);
	args[3] = Int32GetDatum(cells);
	args[4] = PointerGetDatum(construct_array(cd, cells * dims, FLOAT4OID, 4, true, TYPALIGN_INT));
	args[5] = PointerGetDatum(construct_array(nd, cells, INT4OID, 4, true, TYPALIGN_INT));
	ret = SPI_execute_with_args(psprintf("INSERT INTO %s.vectorx_shard_routing "
										 "(name, metric, dims, cells, centroids, sample_counts, sample_rows) "
										 "VALUES ($1, $2, $3, $4, $5, $6, %d)", ExtSchema(), n),
								6, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "storing the routing failed: %s", SPI_result_code_string(ret));
	SPI_finish();
	PG_RETURN_INT32(n);
}

void
VxShardRouteInit(void)
{
	DefineCustomIntVariable("vectorx.shard_probes",
							"Partitions of a cluster-sharded table a k-NN query contacts.",
							"The partitions owning the centroids nearest to the query vector, "
							"nearest first; 0 contacts every partition.",
							&vx_shard_probes, 0, 0, 100000, PGC_USERSET, 0, NULL, NULL, NULL);
}

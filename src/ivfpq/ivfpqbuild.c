/*-------------------------------------------------------------------------
 *
 * ivfpqbuild.c
 *	  CREATE INDEX for IVF-PQ and IVFFlat: sample, train the coarse
 *	  centroids and (IVF-PQ) the PQ codebooks, assign and encode every row
 *	  into a tuplesort by list, then write the pages (ivfpq.h, BUILD) and
 *	  WAL-log them in bulk.  Also ambuildempty, the init fork of an
 *	  unlogged index.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/tableam.h"
#include "access/tupdesc.h"
#include "catalog/index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "commands/progress.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplesort.h"

#include "distance.h"
#include "ivfpq.h"
#include "sample.h"

#define TRAIN_SEED		0x1f5eed
#define KMEANS_ITERS	20

typedef struct BuildState
{
	Relation	index;
	IvfpqShape *shape;
	VxMetric	metric;
	VxElem		elem;			/* the indexed column's type */
	const char *amname;			/* for messages: "IVF-PQ" or "IVFFlat" */
	VxCodec		codec;			/* IVFFlat's codes (bit columns route by 0/1 floats) */
	int			dims;
	/* training sample */
	float	   *sample;
	int			nsample;
	int			maxsample;
	/* assignment */
	Tuplesortstate *sort;
	TupleDesc	sortdesc;
	TupleTableSlot *slot;
	float	   *vec;
	float	   *resid;
	uint8	   *code;			/* one entry's code (IvfpqEntryCodeLen) */
	int			code_len;
	bytea	   *codebytes;
	double		indtuples;
	/* an expression index's sample (SampleCallback) */
	double		seen;
	pg_prng_state prng;
	MemoryContext tmpcxt;
} BuildState;

static int
OptionOr(Relation index, int offset, int dflt)
{
	IvfpqOptions *opts = (IvfpqOptions *) index->rd_options;
	int			v = opts ? *(int *) ((char *) opts + offset) : 0;

	return v > 0 ? v : dflt;
}

/* rows to train on: enough for every list and sub-centroid, within half of maintenance_work_mem */
static int
TrainRows(int lists, int ksub, int dims)
{
	double		want = Max(50.0 * lists, 40.0 * ksub);
	double		fit = (double) maintenance_work_mem * 1024.0 / 2 / (sizeof(float) * dims);

	return (int) Max(Min(Min(want, fit), 1000000.0), 1.0);
}

static void
AddSample(void *arg, Datum value, ItemPointer tid)
{
	BuildState *bs = (BuildState *) arg;

	if (bs->nsample >= bs->maxsample)
		return;
	if (VxPrepareVector(value, bs->elem, bs->dims, bs->metric, bs->vec, bs->amname))
	{
		memcpy(bs->sample + (Size) bs->nsample * bs->dims, IvfpqRoutingVector(&bs->codec, bs->vec, bs->resid),
			   sizeof(float) * bs->dims);
		bs->nsample++;
	}
}

/*
 * table_index_build_scan callback for an expression index (IVFFlat) or a
 * partial one: the sample by reservoir over the rows the index will hold
 * (VxSampleRows reads a column of every row), seeded.  Counts them for
 * the list count.
 */
static void
SampleCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	BuildState *bs = (BuildState *) state;
	int			slot;

	if (isnull[0] || !VxPrepareVector(values[0], bs->elem, bs->dims, bs->metric, bs->vec, bs->amname))
		return;
	bs->seen++;
	if (bs->nsample < bs->maxsample)
		slot = bs->nsample;
	else
	{
		uint64		j = pg_prng_uint64_range(&bs->prng, 0, (uint64) bs->seen - 1);

		if (j >= (uint64) bs->maxsample)
			return;
		slot = (int) j;
	}
	memcpy(bs->sample + (Size) slot * bs->dims, IvfpqRoutingVector(&bs->codec, bs->vec, bs->resid),
		   sizeof(float) * bs->dims);
	if (slot == bs->nsample)
		bs->nsample++;
}

/* table_index_build_scan callback: assign, encode, sort by list */
static void
AssignCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	BuildState *bs = (BuildState *) state;
	const IvfpqShape *shape = bs->shape;
	MemoryContext old;
	int			list = 0;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpcxt);
	if (VxPrepareVector(values[0], bs->elem, bs->dims, bs->metric, bs->vec, bs->amname))
	{
		memset(bs->code, 0, bs->code_len);
		if (shape->meta.trained)
			list = IvfpqNearest(IvfpqRoutingVector(&shape->codec, bs->vec, bs->resid), shape->centroids,
								shape->centroid_norms, shape->meta.lists, bs->dims, NULL);
		if (shape->flat)
			IvfpqEncodeFlat(shape, bs->vec, bs->code);
		else if (shape->meta.trained)
		{
			IvfpqResidual(shape, bs->vec, list, bs->resid);
			IvfpqEncode(shape, bs->resid, bs->code);
		}
		memcpy(VARDATA(bs->codebytes), bs->code, bs->code_len);
		ExecClearTuple(bs->slot);
		bs->slot->tts_values[0] = Int32GetDatum(list);
		bs->slot->tts_values[1] = PointerGetDatum(tid);
		bs->slot->tts_values[2] = PointerGetDatum(bs->codebytes);
		memset(bs->slot->tts_isnull, 0, sizeof(bool) * 3);
		ExecStoreVirtualTuple(bs->slot);
		tuplesort_puttupleslot(bs->sort, bs->slot);
		bs->indtuples++;
		if (((int64) bs->indtuples & 1023) == 0)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpcxt);
}

static Buffer
NewPage(Relation index, uint8 kind)
{
	Buffer		buf = VxNewBuffer(index);

	IvfpqInitPage(BufferGetPage(buf), kind);
	return buf;
}

static void
FinishPage(Buffer buf)
{
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/* write a flat array over fresh pages; returns the first block */
static BlockNumber
WriteFlat(Relation index, const void *data, Size bytes)
{
	BlockNumber first = InvalidBlockNumber;
	Size		done = 0;

	while (done < bytes)
	{
		Buffer		buf = NewPage(index, IVFPQ_FLAT);
		Size		len = Min(bytes - done, IVFPQ_DATA_SIZE);

		if (!BlockNumberIsValid(first))
			first = BufferGetBlockNumber(buf);
		memcpy(IvfpqPageData(BufferGetPage(buf)), (const char *) data + done, len);
		FinishPage(buf);
		done += len;
	}
	return first;
}

/* the list pages from the sorted entries; fills dir[] (head, insert) */
static void
WriteLists(BuildState *bs, IvfpqListData *dir)
{
	const IvfpqMetaPageData *meta = &bs->shape->meta;
	int			capacity = IvfpqPageCapacity(meta);
	Buffer		cur = InvalidBuffer;
	int			cur_list = -1;
	int64		written = 0;

	while (tuplesort_gettupleslot(bs->sort, true, false, bs->slot, NULL))
	{
		bool		isnull;
		int			list = DatumGetInt32(slot_getattr(bs->slot, 1, &isnull));
		ItemPointer tid = (ItemPointer) DatumGetPointer(slot_getattr(bs->slot, 2, &isnull));
		bytea	   *code = DatumGetByteaPP(slot_getattr(bs->slot, 3, &isnull));
		Page		page;
		IvfpqPageOpaque op;

		if (list != cur_list || IvfpqPageGetOpaque(BufferGetPage(cur))->count >= capacity)
		{
			Buffer		next = NewPage(bs->index, IVFPQ_LIST);

			if (list != cur_list)
			{
				if (BufferIsValid(cur))
				{
					dir[cur_list].insert = BufferGetBlockNumber(cur);
					FinishPage(cur);
				}
				dir[list].head = BufferGetBlockNumber(next);
				cur_list = list;
			}
			else
			{
				IvfpqPageGetOpaque(BufferGetPage(cur))->next = BufferGetBlockNumber(next);
				FinishPage(cur);
			}
			cur = next;
		}
		page = BufferGetPage(cur);
		op = IvfpqPageGetOpaque(page);
		IvfpqPutEntry(IvfpqPageData(page), meta, bs->shape->code_bytes, op->count,
					  (const uint8 *) VARDATA_ANY(code), tid);
		op->count++;
		if ((++written & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (BufferIsValid(cur))
	{
		dir[cur_list].insert = BufferGetBlockNumber(cur);
		FinishPage(cur);
	}
}

static TupleDesc
SortDesc(void)
{
	TupleDesc	desc = CreateTemplateTupleDesc(3);

	TupleDescInitEntry(desc, 1, "list", INT4OID, -1, 0);
	TupleDescInitEntry(desc, 2, "tid", TIDOID, -1, 0);
	TupleDescInitEntry(desc, 3, "code", BYTEAOID, -1, 0);
	return desc;
}

/* sub-quantizers a block of nbits-bit codes with its TIDs fits a page with */
static int
MaxM(int nbits)
{
	int			block = IvfpqBlockSize(nbits);

	return (int) ((IVFPQ_DATA_SIZE - block * sizeof(ItemPointerData)) / (IvfpqCodeBytes(1, nbits, 0)));
}

/* fill a meta page's layout fields for m, nbits; errors when a block cannot fit a page */
static void
LayoutMeta(IvfpqMetaPageData *meta, int dims, int m, int nbits)
{
	int			block = IvfpqBlockSize(nbits);

	meta->dims = dims;
	meta->m = m;
	meta->nbits = nbits;
	meta->block = block;
	meta->block_bytes = IvfpqBlockBytes(m, nbits, IvfpqFlatBytes(dims, meta->metric));
	if (meta->block_bytes > IVFPQ_DATA_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("m = %d is too large for nbits = %d", m, nbits),
				 errdetail("A block of %d codes and their heap TIDs takes %u bytes, more than a page holds (%zu).",
						   block, meta->block_bytes, (Size) IVFPQ_DATA_SIZE),
				 errhint("Use m <= %d with nbits = 8, or nbits = 4 (m <= %d).", MaxM(8), MaxM(4))));
	meta->blocks_per_page = IVFPQ_DATA_SIZE / meta->block_bytes;
}

/* default m: a sub-vector of 16 dimensions, within what a page holds */
static int
DefaultM(int dims, int nbits)
{
	return Min(Max(dims / 16, 1), MaxM(nbits));
}

/* the options and dimensions of the index being built */
static void
BuildShape(Relation index, IvfpqMetaPageData *meta, int *lists_opt)
{
	bool		flat = IvfpqIsFlatIndex(index);
	const char *amname = flat ? "ivfflat" : "ivfpq";
	VxElem		elem = VxIndexElem(index);
	int			dims;
	VxMetric	metric;
	int			nbits;
	int			m;

	/* before the dimensions: a sparsevec's may be far beyond the limits */
	if (elem == VX_ELEM_SPARSE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s does not index sparsevec columns", amname),
				 errhint("Use hnsw with sparsevec_l2_ops, sparsevec_ip_ops, sparsevec_cosine_ops or sparsevec_l1_ops.")));
	dims = VxIndexDims(index, !flat ? VECTOR_MAX_DIM :
								   elem == VX_ELEM_BIT ? IVFFLAT_MAX_BITS : IVFFLAT_MAX_DIM, amname);
	metric = VxIndexMetric(index);
	nbits = flat ? IVFPQ_NBITS_FLAT : OptionOr(index, offsetof(IvfpqOptions, nbits), 8);
	m = flat ? 0 : OptionOr(index, offsetof(IvfpqOptions, m), DefaultM(dims, nbits));

	if (metric == VX_METRIC_L1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s does not support L1 distance", amname)));
	/* bit columns: IVFFlat with Hamming distance (pgvector's bit_hamming_ops) */
	if (elem == VX_ELEM_BIT && (!flat || metric != VX_METRIC_HAMMING))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 flat ? errmsg("ivfflat indexes bit columns by Hamming distance only") :
				 errmsg("ivfpq does not index bit columns"),
				 errhint(flat ? "Use bit_hamming_ops, or hnsw with bit_jaccard_ops." :
						 "Use ivfflat with bit_hamming_ops, or hnsw with bit_hamming_ops or bit_jaccard_ops.")));
	/* IVFFlat's executor re-checks rows itself: expressions are fine (IVFFLAT) */
	if (!flat && index->rd_index->indkey.values[0] == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ivfpq indexes a column, not an expression"),
				 errdetail("Scans re-rank candidates with the column's value in the table row."),
				 errhint("Give the column its dimensions (ALTER TABLE ... ALTER COLUMN ... TYPE vector(n)) and index it.")));
	if (m > dims)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("m = %d exceeds the %d dimensions of the column", m, dims),
				 errhint("Each of the m sub-quantizers encodes at least one dimension.")));
	memset(meta, 0, sizeof(IvfpqMetaPageData));
	meta->magic = IVFPQ_MAGIC;
	meta->version = IVFPQ_VERSION;
	meta->build_id = pg_prng_uint64(&pg_global_prng_state) | 1;
	meta->metric = metric;
	LayoutMeta(meta, dims, m, nbits);
	/* IVFFlat: pgvector's default of 100 lists when none is given */
	*lists_opt = OptionOr(index, offsetof(IvfpqOptions, lists), flat ? 100 : 0);
}

/* default lists: rows / 1000 up to a million rows, then sqrt(rows) */
static int
DefaultLists(double rows)
{
	double		l = rows <= 1e6 ? rows / 1000 : sqrt(rows);

	return (int) Min(Max(l, 1), IVFPQ_MAX_LISTS);
}

static IvfpqShape *
NewShape(const IvfpqMetaPageData *meta, VxElem elem)
{
	IvfpqShape *shape = palloc0(sizeof(IvfpqShape));
	int			m = meta->m;
	Size		nc = (Size) meta->lists * meta->dims;

	shape->meta = *meta;
	shape->flat = meta->nbits == IVFPQ_NBITS_FLAT;
	shape->ksub = shape->flat ? 0 : 1 << meta->nbits;
	shape->code_bytes = IvfpqCodeBytes(m, meta->nbits, IvfpqFlatBytes(meta->dims, meta->metric));
	VxCodecInit(&shape->codec, meta->dims, (VxMetric) meta->metric, elem, 0);
	shape->dsub = palloc(sizeof(int) * m);
	shape->doff = palloc(sizeof(int) * m);
	shape->cboff = palloc(sizeof(int) * m);
	shape->centroids = palloc_extended(sizeof(float) * Max(nc, 1), MCXT_ALLOC_HUGE);
	shape->centroid_norms = palloc(sizeof(float) * Max(meta->lists, 1));
	shape->codebooks = palloc0(sizeof(float) * shape->ksub * meta->dims);
	shape->codebooks_t = palloc0(sizeof(float) * shape->ksub * meta->dims);
	shape->codebook_norms = palloc0(sizeof(float) * shape->ksub * m);
	IvfpqSubspaces(meta->dims, m, shape->dsub, shape->doff);
	for (int j = 0; j < m; j++)
		shape->cboff[j] = shape->ksub * shape->doff[j];
	return shape;
}

static void
Train(BuildState *bs)
{
	IvfpqShape *shape = bs->shape;
	int			n = bs->nsample;
	int			d = bs->dims;
	float	   *resid;
	double		err = 0;

	instr_time	start,
				mid,
				end;

	INSTR_TIME_SET_CURRENT(start);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_TRAIN);
	IvfpqKmeans(bs->sample, n, d, shape->meta.lists, shape->centroids, KMEANS_ITERS, TRAIN_SEED);
	IvfpqShapeDerive(shape);	/* centroid norms; codebooks come next */
	INSTR_TIME_SET_CURRENT(mid);

	/* IVFFlat: no codebooks; the error is the codes' (vxcodec.h; bits: none) */
	if (shape->flat)
	{
		for (int i = 0; i < n && shape->codec.elem != VX_ELEM_BIT; i++)
			err += IvfpqEncodeFlat(shape, bs->sample + (Size) i * d, bs->code);
		shape->meta.train_rows = n;
		shape->meta.train_error = n > 0 ? err / n : 0;
		INSTR_TIME_SUBTRACT(mid, start);
		elog(DEBUG1, "ivfflat build: %u centroids trained on %d rows in %.1f s",
			 shape->meta.lists, n, INSTR_TIME_GET_DOUBLE(mid));
		return;
	}

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_CODEBOOKS);
	resid = palloc_extended(sizeof(float) * (Size) n * d, MCXT_ALLOC_HUGE);
	for (int i = 0; i < n; i++)
	{
		int			list = IvfpqNearest(bs->sample + (Size) i * d, shape->centroids,
										shape->centroid_norms, shape->meta.lists, d, NULL);

		IvfpqResidual(shape, bs->sample + (Size) i * d, list, resid + (Size) i * d);
	}
	IvfpqTrainCodebooks(shape, resid, n, TRAIN_SEED);
	IvfpqShapeDerive(shape);
	for (int i = 0; i < n; i++)
		err += IvfpqEncode(shape, resid + (Size) i * d, bs->code);
	shape->meta.train_rows = n;
	shape->meta.train_error = n > 0 ? err / n : 0;
	pfree(resid);
	INSTR_TIME_SET_CURRENT(end);
	INSTR_TIME_SUBTRACT(end, mid);
	INSTR_TIME_SUBTRACT(mid, start);
	elog(DEBUG1, "ivfpq build: %u centroids trained on %d rows in %.1f s, %d codebooks in %.1f s",
		 shape->meta.lists, n, INSTR_TIME_GET_DOUBLE(mid), shape->meta.m, INSTR_TIME_GET_DOUBLE(end));
}

/* IVFFlat's build is IVF-PQ's; BuildShape tells them apart (IvfpqIsFlatIndex) */
IndexBuildResult *
ivfflatbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	return ivfpqbuild(heap, index, indexInfo);
}

IndexBuildResult *
ivfpqbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	BuildState	bs;
	IvfpqMetaPageData meta;
	int			lists_opt;
	double		est_rows;
	double		reltuples;
	IvfpqListData *dir;
	Buffer		metabuf;
	int			ndir;
	AttrNumber	sortcol[1] = {1};
	Oid			sortop[1] = {Int4LessOperator};
	Oid			sortcoll[1] = {InvalidOid};
	bool		nullsfirst[1] = {false};

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	BuildShape(index, &meta, &lists_opt);

	memset(&bs, 0, sizeof(bs));
	bs.index = index;
	bs.dims = meta.dims;
	bs.metric = (VxMetric) meta.metric;
	bs.elem = VxIndexElem(index);
	bs.amname = meta.nbits == IVFPQ_NBITS_FLAT ? "IVFFlat" : "IVF-PQ";
	VxCodecInit(&bs.codec, meta.dims, (VxMetric) meta.metric, bs.elem, 0);
	bs.tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "ivfpq build tuple", ALLOCSET_DEFAULT_SIZES);
	bs.vec = palloc(sizeof(float) * meta.dims);
	bs.resid = palloc(sizeof(float) * meta.dims);
	bs.code_len = IvfpqEntryCodeLen(&meta);
	bs.code = palloc0(Max(bs.code_len, IVFPQ_MAX_M));
	bs.codebytes = palloc0(VARHDRSZ + bs.code_len);
	SET_VARSIZE(bs.codebytes, VARHDRSZ + bs.code_len);

	/* sample */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_SAMPLE);
	{
		int			want_lists = lists_opt > 0 ? lists_opt :
			DefaultLists(Max(heap->rd_rel->reltuples, RelationGetNumberOfBlocks(heap)));

		bs.maxsample = TrainRows(want_lists, 1 << meta.nbits, meta.dims);
		bs.sample = palloc_extended(sizeof(float) * (Size) bs.maxsample * meta.dims, MCXT_ALLOC_HUGE);
		if (index->rd_index->indkey.values[0] != 0 && indexInfo->ii_Predicate == NIL)
			VxSampleRows(heap, index->rd_index->indkey.values[0], bs.maxsample, TRAIN_SEED,
						 AddSample, &bs, &est_rows);
		else
		{
			/*
			 * an expression (IVFFlat only) or a partial index: one more
			 * pass, computing the expression and applying the predicate,
			 * so that the lists are trained on the rows the index holds
			 */
			pg_prng_seed(&bs.prng, TRAIN_SEED);
			table_index_build_scan(heap, index, indexInfo, true, false, SampleCallback, &bs, NULL);
			est_rows = bs.seen;
		}
		meta.lists = lists_opt > 0 ? lists_opt : DefaultLists(est_rows);
	}
	if (bs.nsample == 0)
	{
		ereport(NOTICE,
				(errmsg("%s index \"%s\" created on a table without vectors",
						meta.nbits == IVFPQ_NBITS_FLAT ? "ivfflat" : "ivfpq", RelationGetRelationName(index)),
				 meta.nbits == IVFPQ_NBITS_FLAT ?
				 errdetail("It has nothing to train its centroids on, so it keeps one list and scans all of it.") :
				 errdetail("It has nothing to train its centroids and codebooks on, so it keeps heap TIDs only and searches exactly."),
				 errhint("REINDEX it once the table holds data.")));
		meta.lists = 1;
		meta.trained = 0;
	}
	else
	{
		if ((int) meta.lists > bs.nsample)
		{
			ereport(NOTICE,
					(errmsg("%s index \"%s\" gets %d lists, not %u: the table has only %d vectors",
							meta.nbits == IVFPQ_NBITS_FLAT ? "ivfflat" : "ivfpq",
							RelationGetRelationName(index), bs.nsample, meta.lists, bs.nsample),
					 errhint("REINDEX it once the table holds more data.")));
			meta.lists = bs.nsample;
		}
		if (meta.nbits != IVFPQ_NBITS_FLAT && bs.nsample < (1 << meta.nbits))
			ereport(NOTICE,
					(errmsg("ivfpq index \"%s\" trains its codebooks on only %d vectors, fewer than the %d codes of a sub-quantizer",
							RelationGetRelationName(index), bs.nsample, 1 << meta.nbits),
					 errdetail("Its PQ codes then estimate distances coarsely, and its scans return fewer of the nearest rows."),
					 errhint("REINDEX it once the table holds more data, or use nbits = 4.")));
		meta.trained = 1;
	}
	bs.shape = NewShape(&meta, bs.elem);
	if (meta.trained)
		Train(&bs);
	pfree(bs.sample);
	bs.sample = NULL;

	/* assign and encode every row */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_ASSIGN);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, (int64) Max(est_rows, 0));
	bs.sortdesc = SortDesc();
	bs.slot = MakeSingleTupleTableSlot(bs.sortdesc, &TTSOpsVirtual);
	bs.sort = tuplesort_begin_heap(bs.sortdesc, 1, sortcol, sortop, sortcoll, nullsfirst,
								   maintenance_work_mem, NULL, TUPLESORT_NONE);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true, AssignCallback, &bs, NULL);
	VX_WAIT_POINT("build_scanned");
	tuplesort_performsort(bs.sort);
	ExecDropSingleTupleTableSlot(bs.slot);
	bs.slot = MakeSingleTupleTableSlot(bs.sortdesc, &TTSOpsMinimalTuple);
	bs.shape->meta.build_rows = (uint64) bs.indtuples;

	/* write: meta, centroids, codebooks, directory, lists */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVFPQ_PHASE_WRITE);
	metabuf = NewPage(index, IVFPQ_META);
	if (meta.trained)
	{
		bs.shape->meta.centroid_start = WriteFlat(index, bs.shape->centroids,
												  sizeof(float) * (Size) meta.lists * meta.dims);
		/* IVFFlat: no codebooks, an empty part where they would start */
		bs.shape->meta.codebook_start = bs.shape->flat ? RelationGetNumberOfBlocks(index) :
			WriteFlat(index, bs.shape->codebooks, sizeof(float) * bs.shape->ksub * meta.dims);
	}
	ndir = (meta.lists + IVFPQ_LISTS_PER_PAGE - 1) / IVFPQ_LISTS_PER_PAGE;
	dir = palloc_extended(sizeof(IvfpqListData) * (Size) ndir * IVFPQ_LISTS_PER_PAGE, MCXT_ALLOC_HUGE);
	for (int i = 0; i < ndir * IVFPQ_LISTS_PER_PAGE; i++)
		dir[i].head = dir[i].insert = InvalidBlockNumber;
	bs.shape->meta.directory_start = RelationGetNumberOfBlocks(index);
	for (int i = 0; i < ndir; i++)
		FinishPage(NewPage(index, IVFPQ_DIRECTORY));
	bs.shape->meta.data_start = RelationGetNumberOfBlocks(index);
	WriteLists(&bs, dir);
	tuplesort_end(bs.sort);
	for (int i = 0; i < ndir; i++)
	{
		Buffer		buf = ReadBuffer(index, bs.shape->meta.directory_start + i);

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		memcpy(IvfpqPageData(BufferGetPage(buf)), dir + (Size) i * IVFPQ_LISTS_PER_PAGE,
			   sizeof(IvfpqListData) * IVFPQ_LISTS_PER_PAGE);
		FinishPage(buf);
	}
	*IvfpqPageGetMeta(BufferGetPage(metabuf)) = bs.shape->meta;
	FinishPage(metabuf);

	/* no WAL while writing: every page, whole, now (wal.h, THE BUILDS) */
	VxLogWholeIndex(index);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.indtuples;
	MemoryContextDelete(bs.tmpcxt);
	return result;
}

/* the init fork of an unlogged index: untrained, one empty list */
void
ivfpqbuildempty(Relation index)
{
	IvfpqMetaPageData meta;
	int			lists_opt;
	PGAlignedBlock metapage;
	PGAlignedBlock dirpage;
	Page		pages[2] = {metapage.data, dirpage.data};
	IvfpqListData *dir;

	BuildShape(index, &meta, &lists_opt);
	meta.lists = 1;
	meta.trained = 0;
	meta.directory_start = 1;
	meta.data_start = 2;

	IvfpqInitPage(metapage.data, IVFPQ_META);
	*IvfpqPageGetMeta(metapage.data) = meta;
	IvfpqInitPage(dirpage.data, IVFPQ_DIRECTORY);
	dir = (IvfpqListData *) IvfpqPageData(dirpage.data);
	for (int i = 0; i < IVFPQ_LISTS_PER_PAGE; i++)
		dir[i].head = dir[i].insert = InvalidBlockNumber;
	VxWriteInitFork(index, pages, 2);
}

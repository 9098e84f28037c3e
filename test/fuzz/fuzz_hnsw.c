/*-------------------------------------------------------------------------
 *
 * fuzz_hnsw.c
 *	  Fuzz target: the pages of an HNSW index, read and checked by the
 *	  code the server runs on them (src/hnsw, src/common/page.c), over a
 *	  mutated small index.  Every corruption must end in an ERROR; a
 *	  crash, a sanitizer report, a hang, an elog(ERROR) (an internal error
 *	  where the page should be reported as corrupt) or a leaked buffer pin
 *	  or lock is a finding (fuzz.h).
 *
 * Each input runs these steps, each like a query of its own, on a fake
 * index over the input's pages:
 *	1. HnswReadMeta: VxReadMetaPage, HnswCheckMeta, VxCheckMetaPage
 *	2. HnswIndexStats (vectorx_index_stats): the shape (HnswGetShape) and
 *	   two tolerant walks of the element stream (hnswstream.c,
 *	   HnswRecordSize)
 *	3. vectorx_hnsw_check: the same walks, then the reachability walk from
 *	   the entry point over the page graph (neighbors(), HnswPinBlock,
 *	   HnswCheckBlock, HnswCheckRecord)
 *	4. vectorx_hnsw_elements: a strict walk (an invalid record is an ERROR)
 *	5. an index scan, hnswbeginscan/hnswrescan/hnswgettuple/hnswendscan:
 *	   the greedy descent and the layer search over the page graph
 *	   (PageDistance, PageNeighbors, PagePrefetch), HnswReadResult for the
 *	   results, and with an allow-list HnswReadElementHead for every
 *	   candidate; with the GUCs, the query, an allow-list, an excluded row
 *	   and a limit taken from the control bytes
 *	6. HnswReadElementHead, HnswReadResult, HnswReadCodes and neighbors()
 *	   of every level for an element id taken from the control bytes, as
 *	   if a page had named it, and for the meta page's entry point; then
 *	   the element's decoded vector as a query (the reconnect pass's)
 * The step that reads the meta page decides the query's dimensions; when
 * it fails, steps 5 and 6 are left out (they would fail the same way).
 *
 * Input: 16 control bytes, then the pages (8 kB each, at most
 * VXFUZZ_MAX_BLOCKS; the last one padded with zeros).
 *	0		bits 0-2, the operator class's metric: 0 the meta page's (a
 *			matching operator class), 1-4 L2, inner product, cosine, L1;
 *			more: a support function of another kind.  Bit 3: the column's
 *			typmod is one more than the meta page's dimensions (else
 *			equal to them).  Bit 4: a sparsevec operator class (the
 *			query then a sparsevec of up to 40 non-zeros)
 *	1		hnsw.ef_search: 0 the default, else 1 + byte % 64
 *	2		bits 0-1: hnsw.iterative_scan (off, strict_order,
 *			relaxed_order, strict_order); bit 2: an allow-list; bit 3: an
 *			excluded heap row; bit 4: a limit of rows; bit 5: a zero query
 *	3		hnsw.max_scan_tuples: 0 the default, else 4 * byte
 *	4-7		the query's seed
 *	8-11	the element id of step 6 (little-endian)
 *	12		the allow-list: heap blocks (bit b: block b), and the TIDs
 *			(block 8, offsets 1..8) of bits set in byte 13
 *	13		rows the scan is asked for: 1 + byte % 128 (and see byte 12)
 *	14-15	the excluded row: block byte 14 % 8, offset byte 15
 * Seeds: corpus/fuzz_hnsw, small indexes built by test/fuzz/make-seeds.sh.
 *
 * Not covered here: inserts and VACUUM (they write pages through generic
 * WAL), and the build (it reads the heap); hnswbuild.c, hnswinsert.c,
 * hnswvacuum.c, hnswneighbors.c, hnswreconnect.c and hnswam.c are not
 * linked, so the GUC variables of hnswam.c are defined below.  The scan's
 * InOrder (strict order, a row found late) needs the executor's snapshot
 * and the heap row's exact distance: the scan has no snapshot, so late
 * rows are skipped as for a row the snapshot does not see.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relscan.h"
#include "fmgr.h"
#include "funcapi.h"
#include "nodes/execnodes.h"

#include "distance.h"
#include "fuzz.h"
#include "hnsw.h"
#include "sparsevec.h"
#include "vector.h"

/* hnswam.c is not linked: its GUC variables, set per input below */
int			hnsw_ef_search = HNSW_DEFAULT_EF_SEARCH;
int			hnsw_max_scan_tuples = HNSW_DEFAULT_MAX_SCAN_TUPLES;
int			hnsw_iterative_scan = VX_ITERATIVE_STRICT;
double		hnsw_scan_mem_multiplier = 1;

/*
 * hnswbuild.c is not linked either: vectorx_hnsw_check only compares the
 * index's ambuild with this address.
 */
IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	abort();
}

extern Datum vector_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum vector_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum cosine_distance(PG_FUNCTION_ARGS);
extern Datum l1_distance(PG_FUNCTION_ARGS);
extern Datum vector_dims(PG_FUNCTION_ARGS);
extern Datum sparsevec_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum sparsevec_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum sparsevec_cosine_distance(PG_FUNCTION_ARGS);
extern Datum sparsevec_l1_distance(PG_FUNCTION_ARGS);
extern Datum vectorx_hnsw_check(PG_FUNCTION_ARGS);
extern Datum vectorx_hnsw_elements(PG_FUNCTION_ARGS);

#define NCONTROL 16

typedef struct Input
{
	const uint8 *c;				/* the control bytes */
	Relation	index;
	Relation	heap;
	HnswMetaPageData meta;		/* step 1's, if it passed */
	Pointer		query;			/* a vector or, bit 4 of byte 0, a sparsevec */
} Input;

static void
ReadMeta(void *arg)
{
	Input	   *in = arg;

	HnswReadMeta(in->index, &in->meta);
}

static void
Stats(void *arg)
{
	Input	   *in = arg;
	VxStatsSink sink = {0};

	HnswIndexStats(in->index, &sink);
}

static void
Check(void *arg)
{
	Input	   *in = arg;
	LOCAL_FCINFO(fcinfo, 1);

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(RelationGetRelid(in->index));
	fcinfo->args[0].isnull = false;
	(void) vectorx_hnsw_check(fcinfo);
}

static void
Elements(void *arg)
{
	Input	   *in = arg;
	ReturnSetInfo rsinfo = {.type = T_ReturnSetInfo, .allowedModes = SFRM_Materialize};
	LOCAL_FCINFO(fcinfo, 1);

	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, (Node *) &rsinfo);
	fcinfo->args[0].value = ObjectIdGetDatum(RelationGetRelid(in->index));
	fcinfo->args[0].isnull = false;
	(void) vectorx_hnsw_elements(fcinfo);
}

static void
RunScan(void *arg)
{
	Input	   *in = arg;
	const uint8 *c = in->c;
	IndexScanDesc scan;
	VxScanControl *ctl;
	ScanKeyData key;
	int			want = 1 + c[13] % 128;

	hnsw_ef_search = c[1] == 0 ? HNSW_DEFAULT_EF_SEARCH : 1 + c[1] % 64;
	hnsw_iterative_scan = (c[2] & 3) == 3 ? VX_ITERATIVE_STRICT : (c[2] & 3);
	hnsw_max_scan_tuples = c[3] == 0 ? HNSW_DEFAULT_MAX_SCAN_TUPLES : 4 * c[3];

	scan = hnswbeginscan(in->index, 0, 1);
	VxFuzzScanSetHeap(scan, in->heap);
	ctl = HnswScanControl(scan);
	if (c[2] & 4)
	{
		ItemPointerData tids[8];
		int			ntids = 0;

		for (int i = 0; i < 8; i++)
			if (c[13] & (1 << i))
			{
				ItemPointerSet(&tids[ntids], 8, i + 1);
				ntids++;
			}
		ctl->allow = VxAllowListFromBitmap(VxFuzzBitmap(c[12], tids, ntids));
	}
	if (c[2] & 8)
		ItemPointerSet(&ctl->exclude, c[14] % 8, c[15]);
	if (c[2] & 16)
		ctl->limit = 1 + c[13] % 16;

	memset(&key, 0, sizeof(key));
	key.sk_attno = 1;
	key.sk_strategy = 1;
	key.sk_argument = PointerGetDatum(in->query);
	hnswrescan(scan, NULL, 0, &key, 1);
	for (int i = 0; i < want; i++)
		if (!hnswgettuple(scan, ForwardScanDirection))
			break;
	hnswendscan(scan);
}

/* step 6 for one element id */
static void
ReadOne(Relation index, const HnswShape *shape, const float *query, uint32 id)
{
	HnswPageGraph pg;
	HnswElementData head;
	VxQuant	quant;
	float		distance;
	uint8	   *codes = palloc(shape->codec.code_bytes);
	uint32	   *nbrs = palloc(sizeof(uint32) * 2 * shape->m);
	uint8		flags;

	HnswPageGraphInit(&pg, index, shape, query);
	(void) HnswReadElementHead(&pg, id, &head);
	(void) HnswReadResult(&pg, id, &head, &quant, &distance);
	HnswReadCodes(index, shape, id, &quant, codes);
	for (int level = 0; level <= HNSW_MAX_LEVEL; level++)
		(void) pg.graph.neighbors(&pg.graph, id, level, nbrs, &flags);
	(void) pg.graph.distance(&pg.graph, id);
	/* the element's own vector as a query, as VACUUM's reconnect pass asks */
	{
		HnswPageGraph self;
		float	   *decoded = palloc(shape->codec.vec_bytes);

		VxDecodeVector(&shape->codec, &quant, codes, decoded);
		HnswPageGraphInit(&self, index, shape, decoded);
		(void) self.graph.distance(&self.graph, id);
	}
}

static void
ReadById(void *arg)
{
	Input	   *in = arg;
	HnswShape	shape = *HnswGetShape(in->index);
	float	   *query = palloc(shape.codec.vec_bytes);
	uint32		id;

	if (!HnswPrepareVector(&shape, PointerGetDatum(in->query), query))
		return;
	memcpy(&id, in->c + 8, 4);
	ReadOne(in->index, &shape, query, id);
}

static void
ReadEntryPoint(void *arg)
{
	Input	   *in = arg;
	HnswShape	shape = *HnswGetShape(in->index);
	float	   *query = palloc(shape.codec.vec_bytes);

	if (in->meta.entry_point == HNSW_INVALID_ID ||
		!HnswPrepareVector(&shape, PointerGetDatum(in->query), query))
		return;
	ReadOne(in->index, &shape, query, in->meta.entry_point);
}

/* the query of steps 5 and 6: the index's dimensions, values from the seed */
static Pointer
MakeQuery(const uint8 *c, int dims)
{
	Vector	   *q = VxNewVector(dims);
	uint64		state = 0;

	memcpy(&state, c + 4, 4);
	if (!(c[2] & 32))
		for (int i = 0; i < dims; i++)
			q->x[i] = (float) ((int) (VxFuzzRand(&state) % 2001) - 1000) / 1000.0f;
	return (Pointer) q;
}

/* the same for a sparsevec index: up to 40 non-zeros spread over dims */
static Pointer
MakeSparseQuery(const uint8 *c, int dims)
{
	uint64		state = 0;
	int			nnz = (c[2] & 32) ? 0 : Min(dims, 1 + c[5] % 40);
	SparseVector *q = VxNewSparseVector(dims, nnz);
	int			span = nnz > 0 ? dims / nnz : 0;

	memcpy(&state, c + 4, 4);
	for (int i = 0; i < nnz; i++)
	{
		float		v = (float) ((int) (VxFuzzRand(&state) % 2001) - 1000) / 1000.0f;

		q->indices[i] = i * span + (int) (VxFuzzRand(&state) % (uint32) span);
		SPARSEVEC_VALUES(q)[i] = v != 0 ? v : 0.5f;
	}
	return (Pointer) q;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	vx_kernels_init();
	VxFuzzInternalErrorIsFinding = true;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static IndexAmRoutine am = {.type = T_IndexAmRoutine, .ambuild = hnswbuild};
	static const PGFunction dense_metrics[] = {
		NULL, vector_l2_squared_distance, vector_negative_inner_product, cosine_distance, l1_distance
	};
	static const PGFunction sparse_metrics[] = {
		NULL, sparsevec_l2_squared_distance, sparsevec_negative_inner_product, sparsevec_cosine_distance,
		sparsevec_l1_distance
	};
	const PGFunction *metrics = (size > 0 && (data[0] & 16)) ? sparse_metrics : dense_metrics;
	Input		in;
	PGFunction metric;
	uint8		byte0;
	uint32		dims = 0;

	if (size < NCONTROL + 1)
		return 0;
	VxFuzzBeginInput();
	in.c = data;
	/* a matching operator class: the metric the meta page names */
	byte0 = data[0] & 7;
	if (byte0 == 0)
	{
		uint8		stored = size >= NCONTROL + 24 + 17 ? data[NCONTROL + 24 + 16] : 1;

		metric = metrics[stored >= 1 && stored <= 4 ? stored : 1];
	}
	else
		metric = byte0 <= 4 ? metrics[byte0] : vector_dims;
	/* the column's dimensions: the meta page's, or (bit 3) not */
	if (size >= NCONTROL + 24 + 12)
		memcpy(&dims, data + NCONTROL + 24 + 8, sizeof(dims));
	in.index = VxFuzzIndex("fuzz_hnsw", (const char *) data + NCONTROL, size - NCONTROL, metric,
						   (int) (dims + ((data[0] & 8) ? 1 : 0)));
	in.index->rd_indam = &am;
	in.query = NULL;

	if (VxFuzzStep(ReadMeta, &in))
	{
		in.heap = VxFuzzHeap(in.meta.dims);
		in.query = metrics == sparse_metrics ? MakeSparseQuery(data, in.meta.dims) :
			MakeQuery(data, in.meta.dims);
	}
	(void) VxFuzzStep(Stats, &in);
	(void) VxFuzzStep(Check, &in);
	(void) VxFuzzStep(Elements, &in);
	if (in.query)
	{
		(void) VxFuzzStep(RunScan, &in);
		(void) VxFuzzStep(ReadById, &in);
		(void) VxFuzzStep(ReadEntryPoint, &in);
	}
	VxFuzzEndInput();
	return 0;
}

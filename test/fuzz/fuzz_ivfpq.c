/*-------------------------------------------------------------------------
 *
 * fuzz_ivfpq.c
 *	  Fuzz target: the pages of an IVF-PQ index, read and checked by the
 *	  code the server runs on them (src/ivfpq, src/common/page.c), over a
 *	  mutated small index.  Every corruption must end in an ERROR; a
 *	  crash, a sanitizer report, a hang, an elog(ERROR) (an internal error
 *	  where the page should be reported as corrupt) or a leaked buffer pin
 *	  or lock is a finding (fuzz.h).
 *
 * Each input runs these steps, each like a query of its own, on a fake
 * index over the input's pages:
 *	1. IvfpqReadMeta: VxReadMetaPage, CheckMeta, VxCheckMetaPage,
 *	   IvfpqCheckPage
 *	2. IvfpqGetShape: the centroid and codebook pages (ReadFlat) and what
 *	   derives from them
 *	3. IvfpqIndexStats (vectorx_index_stats): every list's directory entry
 *	   (IvfpqReadDirectory, IvfpqCheckListBlock) and chain of pages
 *	   (IvfpqCheckListPage)
 *	4. an index scan, ivfpqbeginscan/ivfpqrescan/ivfpqgettuple/
 *	   ivfpqendscan: the list ranking, the lookup tables, the scoring of
 *	   every entry of the probed lists by the distance kernels, and the
 *	   re-rank from the fake heap (fuzz.h, VxFuzzHeap); with the GUCs, the
 *	   query and an allow-list taken from the control bytes
 *	5. IvfpqReadDirectory for a list number taken from the control bytes
 * The step that reads the meta page decides the query's dimensions; when
 * it fails, steps 4 and 5 are left out (they would fail the same way).
 *
 * Input: 16 control bytes, then the pages (8 kB each, at most
 * VXFUZZ_MAX_BLOCKS; the last one padded with zeros).
 *	0		bits 0-2, the operator class's metric: 0 the meta page's (a
 *			matching operator class), 1-4 L2, inner product, cosine, L1;
 *			more: a support function of another kind.  Bit 3: the column's
 *			typmod is one more than the meta page's dimensions (else
 *			equal to them)
 *	1		ivfpq.probes and ivfflat.probes: 0 the default, else 1 + byte % 16
 *	2		bits 0-1: ivfpq.iterative_scan (off, strict_order,
 *			relaxed_order, strict_order); bit 2: an allow-list; bit 4: a
 *			limit of rows; bit 5: a zero query
 *	3		ivfpq.rerank: 0 the default, else byte - 1 (0: PQ order);
 *			ivfflat.max_probes: 1 + byte % 32
 *	4-7		the query's seed
 *	8-11	the list of step 5 (little-endian, modulo the list count)
 *	12		the allow-list's heap blocks (bit b: block b)
 *	13		rows the scan is asked for: 1 + byte % 128
 * Seeds: corpus/fuzz_ivfpq, small indexes built by test/fuzz/make-seeds.sh.
 *
 * Not covered here: inserts, VACUUM and the build (they write pages, or
 * read the heap and train); ivfpqbuild.c, ivfpqinsert.c, ivfpqvacuum.c and
 * ivfpqam.c are not linked, so the GUC variables of ivfpqam.c are defined
 * below.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relscan.h"
#include "fmgr.h"

#include "distance.h"
#include "fuzz.h"
#include "ivfpq.h"
#include "vector.h"

/* ivfpqam.c is not linked: its GUC variables, set per input below */
int			ivfpq_probes = IVFPQ_DEFAULT_PROBES;
int			ivfpq_rerank = IVFPQ_DEFAULT_RERANK;
int			ivfpq_iterative_scan = VX_ITERATIVE_STRICT;
int			ivfflat_probes = IVFFLAT_DEFAULT_PROBES;
int			ivfflat_iterative_scan = VX_ITERATIVE_STRICT;
int			ivfflat_max_probes = 32768;

/*
 * ivfpqbuild.c is not linked either: IvfpqIsFlatIndex only compares the
 * index's ambuild with this address.  An input whose meta page says nbits
 * 0 gets an index of this access method (an IVFFlat index, ivfpq.h).
 */
IndexBuildResult *
ivfflatbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	abort();
}

extern Datum vector_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum vector_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum cosine_distance(PG_FUNCTION_ARGS);
extern Datum l1_distance(PG_FUNCTION_ARGS);
extern Datum vector_dims(PG_FUNCTION_ARGS);

#define NCONTROL 16

typedef struct Input
{
	const uint8 *c;				/* the control bytes */
	Relation	index;
	Relation	heap;
	IvfpqMetaPageData meta;		/* step 1's, if it passed */
	Vector	   *query;
} Input;

static void
ReadMeta(void *arg)
{
	Input	   *in = arg;

	IvfpqReadMeta(in->index, &in->meta);
}

static void
GetShape(void *arg)
{
	Input	   *in = arg;

	(void) IvfpqGetShape(in->index);
}

static void
Stats(void *arg)
{
	Input	   *in = arg;
	VxStatsSink sink = {0};

	IvfpqIndexStats(in->index, &sink);
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

	ivfpq_probes = c[1] == 0 ? IVFPQ_DEFAULT_PROBES : 1 + c[1] % 16;
	ivfpq_iterative_scan = (c[2] & 3) == 3 ? VX_ITERATIVE_STRICT : (c[2] & 3);
	ivfflat_probes = c[1] == 0 ? IVFFLAT_DEFAULT_PROBES : 1 + c[1] % 16;
	ivfflat_iterative_scan = ivfpq_iterative_scan;
	ivfflat_max_probes = 1 + c[3] % 32;
	ivfpq_rerank = c[3] == 0 ? IVFPQ_DEFAULT_RERANK : c[3] - 1;

	scan = ivfpqbeginscan(in->index, 0, 1);
	VxFuzzScanSetHeap(scan, in->heap);
	ctl = IvfpqScanControl(scan);
	if (c[2] & 4)
		ctl->allow = VxAllowListFromBitmap(VxFuzzBitmap(c[12], NULL, 0));
	if (c[2] & 16)
		ctl->limit = 1 + c[13] % 16;

	memset(&key, 0, sizeof(key));
	key.sk_attno = 1;
	key.sk_strategy = 1;
	key.sk_argument = PointerGetDatum(in->query);
	ivfpqrescan(scan, NULL, 0, &key, 1);
	for (int i = 0; i < want; i++)
		if (!ivfpqgettuple(scan, ForwardScanDirection))
			break;
	ivfpqendscan(scan);
}

static void
ReadDirectory(void *arg)
{
	Input	   *in = arg;
	BlockNumber nblocks = 0;
	uint32		list;

	memcpy(&list, in->c + 8, 4);
	(void) IvfpqReadDirectory(in->index, &in->meta, list % in->meta.lists, NULL, &nblocks);
}

/* the query of step 4: the index's dimensions, values from the seed */
static Vector *
MakeQuery(const uint8 *c, int dims)
{
	Vector	   *q = VxNewVector(dims);
	uint64		state;

	memcpy(&state, c + 4, 4);
	if (!(c[2] & 32))
		for (int i = 0; i < dims; i++)
			q->x[i] = (float) ((int) (VxFuzzRand(&state) % 2001) - 1000) / 1000.0f;
	return q;
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
	static const PGFunction metrics[] = {
		NULL, vector_l2_squared_distance, vector_negative_inner_product, cosine_distance, l1_distance
	};
	static IndexAmRoutine flat_am = {.type = T_IndexAmRoutine, .ambuild = ivfflatbuild};
	Input		in;
	PGFunction metric;
	uint8		byte0;
	uint16		dims = 0;

	if (size < NCONTROL + 1)
		return 0;
	VxFuzzBeginInput();
	in.c = data;
	/* a matching operator class: the metric the meta page names */
	byte0 = data[0] & 7;
	if (byte0 == 0)
	{
		uint8		stored = size >= NCONTROL + 24 + 11 ? data[NCONTROL + 24 + 10] : 1;

		metric = metrics[stored >= 1 && stored <= 4 ? stored : 1];
	}
	else
		metric = byte0 <= 4 ? metrics[byte0] : vector_dims;
	/* the column's dimensions: the meta page's, or (bit 3) not */
	if (size >= NCONTROL + 24 + 10)
		memcpy(&dims, data + NCONTROL + 24 + 8, sizeof(dims));
	in.index = VxFuzzIndex("fuzz_ivfpq", (const char *) data + NCONTROL, size - NCONTROL, metric,
						   (int) dims + ((data[0] & 8) ? 1 : 0));
	/* the meta page's nbits (byte 11 of its struct): 0 is IVFFlat's access method */
	if (size >= NCONTROL + 24 + 12 && data[NCONTROL + 24 + 11] == 0)
		in.index->rd_indam = &flat_am;
	in.query = NULL;

	if (VxFuzzStep(ReadMeta, &in))
	{
		in.heap = VxFuzzHeap(in.meta.dims);
		in.query = MakeQuery(data, in.meta.dims);
	}
	(void) VxFuzzStep(GetShape, &in);
	(void) VxFuzzStep(Stats, &in);
	if (in.query)
	{
		(void) VxFuzzStep(RunScan, &in);
		(void) VxFuzzStep(ReadDirectory, &in);
	}
	VxFuzzEndInput();
	return 0;
}

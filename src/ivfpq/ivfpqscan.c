/*-------------------------------------------------------------------------
 *
 * ivfpqscan.c
 *	  Ordered scans of an IVF-PQ index (ivfpq.h, SCAN): rank the lists by
 *	  centroid distance, score the codes of the nearest `ivfpq.probes`
 *	  lists with a quantized lookup table and the fast-scan kernels, then
 *	  re-rank windows of `ivfpq.rerank` candidates by their exact distance
 *	  from the heap row into a pool, and return the pool's nearest row once
 *	  no candidate left is likely nearer (SafeToReturn); more windows and
 *	  more lists when the executor keeps asking.  All settings are read
 *	  once, when the scan starts.  IVFFlat (ivfpq.h, IVFFLAT) scores its
 *	  8-bit codes into lower bounds and hands the candidates to the
 *	  executor in their order for its re-check (FlatNext) instead.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/relscan.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/varbit.h"

#include "distance.h"
#include "ivfpq.h"
#include "querysample.h"
#include "scan.h"
#include "vector.h"
#include "halfvec.h"
#include "vxindex.h"

typedef struct Candidate
{
	float		score;			/* PQ estimate, internal metric */
	int			list;			/* the list it was found in */
	ItemPointerData tid;
} Candidate;

typedef struct Ranked
{
	double		distance;		/* SQL value of the ORDER BY operator */
	ItemPointerData tid;
} Ranked;

static inline int CompareDistance(double x, double y);

/* re-ranked rows: the nearest by exact distance on top */
#define VXH_PREFIX RankedPool
#define VXH_ELEMENT Ranked
#define VXH_ABOVE(a, b) (CompareDistance((a).distance, (b).distance) < 0)
#include "vxheap.h"

typedef struct ListRank
{
	float		score;
	int			list;
} ListRank;

typedef struct IvfpqScanOpaqueData
{
	MemoryContext cxt;			/* the current query's state */
	MemoryContext scancxt;		/* the scan's: heap access lives across rescans */
	const IvfpqShape *shape;
	float	   *query;			/* internal form (normalised for cosine) */
	VxElem		elem;			/* vector or halfvec (VxIndexElem) */
	float	   *raw;			/* the query as given (float form), for exact distances */
	float	   *heapvec;		/* scratch: a heap row's vector in float form */
	bool		started;
	ListRank   *order;			/* lists, nearest first */
	int			next_list;
	Candidate  *cands;
	int			ncands;
	int			maxcands;
	int			next_cand;		/* cands[next_cand..] not yet re-ranked */
	float		next_score;		/* lowest score among them (after a window) */
	RankedPool	pool;			/* re-ranked rows not yet returned */
	double		err_n;			/* |PQ estimate - exact distance| seen: count, */
	double		err_sum;		/* sum and sum of squares, for SafeToReturn's */
	double		err_sum2;		/* margin (mean + 2 standard deviations) */
	double		slack;			/* most a row was nearer than its list's centroid */
	float	   *list_score;		/* [lists] each list's rank score (ListDistance) */
	float		query_norm2;	/* |q|^2 of the internal query */
	/* per list scan */
	float	   *lut;
	uint8	   *lut8;
	float	   *resid;
	float		ip_bias;		/* inner product: the LUT is the same for every list */
	float		ip_scale;
	bool		quantize;		/* score with a uint8 LUT (fast-scan kernels), else float */
	float	   *scores;			/* one block's float scores */
	/* heap access for the re-rank */
	AttrNumber	attno;
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	BlockNumber heap_blocks;	/* the table's size, for VxCheckHeapTid */
	/* statistics, for EXPLAIN ANALYZE of filtered scans */
	int64		lists_scanned;
	/* codes scored: ctl.visited */
	int64		reranked;
	VxScanControl ctl;			/* allow-list, limit, counts (scan.h) */
	int			probes;			/* lists per batch (see BatchProbes) */

	/*
	 * The settings of the current scan, read once when it starts (Start):
	 * a SET between two windows must not change a running scan.
	 */
	int			rerank;			/* window size; 0: PQ order, approximate */
	int			iterative;		/* ivfpq.iterative_scan (VxIterativeScan) */
	double		last_distance;	/* of the last row returned */
	uint64		skipped;		/* strict order: rows found too late */
	bool		walk;			/* no direction: every row, list by list (Walk) */
	/* IVFFlat (FlatNext) */
	VxQuery		fq;				/* the query against the codes (vxcodec.h) */
	int			max_lists;		/* lists the scan may search in all */
	int			sorted;			/* cands[next_cand..sorted) are in bound order */
} IvfpqScanOpaqueData;

typedef IvfpqScanOpaqueData *IvfpqScanOpaque;

IndexScanDesc
ivfpqbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	IvfpqScanOpaque so = palloc0(sizeof(IvfpqScanOpaqueData));

	so->heap_blocks = InvalidBlockNumber;
	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "ivfpq scan", ALLOCSET_DEFAULT_SIZES);
	so->scancxt = CurrentMemoryContext;
	so->attno = index->rd_index->indkey.values[0];
	VxScanControlInit(&so->ctl);
	scan->opaque = so;
	if (norderbys > 0)
	{
		scan->xs_orderbyvals = palloc0(sizeof(Datum) * norderbys);
		scan->xs_orderbynulls = palloc(sizeof(bool) * norderbys);
		memset(scan->xs_orderbynulls, true, sizeof(bool) * norderbys);
	}
	return scan;
}

/* a vector or halfvec datum in float form, into out[dims]; returns its dimension */
static int
RowFloats(IvfpqScanOpaque so, Datum value, float *out)
{
	if (so->elem == VX_ELEM_HALFVEC)
		return VxHalfDatumFloats(value, out, so->shape->meta.dims);
	return VxVectorDatumFloats(value, out, so->shape->meta.dims);
}

void
ivfpqrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	MemoryContext old;

	MemoryContextReset(so->cxt);
	so->started = false;
	so->query = NULL;
	so->raw = NULL;
	so->heapvec = NULL;
	so->order = NULL;
	so->cands = NULL;
	so->ncands = so->maxcands = so->next_cand = so->sorted = 0;
	so->next_score = FLT_MAX;
	RankedPoolInit(&so->pool, 0);	/* its memory went with the reset */
	so->err_n = so->err_sum = so->err_sum2 = 0;
	so->slack = 0;
	so->next_list = 0;
	so->ctl.returned = 0;
	so->last_distance = -get_float8_infinity();
	so->skipped = 0;
	so->walk = false;
	if (so->fetch)
		table_index_fetch_reset(so->fetch);
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));

	old = MemoryContextSwitchTo(so->cxt);
	so->shape = IvfpqGetShape(scan->indexRelation);
	if (scan->numberOfOrderBys > 0 && !(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		Datum		q = scan->orderByData[0].sk_argument;

		so->query = palloc(sizeof(float) * so->shape->meta.dims);
		so->elem = VxIndexElem(scan->indexRelation);
		if (!VxPrepareVector(q, so->elem, so->shape->meta.dims, (VxMetric) so->shape->meta.metric,
							 so->query, so->shape->flat ? "IVFFlat" : "IVF-PQ"))
		{
			/* zero vector under cosine: every distance is NaN, every row ties */
			so->query = NULL;
			so->walk = true;
		}
		else if (so->elem != VX_ELEM_BIT)
		{
			so->raw = palloc(sizeof(float) * so->shape->meta.dims);
			so->heapvec = palloc(sizeof(float) * so->shape->meta.dims);
			RowFloats(so, q, so->raw);
		}
		/* the samples are float vectors: bit queries are not recorded */
		if (so->elem != VX_ELEM_BIT)
			VxSampleQuery(scan->indexRelation, q, so->elem == VX_ELEM_HALFVEC);
	}
	else
		so->walk = true;		/* ORDER BY v <-> NULL: every distance is NULL */
	MemoryContextSwitchTo(old);
}

static int
CompareListRank(const void *a, const void *b)
{
	float		x = ((const ListRank *) a)->score,
				y = ((const ListRank *) b)->score;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* SQL's order of float8: NaN after every number */
static inline int
CompareDistance(double x, double y)
{
	if (isnan(x) || isnan(y))
		return isnan(x) ? (isnan(y) ? 0 : 1) : -1;
	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * Lists to scan per batch.  Under an allow-list that admits a fraction f of
 * the rows, the nearest allowed rows lie as far out as the nearest k/f
 * rows do: probe ivfpq.probes / sqrt(f) lists (all of them at f = 1 /
 * probes^2), which keeps the filtered recall near the unfiltered one.
 */
static int
BatchProbes(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	double		probes = Max(so->shape->flat ? ivfflat_probes : ivfpq_probes, 1);	/* read once: Start */

	if (so->ctl.allow)
	{
		double		rows = Max(scan->heapRelation->rd_rel->reltuples, 1);
		double		f = ((double) so->ctl.allow->ntids + 50.0 * so->ctl.allow->nlossy) / rows;

		probes = ceil(probes / sqrt(Min(Max(f, 1e-6), 1.0)));
	}
	return (int) Min(probes, (double) so->shape->meta.lists);
}

/* rank every list by the index's metric; the per-query tables */
static void
Start(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	const IvfpqShape *shape = so->shape;
	const IvfpqMetaPageData *meta = &shape->meta;
	int			dims = meta->dims;
	const float *route;

	so->started = true;
	/* every setting of this scan, once (see IvfpqScanOpaqueData) */
	so->probes = BatchProbes(scan);
	so->iterative = shape->flat ? ivfflat_iterative_scan : ivfpq_iterative_scan;
	so->rerank = shape->flat ? 0 : ivfpq_rerank;
	so->max_lists = shape->flat ? Min(Max(ivfflat_max_probes, so->probes), (int) meta->lists) :
		(int) meta->lists;
	if (shape->flat)
		VxQueryInit(&so->fq, &shape->codec, so->query);

	/*
	 * Without a re-rank, rows come in PQ order with approximate distances,
	 * which breaks ORDER BY: only relaxed_order asks for that.  Otherwise
	 * windows of the default size are re-ranked.
	 */
	if (so->rerank == 0 && so->iterative != VX_ITERATIVE_RELAXED && !shape->flat)
		so->rerank = IVFPQ_DEFAULT_RERANK;
	/* a bit query routes by its bits as 0/1 floats, by squared L2 (IvfpqRoutingVector) */
	route = IvfpqRoutingVector(&shape->codec, so->query, palloc(sizeof(float) * dims));
	so->order = palloc(sizeof(ListRank) * meta->lists);
	for (uint32 l = 0; l < meta->lists; l++)
	{
		so->order[l].list = l;
		if (!meta->trained)
			so->order[l].score = 0;
		else if (meta->metric == VX_METRIC_L2 || meta->metric == VX_METRIC_HAMMING)
			so->order[l].score = shape->centroid_norms[l] -
				2 * vx_inner_product(route, shape->centroids + (Size) l * dims, dims);
		else
			so->order[l].score = -vx_inner_product(route, shape->centroids + (Size) l * dims, dims);
	}
	so->list_score = palloc(sizeof(float) * meta->lists);
	for (uint32 l = 0; l < meta->lists; l++)
		so->list_score[so->order[l].list] = so->order[l].score;
	so->query_norm2 = vx_inner_product(route, route, dims);
	qsort(so->order, meta->lists, sizeof(ListRank), CompareListRank);
	so->maxcands = 1024;
	so->cands = palloc(sizeof(Candidate) * so->maxcands);
	if (meta->trained && !shape->flat)
	{
		/*
		 * 4-bit codes always go through the SIMD table lookups of a uint8
		 * LUT; 8-bit codes only where a 256-entry lookup is SIMD (AVX-512
		 * VBMI), else quantizing the LUT per list costs more than scoring
		 * with the float LUT.
		 */
		so->quantize = meta->nbits == 4 || vx_pq8_fast_scan_simd();
		so->lut = palloc(sizeof(float) * meta->m * shape->ksub);
		so->lut8 = palloc(meta->m * shape->ksub);
		so->scores = palloc(sizeof(float) * VX_PQ8_BLOCK);
		so->resid = palloc(sizeof(float) * dims);
		if (meta->metric != VX_METRIC_L2)
		{
			IvfpqLutIP(shape, so->query, so->lut);
			if (so->quantize)
				vx_pq_quantize_lut(so->lut, meta->m, shape->ksub, so->lut8, &so->ip_bias, &so->ip_scale);
		}
	}
	if (so->slot == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(so->scancxt);

		so->slot = table_slot_create(scan->heapRelation, NULL);
		so->fetch = table_index_fetch_begin(scan->heapRelation);
		MemoryContextSwitchTo(old);
	}
}

static void
AddCandidate(IvfpqScanOpaque so, float score, int list, ItemPointer tid)
{
	if (so->ncands == so->maxcands)
	{
		so->maxcands *= 2;
		so->cands = repalloc_huge(so->cands, sizeof(Candidate) * so->maxcands);
	}
	so->next_score = Min(so->next_score, score);
	so->cands[so->ncands].score = score;
	so->cands[so->ncands].list = list;
	so->cands[so->ncands].tid = *tid;
	so->ncands++;
}

/* a float4 at most x: a bound rounded to float4 stays a bound */
static inline float
FloatAtMost(double x)
{
	float		f = (float) x;

	if ((double) f > x)
		f = nextafterf(f, -INFINITY);
	return f;
}

/*
 * IVFFlat: the lower bound of every entry of a list page's data area
 * (count entries) into the candidates (ivfpq.h, IVFFLAT).
 */
static void
ScoreFlatPage(IndexScanDesc scan, int list, char *data, int count)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	const IvfpqShape *shape = so->shape;
	const IvfpqMetaPageData *meta = &shape->meta;

	for (int i = 0; i < count; i++)
	{
		const char *entry = data + (Size) i * meta->block_bytes;
		ItemPointer tid = IvfpqEntryTid(data, meta, shape->code_bytes, i);
		VxQuant		quant;
		float		d;

		if (so->ctl.allow && !VxAllowListContains(so->ctl.allow, tid))
			continue;
		memcpy(&quant, entry, sizeof(VxQuant));
		d = VxQueryDistance(&shape->codec, &so->fq, &quant, (const uint8 *) entry + sizeof(VxQuant));
		AddCandidate(so, FloatAtMost(VxLowerBound(&shape->codec, &so->fq, &quant, d)), list, tid);
	}
}

/* score every entry of one list into the candidates */
static void
ScanList(IndexScanDesc scan, int list, float list_score)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	const IvfpqShape *shape = so->shape;
	const IvfpqMetaPageData *meta = &shape->meta;
	float		bias = 0,
				scale = 0,
				offset = 0;
	uint16		out[VX_PQ8_BLOCK];
	Buffer		buf;
	BlockNumber blkno;
	BlockNumber nblocks = 0;
	uint32		steps = 0;

	if (meta->trained && !shape->flat)
	{
		if (meta->metric == VX_METRIC_L2)
		{
			IvfpqResidual(shape, so->query, list, so->resid);
			IvfpqLutL2(shape, so->resid, so->lut);
			if (so->quantize)
				vx_pq_quantize_lut(so->lut, meta->m, shape->ksub, so->lut8, &bias, &scale);
		}
		else
		{
			/* -q.x = -q.c - q.r: the list's part is its rank score */
			bias = so->ip_bias;
			scale = so->ip_scale;
			offset = list_score;
		}
	}
	blkno = IvfpqReadDirectory(scan->indexRelation, meta, list, NULL, &nblocks).head;
	so->lists_scanned++;
	while (BlockNumberIsValid(blkno))
	{
		Page		page;
		IvfpqPageOpaque op;
		char	   *data;
		int			count;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(scan->indexRelation, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		IvfpqCheckListPage(scan->indexRelation, meta, buf, &nblocks, ++steps);
		page = BufferGetPage(buf);
		op = IvfpqPageGetOpaque(page);
		data = IvfpqPageData(page);
		count = op->count;
		if (shape->flat)
			ScoreFlatPage(scan, list, data, count);
		for (int b = 0; !shape->flat && b * meta->block < count; b++)
		{
			const uint8 *codes = (const uint8 *) data + (Size) b * meta->block_bytes;
			int			n = Min(meta->block, count - b * meta->block);

			if (meta->trained && !so->quantize)
				vx_kernels->pq8_block_scan(so->lut, meta->m, codes, 1, so->scores);
			else if (meta->trained && meta->nbits == 8)
				vx_kernels->pq8_fast_scan(so->lut8, meta->m, codes, 1, out);
			else if (meta->trained)
				vx_kernels->pq4_scan(so->lut8, meta->m, codes, 1, out);
			for (int i = 0; i < n; i++)
			{
				float		score = !meta->trained ? 0 :
					so->quantize ? offset + bias + scale * out[i] : offset + so->scores[i];
				ItemPointer tid = IvfpqEntryTid(data, meta, shape->code_bytes, b * meta->block + i);

				if (so->ctl.allow && !VxAllowListContains(so->ctl.allow, tid))
					continue;
				AddCandidate(so, score, list, tid);
			}
		}
		so->ctl.visited += count;
		blkno = op->next;
		UnlockReleaseBuffer(buf);
		VX_WAIT_POINT("ivfpq_scan_page");
	}
}

/* move the k lowest scores of a[0..n) to a[0..k), in no order (quickselect) */
static void
SelectLowest(Candidate *a, int n, int k)
{
	int			lo = 0,
				hi = n - 1;

	while (lo < hi && k > lo && k <= hi)
	{
		float		pivot = a[lo + (hi - lo) / 2].score;
		int			i = lo,
					j = hi;

		while (i <= j)
		{
			while (a[i].score < pivot)
				i++;
			while (a[j].score > pivot)
				j--;
			if (i <= j)
			{
				Candidate t = a[i];

				a[i] = a[j];
				a[j] = t;
				i++;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
}

/*
 * exact SQL distance of the query to a heap vector (x, of dim elements):
 * vector's and halfvec's operators compute the same on the float form
 */
static double
ExactDistance(IvfpqScanOpaque so, const float *x, int dim)
{
	const float *q = so->raw;
	int			dims = so->shape->meta.dims;

	if (dim != dims)
		return get_float8_nan();
	switch ((VxMetric) so->shape->meta.metric)
	{
		case VX_METRIC_L2:
			return sqrt((double) vx_l2_squared(q, x, dims));
		case VX_METRIC_IP:
			return -(double) vx_inner_product(q, x, dims);
		default:
			{
				float		dot,
							nq,
							nx;

				vx_kernels->cosine_parts(q, x, dims, &dot, &nq, &nx);
				if (nq == 0 || nx == 0)
					return get_float8_nan();
				return 1.0 - (double) dot / sqrt((double) nq * (double) nx);
			}
	}
}

/*
 * The exact distance of the row at tid, as the scan's snapshot sees it;
 * false if it sees none (or the column is NULL), which the executor would
 * drop too.  Counts the row as re-ranked.
 */
static bool
HeapDistance(IndexScanDesc scan, ItemPointer tid, double *distance)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	bool		call_again = false,
				all_dead = false,
				isnull;
	Datum		v;

	/*
	 * A copy: the fetch moves the TID to the visible member of a HOT chain,
	 * and the executor, fetching again from that member rather than the
	 * chain's root, would find nothing and drop the row.  The scan hands
	 * out the TID the index holds.
	 */
	ItemPointerData fetch_tid = *tid;

	CHECK_FOR_INTERRUPTS();
	if (!table_index_fetch_tuple(so->fetch, &fetch_tid, scan->xs_snapshot, so->slot,
								 &call_again, &all_dead))
		return false;
	v = slot_getattr(so->slot, so->attno, &isnull);
	if (!isnull && so->elem == VX_ELEM_BIT)
	{
		VarBit	   *b = DatumGetVarBitP(v);

		/* the Hamming distance, as hamming_distance computes it */
		*distance = VARBITLEN(b) != so->shape->meta.dims ? get_float8_nan() :
			(double) vx_kernels->bit_xor_count(VARBITS(b), (const uint8 *) so->query, VARBITBYTES(b));
	}
	else if (!isnull)
		*distance = ExactDistance(so, so->heapvec, RowFloats(so, v, so->heapvec));
	ExecClearTuple(so->slot);
	so->reranked++;
	return !isnull;
}

/* SQL distance from a PQ score, for ivfpq.rerank = 0 */
static double
ApproxDistance(IvfpqScanOpaque so, float score)
{
	switch ((VxMetric) so->shape->meta.metric)
	{
		case VX_METRIC_L2:
			return sqrt(Max((double) score, 0));
		case VX_METRIC_COSINE:
			return 1.0 + (double) score;
		default:
			return score;
	}
}

/* the SQL distance of the query to list l's centroid */
static double
ListDistance(IvfpqScanOpaque so, int l)
{
	double		score = so->list_score[l];

	if (!so->shape->meta.trained)
		return -get_float8_infinity();
	switch ((VxMetric) so->shape->meta.metric)
	{
		case VX_METRIC_L2:
			return sqrt(Max(score + (double) so->query_norm2, 0.0));
		case VX_METRIC_HAMMING:
			/* squared L2 to the centroid: the Hamming distance to a 0/1 one */
			return Max(score + (double) so->query_norm2, 0.0);
		case VX_METRIC_COSINE:
			return 1.0 + score;
		default:
			return score;
	}
}

/* are there lists this scan may still search? (off: the first batch only) */
static bool
MoreLists(IvfpqScanOpaque so)
{
	if (so->next_list >= so->max_lists)
		return false;
	return so->iterative != VX_ITERATIVE_OFF || so->next_list == 0;
}

/*
 * The next window: the best candidates by PQ score not yet re-ranked, with
 * exact distances from the heap rows that the snapshot sees, into the
 * pool.  Also notes the lowest score left and how far PQ estimates have
 * been from exact distances so far (see SafeToReturn).
 */
static void
NextWindow(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	bool		exact = so->rerank > 0 || !so->shape->meta.trained;
	int			want = so->rerank > 0 ? so->rerank : IVFPQ_DEFAULT_RERANK;
	int			left = so->ncands - so->next_cand;
	int			n = Min(want, left);
	Candidate  *c = so->cands + so->next_cand;

	SelectLowest(c, left, n);
	for (int i = 0; i < n; i++)
	{
		Ranked		r;

		r.tid = c[i].tid;
		VxCheckHeapTid(scan->indexRelation, scan->heapRelation, &so->heap_blocks, &r.tid);
		if (exact)
		{
			if (!HeapDistance(scan, &r.tid, &r.distance))
				continue;		/* not visible to this scan: the executor would drop it */
			if (so->shape->meta.trained && !isnan(r.distance))
			{
				double		e = fabs(ApproxDistance(so, c[i].score) - r.distance);

				so->err_n++;
				so->err_sum += e;
				so->err_sum2 += e * e;
				so->slack = Max(so->slack, ListDistance(so, c[i].list) - r.distance);
			}
		}
		else
			r.distance = ApproxDistance(so, c[i].score);
		RankedPoolPush(&so->pool, r);
	}
	so->next_cand += n;
	so->next_score = FLT_MAX;
	for (int i = so->next_cand; i < so->ncands; i++)
		so->next_score = Min(so->next_score, so->cands[i].score);
}

/*
 * Strict order: may the pool's nearest row (exact distance d) be returned
 * now?  Past the first window, only if no candidate still to be re-ranked
 * is likely nearer: its PQ estimate, less the typical error of an estimate
 * seen so far (mean + 2 standard deviations), is at least d.
 * Otherwise the next window is re-ranked first, so the window widens until
 * the order is settled (a row still found too late is skipped).  Lists not
 * yet scanned are searched first when every candidate is re-ranked.
 */
static bool
SafeToReturn(IvfpqScanOpaque so, double d)
{
	/*
	 * An untrained index (built on an empty table) scores every entry 0,
	 * which orders nothing: it searches exactly, so a row waits until every
	 * entry of every list is re-ranked.  (Its first window was once
	 * returned as if it held the nearest rows: an index scan then missed
	 * rows a query for their own vector should find first.)
	 */
	if (!so->shape->meta.trained)
		return so->next_cand == so->ncands && !MoreLists(so);

	/*
	 * The first window's worth of rows is what ivfpq.probes and
	 * ivfpq.rerank ask for: the best re-ranked candidates, in exact order.
	 * Past it, or once a row was found too late, rows wait.
	 */
	if (so->ctl.returned < (uint64) Max(so->rerank, 1) && so->skipped == 0 &&
		so->next_list <= so->probes)
		return true;
	if (so->next_cand < so->ncands)
	{
		double		mean = so->err_n > 0 ? so->err_sum / so->err_n : 0;
		double		var = so->err_n > 1 ? Max(so->err_sum2 / so->err_n - mean * mean, 0) : 0;

		if (!so->shape->meta.trained ||
			CompareDistance(d, ApproxDistance(so, so->next_score) - (mean + 2 * sqrt(var))) > 0)
			return false;
	}
	if (!MoreLists(so))
		return true;
	if (so->next_cand == so->ncands)
		return false;			/* search the next lists first */

	/*
	 * A row of a list not yet searched may be nearer than this one.  Such
	 * a row lies at least about its list's centroid distance less the slack
	 * seen so far (how much nearer than their centroid rows were found), so
	 * the row waits while that is below it.
	 */
	return CompareDistance(d, ListDistance(so, so->order[so->next_list].list) - so->slack) <= 0;
}

/* walk mode: the heap TIDs of one list, as the allow-list lets them */
static void
WalkList(IndexScanDesc scan, int list)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	const IvfpqMetaPageData *meta = &so->shape->meta;
	BlockNumber nblocks = 0;
	uint32		steps = 0;
	BlockNumber blkno = IvfpqReadDirectory(scan->indexRelation, meta, list, NULL, &nblocks).head;

	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf;
		Page		page;
		IvfpqPageOpaque op;
		char	   *data;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(scan->indexRelation, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		IvfpqCheckListPage(scan->indexRelation, meta, buf, &nblocks, ++steps);
		page = BufferGetPage(buf);
		op = IvfpqPageGetOpaque(page);
		data = IvfpqPageData(page);
		for (int i = 0; i < op->count; i++)
		{
			ItemPointer tid = IvfpqEntryTid(data, meta, so->shape->code_bytes, i);

			if (so->ctl.allow && !VxAllowListContains(so->ctl.allow, tid))
				continue;
			AddCandidate(so, 0, list, tid);
		}
		so->ctl.visited += op->count;
		blkno = op->next;
		UnlockReleaseBuffer(buf);
	}
	so->lists_scanned++;
}

/*
 * The scan of a query with no direction: every row the index holds, list
 * by list, in no order, since they all tie (pgvector returns the rows of
 * ivfflat.probes lists).  The ORDER BY value is not rechecked.
 */
static bool
Walk(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	if (so->cands == NULL)
	{
		so->maxcands = 1024;
		so->cands = palloc(sizeof(Candidate) * so->maxcands);
	}
	for (;;)
	{
		if (so->ctl.limit > 0 && so->ctl.returned >= so->ctl.limit)
			return false;
		if (so->next_cand < so->ncands)
		{
			ItemPointerData tid = so->cands[so->next_cand++].tid;

			VxReturnUnordered(scan, &so->heap_blocks, &tid);
			so->ctl.returned++;
			return true;
		}
		if (so->next_list >= (int) so->shape->meta.lists)
			return false;
		so->ncands = so->next_cand = 0;
		WalkList(scan, so->next_list++);
	}
}

static int
CompareScore(const void *a, const void *b)
{
	float		x = ((const Candidate *) a)->score,
				y = ((const Candidate *) b)->score;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* candidates put in bound order at a time (FlatNext) */
#define FLAT_WINDOW 32
/* rows strict order hands out from the first lists before it holds rows back */
#define FLAT_FREE 100

/* scan the next batch of lists; their candidates join those not yet handed out */
static void
FlatNextBatch(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	memmove(so->cands, so->cands + so->next_cand, sizeof(Candidate) * (so->ncands - so->next_cand));
	so->ncands -= so->next_cand;
	so->next_cand = so->sorted = 0;
	for (int p = 0; p < so->probes && so->next_list < so->max_lists; p++)
	{
		ListRank   *lr = &so->order[so->next_list++];

		ScanList(scan, lr->list, lr->score);
	}
}

/*
 * IVFFlat's gettuple (ivfpq.h, IVFFLAT): the candidates of the probed
 * lists in the order of their lower bounds, a window at a time (so a
 * LIMIT k sorts about k of them), each handed to the executor with its
 * bound for the re-check.
 *	off: the first ivfflat.probes lists only.
 *	strict_order: past the first FLAT_FREE rows, a candidate waits while a
 *	   list not yet scanned may hold a nearer row (its centroid's distance
 *	   less the slack seen so far: how much nearer than their own
 *	   centroid rows were, as IVF-PQ's SafeToReturn), and the next lists
 *	   are scanned first; a candidate still bounded below the last bound
 *	   handed out (late) goes out with that bound if its row's exact
 *	   distance is not below it, else is skipped.
 *	relaxed_order: every candidate as it comes, batch by batch.
 */
static bool
FlatNext(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	for (;;)
	{
		Candidate  *c;
		double		bound;

		if (so->ctl.limit > 0 && so->ctl.returned >= so->ctl.limit)
			return false;		/* a filtered search's probe (scan.h) */
		if (so->next_cand >= so->ncands)
		{
			if (!MoreLists(so))
				return false;
			FlatNextBatch(scan);
			continue;
		}
		if (so->next_cand >= so->sorted)
		{
			int			left = so->ncands - so->next_cand;
			int			n = Min(FLAT_WINDOW, left);

			SelectLowest(so->cands + so->next_cand, left, n);
			qsort(so->cands + so->next_cand, n, sizeof(Candidate), CompareScore);
			so->sorted = so->next_cand + n;
		}
		c = &so->cands[so->next_cand];
		bound = c->score;
		if (so->iterative == VX_ITERATIVE_STRICT && so->ctl.returned >= FLAT_FREE && MoreLists(so) &&
			CompareDistance(bound, ListDistance(so, so->order[so->next_list].list) - so->slack) > 0)
		{
			FlatNextBatch(scan);
			continue;
		}
		so->next_cand++;
		VxCheckHeapTid(scan->indexRelation, scan->heapRelation, &so->heap_blocks, &c->tid);
		if (CompareDistance(bound, so->last_distance) < 0 && so->iterative == VX_ITERATIVE_STRICT)
		{
			double		exact;

			/* an expression index has no column to read: the row is skipped */
			if (so->attno == 0 || !HeapDistance(scan, &c->tid, &exact) ||
				CompareDistance(exact, so->last_distance) < 0)
			{
				so->skipped++;
				continue;
			}
			bound = so->last_distance;
		}
		if (CompareDistance(bound, so->last_distance) > 0)
			so->last_distance = bound;
		if (so->shape->meta.trained)
			so->slack = Max(so->slack, ListDistance(so, c->list) - bound);
		so->ctl.returned++;
		scan->xs_heaptid = c->tid;
		scan->xs_recheck = false;
		scan->xs_recheckorderby = true;
		if (scan->numberOfOrderBys > 0)
		{
			scan->xs_orderbyvals[0] = Float8GetDatum(bound);
			scan->xs_orderbynulls[0] = false;
		}
		return true;
	}
}

bool
ivfpqgettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	MemoryContext old;

	if (!ScanDirectionIsForward(dir))
		elog(ERROR, "ivfpq index scans go forward only");
	if (so->walk)
	{
		bool		found;

		old = MemoryContextSwitchTo(so->cxt);
		if (!so->started)
		{
			so->started = true;
			pgstat_count_index_scan(scan->indexRelation);
		}
		found = Walk(scan);
		MemoryContextSwitchTo(old);
		return found;
	}
	if (so->query == NULL)
		return false;
	old = MemoryContextSwitchTo(so->cxt);
	if (!so->started)
	{
		pgstat_count_index_scan(scan->indexRelation);
		Start(scan);
	}
	if (so->shape->flat)
	{
		bool		found = FlatNext(scan);

		MemoryContextSwitchTo(old);
		return found;
	}
	for (;;)
	{
		if (so->ctl.limit > 0 && so->ctl.returned >= so->ctl.limit)
			break;				/* a filtered search's probe (scan.h) */
		if (so->pool.count > 0 &&
			(so->iterative == VX_ITERATIVE_RELAXED ||
			 SafeToReturn(so, RankedPoolTop(&so->pool).distance)))
		{
			Ranked		r = RankedPoolPop(&so->pool);

			/*
			 * A row nearer than one already returned was found too late
			 * (PQ scores only estimate distances).  The executor trusts the
			 * index's order, so strict order skips it; relaxed order
			 * returns it.
			 */
			if (CompareDistance(r.distance, so->last_distance) < 0 &&
				so->iterative != VX_ITERATIVE_RELAXED)
			{
				so->skipped++;
				continue;
			}
			so->last_distance = r.distance;
			so->ctl.returned++;
			scan->xs_heaptid = r.tid;
			scan->xs_recheck = false;
			scan->xs_recheckorderby = false;
			if (scan->numberOfOrderBys > 0)
			{
				scan->xs_orderbyvals[0] = Float8GetDatum(r.distance);
				scan->xs_orderbynulls[0] = false;
			}
			MemoryContextSwitchTo(old);
			return true;
		}
		if (so->next_cand < so->ncands)
		{
			NextWindow(scan);
			continue;
		}
		if (!MoreLists(so))
		{
			if (so->pool.count > 0)
				continue;		/* nothing else to find: the pool is safe */
			break;
		}
		/* the next batch of lists (every candidate so far is re-ranked) */
		so->ncands = so->next_cand = 0;
		so->next_score = FLT_MAX;
		for (int p = 0; p < so->probes && so->next_list < (int) so->shape->meta.lists; p++)
		{
			ListRank   *lr = &so->order[so->next_list++];

			ScanList(scan, lr->list, lr->score);
		}
	}
	MemoryContextSwitchTo(old);
	return false;
}

/* the controls of this scan (scan.h) */
VxScanControl *
IvfpqScanControl(IndexScanDesc scan)
{
	return &((IvfpqScanOpaque) scan->opaque)->ctl;
}

void
ivfpqendscan(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	if (so->slot)
		ExecDropSingleTupleTableSlot(so->slot);
	if (so->fetch)
		table_index_fetch_end(so->fetch);
	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}

/*-------------------------------------------------------------------------
 *
 * vxindex.h
 *	  What vectorx's index access methods (src/hnsw, src/ivfpq) share
 *	  (vxindex.c): which distance an operator class orders by, the
 *	  dimensions of the indexed column, operator-class validation, and the
 *	  conversion of a vector datum into an index's internal form.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_VXINDEX_H
#define VECTORX_VXINDEX_H

#include "access/genam.h"
#include "fmgr.h"
#include "utils/guc.h"
#include "storage/block.h"
#include "utils/rel.h"

/* the distance an index orders by; the values are stored in meta pages */
typedef enum VxMetric
{
	VX_METRIC_L2 = 1,			/* squared L2 */
	VX_METRIC_IP = 2,			/* negative inner product */
	VX_METRIC_COSINE = 3,		/* negative inner product of unit vectors */
	VX_METRIC_L1 = 4,
	VX_METRIC_HAMMING = 5,		/* bits that differ (bit columns) */
	VX_METRIC_JACCARD = 6		/* 1 - |a AND b| / |a OR b| (bit columns) */
} VxMetric;

/*
 * hnsw.iterative_scan and ivfpq.iterative_scan: what an ordered scan does
 * once the executor wants more rows than its first round (HNSW's ef_search
 * candidates, IVF-PQ's first re-rank window) produced.  The names and
 * values are pgvector's; the default differs (README, ORDER BY).
 *	off				one round only: a scan returns at most what its first
 *					round found (pgvector's default)
 *	strict_order	keep searching, and return rows in nondecreasing exact
 *					distance: a row found after a farther one was returned
 *					is skipped (vectorx's default)
 *	relaxed_order	keep searching and return every row found: each round is
 *					in order, but rows of a later round may be nearer than
 *					rows of an earlier one
 */
typedef enum VxIterativeScan
{
	VX_ITERATIVE_OFF,
	VX_ITERATIVE_STRICT,
	VX_ITERATIVE_RELAXED
} VxIterativeScan;

extern const struct config_enum_entry vx_iterative_scan_options[];

extern VxMetric VxIndexMetric(Relation index);

/*
 * The type of the indexed column, told by the operator class's support
 * function like the metric.  vector and halfvec share one internal form,
 * float4 (halfvec converts exactly), so nothing on disk depends on which;
 * bit's internal form is its packed bits (the bit operator classes'
 * metrics say so, and the meta page stores the metric); sparsevec's is its
 * non-zero elements (an HNSW meta page says so by its nnz, hnsw.h).
 */
typedef enum VxElem
{
	VX_ELEM_VECTOR,
	VX_ELEM_HALFVEC,
	VX_ELEM_BIT,
	VX_ELEM_SPARSE				/* sparsevec (HNSW only): vxcodec.h, SPARSE CODES */
} VxElem;

extern VxElem VxIndexElem(Relation index);

/*
 * Every value read from an index page is checked before it is used as a
 * size, an offset, an index, a divisor or a block number (hnsw.h and
 * ivfpq.h, CORRUPTION): a bad one raises ERRCODE_INDEX_CORRUPTED naming
 * the index and the block, never reads out of bounds.
 */
extern void VxIndexCorrupt(Relation index, BlockNumber blkno, const char *what) pg_attribute_noreturn();

/*
 * The same for what a meta page says of the indexed column: its
 * dimensions must be the column's typmod, which every scan and insert
 * checks vectors against (a meta page claiming other dimensions would
 * otherwise turn every query into a "different dimensions" error).
 */
extern bool VxIndexDimsMatch(Relation index, int meta_dims);

/*
 * A heap TID read from an index page, checked before a scan fetches or
 * returns it: on a heap table its offset must be 1..MaxHeapTuplesPerPage
 * and its block inside the table, else ERRCODE_INDEX_CORRUPTED (the
 * server's own error for a block past the end names the table's file
 * and no index).  *heap_blocks caches the table's size: start it at
 * InvalidBlockNumber; it is read again before a block past it is called
 * corrupt, as the table may have grown since.  A VACUUM that truncates
 * the table holds a lock that conflicts with the scan's, so a cached
 * size never shrinks under a scan.
 */
extern void VxCheckHeapTid(Relation index, Relation heap, BlockNumber *heap_blocks, ItemPointer tid);

/*
 * Hand the executor a row of a scan whose query has no direction (its ORDER
 * BY values all NULL or NaN, so every row ties): the TID checked as above,
 * no ORDER BY value to recheck.
 */
extern void VxReturnUnordered(IndexScanDesc scan, BlockNumber *heap_blocks, ItemPointer tid);
extern int	VxIndexDims(Relation index, int maxdims, const char *amname);
extern bool VxValidateOpclass(Oid opclassoid, const char *amname);
/*
 * A column value in an index's internal form: dims float4 for vector and
 * halfvec (normalised under cosine; false for a zero vector there), the
 * (dims + 7) / 8 bytes of a bit value's bits for bit, the non-zero count,
 * indices and values of a sparsevec (vxcodec.h, SPARSE CODES; normalised
 * and false for a zero vector under cosine, as the dense types).
 */
extern bool VxPrepareVector(Datum value, VxElem elem, int dims, VxMetric metric, float *out,
							const char *amname);

#endif

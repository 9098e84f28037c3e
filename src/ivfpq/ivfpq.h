/*-------------------------------------------------------------------------
 *
 * ivfpq.h
 *	  The IVF-PQ index access method: the design in one place (format,
 *	  locking, WAL, scans, vacuum), then the declarations.
 *
 * WHAT IT IS
 *	A coarse quantizer of `lists` centroids routes each vector to its
 *	nearest list; within the list the vector is stored as a product-
 *	quantization (PQ) code of its residual (vector minus centroid): m
 *	sub-vectors, each replaced by the number of its nearest of 2^nbits
 *	sub-centroids.  A scan ranks the lists by centroid distance, scans the
 *	codes of the `ivfpq.probes` nearest ones with asymmetric distance
 *	computation (a per-query lookup table, LUT, and SIMD kernels from
 *	distance.h), keeps the best candidates, and re-ranks the best
 *	`ivfpq.rerank` of them with exact distances computed from the heap
 *	tuples' vectors: cheap and wide, then exact and narrow.
 *
 *	Sub-vectors: m need not divide the dimensions.  The first (dims % m)
 *	sub-vectors have dims / m + 1 dimensions, the others dims / m (so a
 *	784-dimension vector splits into m = 56 sub-vectors of 14, or m = 48
 *	of 17 and 16).  Cosine: vectors are normalised once at insert and the
 *	query once per scan; inside the index cosine is inner product.
 *
 * PAGE LAYOUT (8 kB pages, generic WAL)
 *	block 0           meta page: IvfpqMetaPageData (shape, where the parts
 *	                  below start, training statistics)
 *	centroid pages    lists x dims float4, one flat array over consecutive
 *	                  pages' data areas (a centroid may span two pages)
 *	codebook pages    for j < m: ksub x dsub(j) float4, flat likewise
 *	directory pages   one IvfpqListData per list: its first page and the
 *	                  page where inserts go next
 *	list pages        chains, one per list (opaque: next page, entries,
 *	                  statistics of rows inserted after the build).  The
 *	                  data area holds blocks of B entries, B = 64 for
 *	                  8-bit codes and 32 for 4-bit, in the fast-scan
 *	                  layout of distance.h (codes grouped by
 *	                  sub-quantizer, so one SIMD pass scores a block),
 *	                  followed in each block by the B heap TIDs.  A
 *	                  page's entries are dense: entry i is slot i % B of
 *	                  block i / B.
 *	Parts are written once by the build; afterwards only directory and list
 *	pages change.  An index built on an empty table is "untrained": one
 *	list whose entries carry TIDs only, scanned by exact re-rank of every
 *	row (a NOTICE says so; REINDEX once data is loaded).
 *
 * LOCKING
 *	Meta, centroid and codebook pages are read-only after the build, so
 *	each backend caches them (keyed by relfilenode, which REINDEX and
 *	TRUNCATE change; src/common/vxcache.h frees an entry at the end of a
 *	transaction that invalidated its index).  Every other access holds a buffer content lock on
 *	one page at a time, except where noted; lock order is list pages in
 *	chain order, then the directory page.
 *	  scan     share-locks the directory page to read a list's head, then
 *	           each list page in turn, copying out scores and TIDs
 *	  insert   exclusive-locks the list's insert page; when it is full and
 *	           has a successor, moves on; at the end of the chain extends
 *	           the index, then exclusive-locks the directory page to link
 *	           the new page and point the list's insert page at it (three
 *	           pages in one WAL record)
 *	  vacuum   exclusive-locks each list page in turn, deletes dead TIDs
 *	           and keeps the page dense (the page's last entry moves into
 *	           each hole; order within a page carries no meaning), then
 *	           points the list's insert page at the first page with room,
 *	           so freed slots are filled before the list grows.  Entries
 *	           never move between pages, so a concurrent scan sees each
 *	           live entry exactly once.  Pages are never recycled into
 *	           another list (REINDEX reclaims).
 *
 * WAL
 *	Every change after the build is one GenericXLog record (insert: one
 *	page, or three when it extends a list; vacuum: one page, plus the
 *	directory page).  The build writes through shared buffers and logs all
 *	pages with log_newpage_range at the end.
 *
 * SCAN
 *	rescan: the query in internal form (normalised for cosine), its
 *	distance to every centroid (centroids cached), the lists by distance.
 *	First gettuple: for each of the nearest `probes` lists, the LUT of the
 *	query's residual (L2: |r_j - y_jk|^2 = |r_j|^2 + |y_jk|^2 - 2 r_j . y_jk
 *	with the sub-centroid norms cached; inner product: -q_j . y_jk, the same
 *	for every list, plus the list's constant -q . c); every entry's score
 *	lands in a candidate array.  4-bit codes, and 8-bit codes where a
 *	256-entry table lookup is SIMD (AVX-512 VBMI), are scored with the LUT
 *	quantized to uint8 by the fast-scan kernels; elsewhere 8-bit codes are
 *	scored with the float LUT (pq8_block_scan), which beats quantizing it
 *	per list.  The best
 *	`rerank` candidates by score are then fetched from the heap
 *	(table_index_fetch_tuple with the scan's snapshot; invisible ones are
 *	dropped), their exact distances computed, and they are returned in
 *	exact order with those distances (xs_orderbyvals, no recheck).
 *	Streaming: when the executor asks for more (a WHERE clause rejected
 *	rows), the next `rerank` candidates are re-ranked and returned, then
 *	the next `probes` lists are scanned, until every list has been.  Each
 *	window is in exact order; windows may overlap a little ("relaxed
 *	order", as HNSW's rounds).  ivfpq.rerank = 0 returns PQ order with PQ
 *	distances.  An allow-list (src/planner/filter.h, inscan) drops the
 *	candidates whose heap TID it does not hold before they are ranked, and
 *	widens each batch to ivfpq.probes / sqrt(f) lists when it admits a
 *	fraction f of the rows (the nearest allowed rows lie farther out).
 *
 * BUILD
 *	Sample (seeded, random blocks as ANALYZE does; at most
 *	IvfpqTrainRows() rows and half of maintenance_work_mem), k-means for
 *	the centroids (k-means++ seeding on a subsample, Lloyd iterations,
 *	empty clusters split off the largest), PQ codebooks by k-means per
 *	sub-space on the sample's residuals, then one heap scan assigns and
 *	encodes every row into a tuplesort by list (memory bounded by
 *	maintenance_work_mem, spilling to disk beyond), and the sorted entries
 *	are written list by list.  Phases are reported in
 *	pg_stat_progress_create_index.
 *
 * CORRUPTION
 *	Every value read from a page is checked before it is used as a size, a
 *	divisor, an index or a block number (ivfpqpage.c, ivfpqmeta.c), and a bad
 *	one raises ERRCODE_INDEX_CORRUPTED naming the index and the block:
 *	every page read has our special space, IVFPQ_PAGE_ID (distinct from
 *	HNSW's) and the kind the reader expects; the meta page (every read)
 *	its magic and version, dims, metric (the operator class's), nbits, m,
 *	the block layout the build derives from them, a list count within
 *	limits, and its parts in order within the relation; directory entries
 *	and list links are invalid or list blocks within the relation; a list
 *	page holds at most a page of entries; and a walk down a list stops
 *	with the error once it has visited more pages than the index has (a
 *	chain that cycles).
 *
 * DRIFT
 *	The meta page keeps the training sample's mean squared quantization
 *	error; each list page sums the errors of rows inserted after the build.
 *	vectorx_index_stats compares them and suggests a REINDEX when new rows
 *	quantize markedly worse or the lists became unbalanced.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_IVFPQ_H
#define VECTORX_IVFPQ_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "utils/relcache.h"

#include "monitor.h"
#include "page.h"
#include "vector.h"
#include "vxindex.h"
#include "wal.h"

#define IVFPQ_MAGIC			0x51505649	/* "IVPQ" */
#define IVFPQ_VERSION		3	/* 2: a page id of its own; 3: in the last two
								 * bytes of the page */
#define IVFPQ_PAGE_ID		VX_PAGE_ID_IVFPQ	/* page.h: distinct from HNSW's */
#define IVFPQ_META_BLKNO	VX_META_BLKNO

#define IVFPQ_MAX_LISTS		65536
#define IVFPQ_MAX_M			1024
#define IVFPQ_DEFAULT_PROBES 8
#define IVFPQ_DEFAULT_RERANK 100

/* page kinds (opaque flags) */
#define IVFPQ_META			1
#define IVFPQ_FLAT			2	/* centroid, codebook pages */
#define IVFPQ_DIRECTORY		3
#define IVFPQ_LIST			4

typedef struct IvfpqPageOpaqueData
{
	BlockNumber next;			/* list pages: the next page of the chain */
	uint16		count;			/* list pages: entries */
	uint8		kind;			/* IVFPQ_META, ... */
	uint8		unused;
	uint32		inserted;		/* list pages: entries added after the build */
	float4		inserted_error; /* their summed squared quantization error */
	uint32		unused2;
	uint16		unused3;
	uint16		page_id;		/* IVFPQ_PAGE_ID, checked on every read */
} IvfpqPageOpaqueData;

typedef IvfpqPageOpaqueData *IvfpqPageOpaque;

VX_STATIC_ASSERT_SPECIAL(IvfpqPageOpaqueData);
StaticAssertDecl(offsetof(IvfpqPageOpaqueData, count) == 4 &&
				 offsetof(IvfpqPageOpaqueData, kind) == 6 &&
				 offsetof(IvfpqPageOpaqueData, inserted) == 8 &&
				 offsetof(IvfpqPageOpaqueData, inserted_error) == 12 &&
				 offsetof(IvfpqPageOpaqueData, page_id) == 22 &&
				 sizeof(IvfpqPageOpaqueData) == 24,
				 "ivfpq.h: the special space's table");

#define IvfpqPageGetOpaque(page) ((IvfpqPageOpaque) PageGetSpecialPointer(page))
#define IVFPQ_DATA_SIZE \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(IvfpqPageOpaqueData)))
#define IvfpqPageData(page) ((char *) (page) + MAXALIGN(SizeOfPageHeaderData))

typedef struct IvfpqMetaPageData
{
	uint32		magic;
	uint32		version;
	uint16		dims;
	uint8		metric;			/* VxMetric: L2, IP or COSINE */
	uint8		nbits;			/* 8 or 4 */
	uint16		m;				/* sub-quantizers */
	uint16		block;			/* entries per block: 64 or 32 */
	uint32		lists;			/* 1 when untrained */
	uint32		block_bytes;	/* codes and TIDs of one block */
	uint16		blocks_per_page;
	uint16		trained;		/* 0: built empty, entries carry TIDs only */
	BlockNumber centroid_start; /* first page of each part */
	BlockNumber codebook_start;
	BlockNumber directory_start;
	BlockNumber data_start;		/* first list page of the build */
	uint64		build_id;		/* random, per build: tells cached shapes apart */
	uint64		train_rows;		/* rows in the training sample */
	uint64		build_rows;		/* rows indexed by the build */
	double		train_error;	/* mean squared quantization error of the sample */
} IvfpqMetaPageData;

typedef IvfpqMetaPageData *IvfpqMetaPage;

#define IvfpqPageGetMeta(page) ((IvfpqMetaPage) IvfpqPageData(page))

StaticAssertDecl(offsetof(IvfpqMetaPageData, version) == 4 &&
				 offsetof(IvfpqMetaPageData, dims) == 8 &&
				 offsetof(IvfpqMetaPageData, metric) == 10 &&
				 offsetof(IvfpqMetaPageData, nbits) == 11 &&
				 offsetof(IvfpqMetaPageData, m) == 12 &&
				 offsetof(IvfpqMetaPageData, block) == 14 &&
				 offsetof(IvfpqMetaPageData, lists) == 16 &&
				 offsetof(IvfpqMetaPageData, block_bytes) == 20 &&
				 offsetof(IvfpqMetaPageData, blocks_per_page) == 24 &&
				 offsetof(IvfpqMetaPageData, trained) == 26 &&
				 offsetof(IvfpqMetaPageData, centroid_start) == 28 &&
				 offsetof(IvfpqMetaPageData, codebook_start) == 32 &&
				 offsetof(IvfpqMetaPageData, directory_start) == 36 &&
				 offsetof(IvfpqMetaPageData, data_start) == 40 &&
				 offsetof(IvfpqMetaPageData, build_id) == 48 &&
				 offsetof(IvfpqMetaPageData, train_rows) == 56 &&
				 offsetof(IvfpqMetaPageData, build_rows) == 64 &&
				 offsetof(IvfpqMetaPageData, train_error) == 72 &&
				 sizeof(IvfpqMetaPageData) == 80,
				 "ivfpq.h: the meta page's table");

/* what an IVF-PQ page looks like to the checks of page.h */
static const VxPageFormat IvfpqPageFormat = {
	"IVF-PQ", IVFPQ_PAGE_ID, sizeof(IvfpqPageOpaqueData), IVFPQ_MAGIC, IVFPQ_VERSION
};

typedef struct IvfpqListData
{
	BlockNumber head;			/* first page, or InvalidBlockNumber */
	BlockNumber insert;			/* where inserts try first */
} IvfpqListData;

#define IVFPQ_LISTS_PER_PAGE	((int) (IVFPQ_DATA_SIZE / sizeof(IvfpqListData)))

StaticAssertDecl(offsetof(IvfpqListData, insert) == 4 && sizeof(IvfpqListData) == 8,
				 "ivfpq.h: the directory entry's table");
StaticAssertDecl(sizeof(ItemPointerData) == 6, "ivfpq.h: list pages hold 6-byte heap TIDs");

typedef struct IvfpqOptions
{
	int32		vl_len_;
	int			lists;			/* -1: from the table size */
	int			m;				/* -1: from the dimensions */
	int			nbits;
} IvfpqOptions;

/*
 * What a backend keeps of an index: the meta page and the read-only parts
 * (centroids, codebooks), in a backend-local cache keyed by relfilenode
 * (vxcache.h) and checked against the meta page's build_id at every use (a
 * relfilenode can be reused after a DROP).  Not in rd_amcache: the
 * relcache frees that on an invalidation, possibly under a running scan.
 */
typedef struct IvfpqShape
{
	RelFileNode node;			/* cache key */
	IvfpqMetaPageData meta;
	int			ksub;			/* 2^nbits */
	int		   *dsub;			/* [m] dimensions of sub-vector j */
	int		   *doff;			/* [m] its first dimension */
	float	   *centroids;		/* [lists][dims] */
	float	   *centroid_norms; /* [lists] |c|^2 */
	float	   *codebooks;		/* sub-quantizer j: ksub x dsub(j), at cboff[j] */
	float	   *codebooks_t;	/* the same transposed: dsub(j) x ksub, at cboff[j] */
	float	   *codebook_norms; /* [m][ksub] squared norms of the sub-centroids */
	int		   *cboff;			/* [m] */
	int			code_bytes;		/* of one block */
} IvfpqShape;

/* build phases, for pg_stat_progress_create_index */
#define IVFPQ_PHASE_SAMPLE		2
#define IVFPQ_PHASE_TRAIN		3
#define IVFPQ_PHASE_CODEBOOKS	4
#define IVFPQ_PHASE_ASSIGN		5
#define IVFPQ_PHASE_WRITE		6

/* GUCs */
extern int	ivfpq_probes;
extern int	ivfpq_rerank;
extern int	ivfpq_iterative_scan;	/* VxIterativeScan (vxindex.h) */

/* ivfpq.c */
extern void IvfpqInitGucs(void);
extern Datum ivfpqhandler(PG_FUNCTION_ARGS);

/* ivfpqmeta.c: the meta page and the shape */
extern void IvfpqSubspaces(int dims, int m, int *dsub, int *doff);
extern void IvfpqReadMeta(Relation index, IvfpqMetaPageData *meta);
extern const IvfpqShape *IvfpqGetShape(Relation index);
extern void IvfpqShapeDerive(IvfpqShape *shape);

/* ivfpqpage.c: page layouts and guards */
extern int	IvfpqCodeBytes(int m, int nbits);
extern int	IvfpqBlockSize(int nbits);
extern int	IvfpqPageCapacity(const IvfpqMetaPageData *meta);
extern void IvfpqPutEntry(char *data, const IvfpqMetaPageData *meta, int code_bytes, int entry,
						  const uint8 *code, ItemPointer tid);
extern ItemPointer IvfpqEntryTid(char *data, const IvfpqMetaPageData *meta, int code_bytes, int entry);
extern void IvfpqMoveEntry(char *data, const IvfpqMetaPageData *meta, int code_bytes, int from, int to);
extern void IvfpqInitPage(Page page, uint8 kind);
extern BlockNumber IvfpqDirectoryBlock(const IvfpqMetaPageData *meta, int list, int *slot);
extern IvfpqListData IvfpqReadDirectory(Relation index, const IvfpqMetaPageData *meta, int list,
										BufferAccessStrategy strategy, BlockNumber *nblocks);
/* a corrupt page (CORRUPTION): VxIndexCorrupt, vxindex.h */
#define IvfpqCorrupt(index, blkno, what) VxIndexCorrupt(index, blkno, what)
extern void IvfpqCheckPage(Relation index, Buffer buf, uint8 kind);
extern void IvfpqCheckListBlock(Relation index, const IvfpqMetaPageData *meta, BlockNumber from,
								BlockNumber blkno, BlockNumber *nblocks);
extern void IvfpqCheckListPage(Relation index, const IvfpqMetaPageData *meta, Buffer buf,
							   BlockNumber *nblocks, uint32 steps);

/* ivfpqtrain.c: k-means, PQ training, encoding, lookup tables (no catalog access) */
extern void IvfpqKmeans(const float *x, int n, int d, int k, float *centroids, int iters, uint32 seed);
extern int	IvfpqNearest(const float *x, const float *centroids, const float *norms, int k, int d,
						 float *dist);
extern void IvfpqTrainCodebooks(IvfpqShape *shape, const float *residuals, int n, uint32 seed);
extern float IvfpqEncode(const IvfpqShape *shape, const float *residual, uint8 *code);
extern void IvfpqResidual(const IvfpqShape *shape, const float *x, int list, float *out);
extern void IvfpqLutL2(const IvfpqShape *shape, const float *residual, float *lut);
extern void IvfpqLutIP(const IvfpqShape *shape, const float *query, float *lut);

/* ivfpqbuild.c */
extern IndexBuildResult *ivfpqbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern void ivfpqbuildempty(Relation index);

/* ivfpqinsert.c */
extern bool ivfpqinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
						Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
						IndexInfo *indexInfo);
extern void IvfpqAddEntry(Relation index, const IvfpqShape *shape, int list, const uint8 *code,
						  ItemPointer tid, float error);

/* ivfpqscan.c */
extern IndexScanDesc ivfpqbeginscan(Relation index, int nkeys, int norderbys);
extern void ivfpqrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
extern bool ivfpqgettuple(IndexScanDesc scan, ScanDirection dir);
extern void ivfpqendscan(IndexScanDesc scan);
struct VxScanControl;
extern struct VxScanControl *IvfpqScanControl(IndexScanDesc scan);

/* ivfpqvacuum.c */
extern IndexBulkDeleteResult *ivfpqbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
											  IndexBulkDeleteCallback callback, void *callback_state);
extern IndexBulkDeleteResult *ivfpqvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

#endif

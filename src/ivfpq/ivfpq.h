/*-------------------------------------------------------------------------
 *
 * ivfpq.h
 *	  The IVF-PQ index access method, and IVFFlat, its variant whose lists
 *	  hold 8-bit scalar codes instead of PQ codes (pgvector's `USING
 *	  ivfflat`): the design in one place (algorithm, on-disk format,
 *	  invariants, locking, WAL, scans, build, vacuum, hot standby,
 *	  corruption checks), then the declarations shared by the files of
 *	  src/ivfpq.
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
 *	Column types: vector and halfvec (the halfvec_*_ops classes).  A
 *	halfvec is converted to float4 exactly at insert, scan and re-rank, so
 *	nothing on disk depends on the type; the operator class's support
 *	function tells which it is (VxIndexElem).
 *
 *	The method is IVFADC of Jegou, Douze & Schmid, "Product quantization
 *	for nearest neighbor search" (IEEE TPAMI 2011), with codes laid out
 *	for the "fast scan" of Andre, Kermarrec & Le Scouarnec (VLDB 2015).
 *	Deviations, each with its reason:
 *	 - Re-ranking reads the exact vectors from the heap rows, not from a
 *	   copy in the index: the index stays m bytes per row (plus its TID),
 *	   and the distances returned are exact.
 *	 - Sub-vectors of unequal size (above): any m up to the dimensions,
 *	   not only divisors.
 *	 - An index built on an empty table is "untrained" (BUILD): one list of
 *	   TIDs, scanned exactly, rather than a build error.
 *	 - Scans stream in windows (SCAN) so that WHERE clauses and LIMITs
 *	   larger than ivfpq.rerank still get rows.
 *
 * IVFFLAT
 *	`USING ivfflat` (handler ivfflathandler, ivfpqam.c) is the same access
 *	method with another entry format: a list entry holds the vector's
 *	src/common/vxcodec.h codes (one byte per dimension, VxQuant's scale),
 *	not a PQ code of its residual.  pgvector's ivfflat keeps the float
 *	vectors in its lists and returns the exact nearest rows of the probed
 *	lists; IVFFlat returns the same rows in the same order from a quarter
 *	of the bytes: a scan scores every entry of the probed lists through
 *	the codes, and hands the entries to the executor in order of
 *	VxLowerBound, the bound of their exact distance, with
 *	xs_recheckorderby set (as HNSW does, hnsw.h VECTORS): the executor
 *	computes the exact distance of each row it fetches and reorders, and
 *	fetches only the rows whose bound lies below the k-th exact distance.
 *	So its answers for the same centroids are pgvector's exactly, and its
 *	recall at the same lists and probes is pgvector's (up to k-means).
 *	The format differs from IVF-PQ's only where noted: nbits 0 and m 0 in
 *	the meta page, no codebook part, one entry per block (code bytes
 *	sizeof(VxQuant) + dims rounded up to even, then the TID, padded to 4
 *	bytes: a page holds 10 of 784 dimensions), up to IVFFLAT_MAX_DIM dimensions (an entry fits a
 *	page), and an untrained index (built on an empty table) keeps codes
 *	too (they need no training), so its one list is scored like any other.
 *	Bit columns (bit_hamming_ops, metric HAMMING in the meta page, up to
 *	IVFFLAT_MAX_BITS): the entries hold the bits (vxcodec.h; code bytes
 *	sizeof(VxQuant) + (dims + 7) / 8, IvfpqFlatBytes), the lists route by
 *	the bits as 0/1 floats (IvfpqRoutingVector: k-means, the nearest
 *	centroid and the list ranking by squared L2, which between 0/1
 *	vectors is the Hamming distance).
 *	Settings ivfflat.probes, ivfflat.iterative_scan, ivfflat.max_probes
 *	(pgvector's names and defaults, but iterative_scan: strict_order, as
 *	everywhere in vectorx); ivfpq.* do not apply.  Past the first batch of
 *	lists, an entry whose bound lies below the bound last handed out is
 *	late: strict order fetches its row and hands it out with that bound
 *	if its exact distance is not below it, else skips it; relaxed order
 *	hands it out as it is.
 *
 * STORAGE
 *	Every page is a standard page following src/common/page.h: the data
 *	area at MAXALIGN(SizeOfPageHeaderData) holds IVFPQ_DATA_SIZE bytes
 *	(24 and 8144 with 8 kB pages), then the special space.  pd_lower
 *	covers the whole data area on every page, so that generic WAL keeps
 *	all of it (src/common/wal.h, the hole).  The parts, in block order:
 *	  block 0           meta page (IVFPQ_META)
 *	  centroid pages    IVFPQ_FLAT: lists x dims float4, one flat array
 *	                    over consecutive pages' data areas (a centroid may
 *	                    span two pages); none when untrained
 *	  codebook pages    IVFPQ_FLAT: for j < m, ksub x dsub(j) float4 at
 *	                    float ksub * doff(j), flat likewise (ksub x dims
 *	                    floats in all); none when untrained
 *	  directory pages   IVFPQ_DIRECTORY: IVFPQ_LISTS_PER_PAGE (1018)
 *	                    IvfpqListData per page, list l's at slot
 *	                    l % IVFPQ_LISTS_PER_PAGE of page directory_start +
 *	                    l / IVFPQ_LISTS_PER_PAGE
 *	  list pages        IVFPQ_LIST, from data_start on: chains, one per
 *	                    list, in the order the build and inserts added them
 *
 *	Special space, IvfpqPageOpaqueData (24 bytes):
 *	  off size field
 *	  0   4    next: list pages, the next page of the chain, or
 *	           InvalidBlockNumber at its end; other pages InvalidBlockNumber
 *	  4   2    count: list pages, entries on the page (I6)
 *	  6   1    kind: IVFPQ_META 1, IVFPQ_FLAT 2, IVFPQ_DIRECTORY 3,
 *	           IVFPQ_LIST 4
 *	  7   1    unused, 0
 *	  8   4    inserted: list pages, entries added after the build (DRIFT;
 *	           vacuum leaves it)
 *	  12  4    inserted_error: float4, their summed squared quantization
 *	           error
 *	  16  6    unused, 0
 *	  22  2    page_id = IVFPQ_PAGE_ID (0xFF92), the page's last two bytes
 *	(Format version 2 kept the page id at offset 18; version 3 moved it
 *	to the end, where PostgreSQL's AMs and HNSW keep theirs.)
 *
 *	Meta page, IvfpqMetaPageData (80 bytes) at the data area:
 *	  0   4    magic = IVFPQ_MAGIC
 *	  4   4    version = IVFPQ_VERSION
 *	  8   2    dims: 1..VECTOR_MAX_DIM (IVFFlat: IVFFLAT_MAX_DIM, bit columns
 *	           IVFFLAT_MAX_BITS)
 *	  10  1    metric: VxMetric, L2, IP or COSINE (L1 is refused); IVFFlat
 *	           also HAMMING (bit columns)
 *	  11  1    nbits: 8 or 4, bits per sub-code; ksub = 2^nbits; IVFFlat 0
 *	  12  2    m: sub-quantizers, 1..min(IVFPQ_MAX_M, dims); IVFFlat 0
 *	  14  2    block: entries per block, 64 (nbits 8) or 32 (nbits 4), 1
 *	           (IVFFlat)
 *	  16  4    lists: 1..IVFPQ_MAX_LISTS; 1 when untrained
 *	  20  4    block_bytes: code bytes of a block + block x 6 (TIDs)
 *	  24  2    blocks_per_page: IVFPQ_DATA_SIZE / block_bytes, >= 1
 *	  26  2    trained: 1, or 0 for an index built on an empty table
 *	  28  4    centroid_start: first block of the centroids (0 untrained)
 *	  32  4    codebook_start: first block of the codebooks (0 untrained)
 *	  36  4    directory_start: first directory page
 *	  40  4    data_start: first list page of the build (I2)
 *	  44  4    padding
 *	  48  8    build_id: random and odd, per build: tells a cached shape
 *	           from one of an older build with the same relfilenode
 *	  56  8    train_rows: rows in the training sample
 *	  64  8    build_rows: rows the build indexed
 *	  72  8    train_error: float8, the sample's mean squared quantization
 *	           error (DRIFT)
 *
 *	Directory entry, IvfpqListData (8 bytes):
 *	  0   4    head: the list's first page, or InvalidBlockNumber (empty)
 *	  4   4    insert: the page where inserts try first (I4)
 *
 *	List page data area: blocks_per_page blocks of block_bytes bytes; entry
 *	i of the page is slot i % block of block i / block.  A block of B =
 *	block entries holds the codes in the fast-scan layout of distance.h,
 *	then the B heap TIDs:
 *	  nbits 8: code bytes m x 64; sub-code j of slot s at byte 64 j + s
 *	  nbits 4: code bytes m x 16; sub-code j of slot s in byte 16 j +
 *	           (s % 16), the low nibble for s < 16, the high one for s >= 16
 *	  then:    TID of slot s (ItemPointerData, 6 bytes) at code bytes + 6 s
 *	Entries at or past count are garbage (stale or zero) and never read.
 *	Static assertions after the structs below hold these tables to the
 *	code.
 *
 * INVARIANTS (checked by vectorx_ivfpq_check)
 *	I1. The meta page has magic and version, and the shape's fields lie
 *	    within the limits above, block, block_bytes and blocks_per_page
 *	    being what nbits and m give (IvfpqBlockSize, IvfpqCodeBytes).
 *	I2. The parts lie in the order above, each within the relation:
 *	    1 <= centroid_start (trained), each part's pages end at or before
 *	    the next part's start, data_start <= the relation's size.
 *	I3. The meta, centroid, codebook and directory pages are written by
 *	    the build and, but for the directory, never change afterwards.
 *	I4. A directory entry's head and insert are both InvalidBlockNumber (an
 *	    empty list) or list pages; insert lies on head's chain.
 *	I5. Every list page is on exactly one chain; chains are acyclic and
 *	    end in next = InvalidBlockNumber; a page once linked is never
 *	    unlinked, moved to another chain or recycled (REINDEX reclaims).
 *	I6. A list page's entries are dense: 0 <= count <= blocks_per_page x
 *	    block, and entries 0..count-1 each hold a code and a heap TID.
 *	I7. Each heap TID the index holds is in one entry, of the list whose
 *	    centroid was nearest when the row was indexed; an entry never
 *	    moves to another page (vacuum moves entries only within a page).
 *	The guards (CORRUPTION) check I1, I2 and the parts of I4-I6 that a
 *	reader could trip over; I3 and I7 hold by construction.
 *	vectorx_ivfpq_check (ivfpqcheck.c) checks all of them on a live index
 *	but I3 (a change is invisible in one look: it checks that the parts are
 *	there) and I7's list (the vector is not stored: ivfpqcheck.c says why
 *	that cannot be checked); it reports each problem under its number.
 *
 * LOCKING
 *	Buffer content locks, one page at a time except where noted:
 *	 L1. Meta, centroid and codebook pages are read-only after the build
 *	     (I3): read once under a shared lock, copied into the backend's
 *	     shape cache (IvfpqGetShape, keyed by relfilenode, which REINDEX
 *	     and TRUNCATE change; src/common/vxcache.h frees an entry at the
 *	     end of a transaction that invalidated its index) and checked
 *	     against the meta page's build_id at every use.
 *	 L2. The directory page: shared to copy an entry (then released),
 *	     exclusive to change one: a list's first page, a new insert page,
 *	     vacuum's insert pointer.
 *	 L3. List pages: shared for scans and statistics, which score or copy
 *	     the page's entries under the lock; exclusive for inserts and
 *	     vacuum.  Walks follow next one page at a time.
 *	 L4. Order: list pages before the directory page.  Only an insert
 *	     holds both: it keeps the chain's full last page locked while it
 *	     extends the index and links the new page, and then locks the
 *	     directory page to point the list's insert page there.  Scans and
 *	     vacuum hold no list page when they lock the directory page.  A page
 *	     the caller has just added (src/common/page.h: the relation
 *	     extension lock, then the new page's lock) is reachable by nobody
 *	     else, so an insert creating an empty list's first page may lock it
 *	     after the directory page.
 *	 L5. Two inserts that find a list empty both take the directory page
 *	     exclusively; the second sees the first one's head and uses it.
 *	     Two that find the last page full serialise on its exclusive lock;
 *	     the second then sees its next link and moves on, so a chain is
 *	     extended once.
 *	Vacuum and scans: vacuum compacts a page under its exclusive lock, so
 *	a scan sees the page before or after, never halfway; entries never
 *	leave their page (I7), so a scan walking the chain meanwhile sees each
 *	live entry exactly once.  Vacuum's TID removal needs no further
 *	interlock with scans: the heap reuses a TID only once its old tuple
 *	was invisible to every running snapshot, so an MVCC scan holding an
 *	old TID fetches either nothing or a tuple its snapshot cannot see (the
 *	re-rank drops it).
 *
 * WAL
 *	Every change after the build is one generic WAL record through the
 *	wrapper both AMs share (src/common/wal.h: at most 4 pages, replayed
 *	whole or not at all):
 *	 W1. An insert into a page with room: that list page (delta).
 *	 W2. An empty list's first page: the new page (full image) with the
 *	     entry, and the directory page (head and insert).
 *	 W3. A full chain: its last page (next), the new page (full image)
 *	     with the entry, and the directory page (insert): three pages.
 *	 W4. Vacuum of a list page: that page (delta), compacted.
 *	 W5. Vacuum's insert pointer: the directory page.
 *	What a crash can leave: each record is atomic, so chains, directory
 *	and entries agree after every record.  A page added by VxNewBuffer
 *	whose W2 or W3 never reached the log is an all-zero block no chain
 *	links: nothing reads it, and later extensions append after it
 *	(REINDEX reclaims it).  A crash between W4 and W5 leaves the insert
 *	pointer where it was: inserts still go to a page with room or extend
 *	the chain, and the next VACUUM moves it.  A committed insert's record
 *	precedes its commit record, so committed rows are never lost.
 *	The build writes no WAL while it writes the pages, and logs every
 *	page once at its end (VxLogWholeIndex, log_newpage_range); nobody can
 *	see the index before the build commits, and a crash before then drops
 *	it.  The INIT fork of an unlogged index (ambuildempty: an untrained
 *	meta page and one empty directory page) is written and logged by
 *	VxWriteInitFork.
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
 *	distances.  An allow-list (src/common/scan.h; inscan in
 *	src/planner/filter.h) drops the candidates whose heap TID it does not
 *	hold before they are ranked, and widens each batch to ivfpq.probes /
 *	sqrt(f) lists when it admits a fraction f of the rows (the nearest
 *	allowed rows lie farther out).
 *	A query with no direction (NULL, or a zero query under cosine: every
 *	distance NULL or NaN, every row tied) walks every list in directory
 *	order and returns every row the index holds, unranked, with no ORDER
 *	BY value (Walk in ivfpqscan.c).
 *
 * BUILD
 *	Sample (seeded, random blocks as ANALYZE does; at most the rows
 *	TrainRows() in ivfpqbuild.c asks for, within half of
 *	maintenance_work_mem), k-means for
 *	the centroids (k-means++ seeding on a subsample, Lloyd iterations,
 *	empty clusters split off the largest), PQ codebooks by k-means per
 *	sub-space on the sample's residuals, then one heap scan assigns and
 *	encodes every row into a tuplesort by list (memory bounded by
 *	maintenance_work_mem, spilling to disk beyond), and the sorted entries
 *	are written list by list.  Phases are reported in
 *	pg_stat_progress_create_index.
 *
 * VACUUM (ivfpqvacuum.c)
 *	V1 (ambulkdelete): list by list, each page of the chain in turn under
 *	   an exclusive lock loses the TIDs the callback reports dead: the
 *	   page's last entry fills each hole, so the page stays dense (I6;
 *	   order within a page carries no meaning), in one record (W4).  Then
 *	   the list's insert pointer moves to its first page with room (W5),
 *	   so freed slots fill before the chain grows.  vacuum_delay_point()
 *	   runs between pages.
 *	V2 (amvacuumcleanup): without a bulk delete, walks the lists under
 *	   shared locks only to count entries and pages.
 *	No page is freed or unlinked (I5): a list keeps its emptied pages for
 *	its later inserts; REINDEX gives the space back.
 *
 * HOT STANDBY
 *	Standbys replay the generic WAL records (W1-W5) and the build's page
 *	images with no IVF-PQ code: generic WAL's redo applies each record's
 *	pages while holding all of their locks, so a standby's scan, which
 *	takes the same shared locks as on the primary (L2, L3), sees every
 *	page and every record's set of pages before or after it, as a
 *	primary's scan sees an insert or a vacuum.  The records carry no
 *	conflict horizon: removing index entries cannot cancel standby
 *	queries, because the heap records that made those rows dead (pruning,
 *	freezing) already resolved conflicts with snapshots that could still
 *	see them, as for nbtree's vacuum records.  A standby backend's shape
 *	cache follows the primary's REINDEX and TRUNCATE through the relcache
 *	invalidations replayed with their commit records, and build_id
 *	catches a reused relfilenode.  The INIT fork reaches standbys through
 *	its log_newpage records; an unlogged index cannot be read during
 *	recovery.  test/t/008_ivfpq_replica.pl replays builds, inserts and
 *	vacuums with wal_consistency_checking and compares a standby's
 *	answers with the primary's.
 *
 * CORRUPTION
 *	Every value read from a page is checked before it is used as a size, a
 *	divisor, an index or a block number (the guards of ivfpqpage.c and
 *	ivfpqmeta.c), and a bad one raises ERRCODE_INDEX_CORRUPTED naming the
 *	index and the block:
 *	 C1. Every page read has our special space, IVFPQ_PAGE_ID in its last
 *	     two bytes (distinct from HNSW's: src/common/page.h) and the kind
 *	     the reader expects (IvfpqCheckPage).
 *	 C2. The meta page (every read): magic and version, then I1 (dims,
 *	     which must be the indexed column's typmod, metric, which must be
 *	     the operator class's, nbits, m, the block
 *	     layout, the list count) and I2 (the parts in order within the
 *	     relation).
 *	 C3. Directory entries and list links are InvalidBlockNumber or blocks
 *	     at or past data_start within the relation (IvfpqCheckListBlock;
 *	     the relation's size is refreshed before failing, since inserts
 *	     extend it concurrently).
 *	 C4. A list page holds at most a page of entries (I6).
 *	 C5. A walk down a chain stops with the error once it has visited more
 *	     pages than the index has: the chain cycles (I5).
 *	 C6. A heap TID the scan re-ranks or hands out is one the table can
 *	     hold (offset 1..MaxHeapTuplesPerPage, block within the table:
 *	     VxCheckHeapTid, vxindex.h).  vectorx_ivfpq_check reads no table:
 *	     it reports offset 0 (I6) but not a block past the table's end.
 *	An index of another format version fails C2 with "not an IVF-PQ index
 *	of this format" and the hint to REINDEX.
 *	vectorx_ivfpq_check raises the error for the meta page (C2), without
 *	which nothing can be read, and reports the rest (C1, C3-C5 and the
 *	invariants) as problems, leaving a chain where it fails.
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

#include "indexkind.h"
#include "inspect.h"
#include "page.h"
#include "scan.h"
#include "vector.h"
#include "vxcodec.h"
#include "vxindex.h"
#include "waitpoint.h"
#include "wal.h"

#define IVFPQ_MAGIC			0x51505649	/* "IVPQ" */
#define IVFPQ_VERSION		3	/* 2: a page id of its own; 3: in the last two
								 * bytes of the page */
#define IVFPQ_PAGE_ID		VX_PAGE_ID_IVFPQ	/* page.h: distinct from HNSW's */
#define IVFPQ_META_BLKNO	VX_META_BLKNO

#define IVFPQ_MAX_LISTS		65536
#define IVFPQ_NBITS_FLAT	0	/* meta nbits of an IVFFlat index */
#define IVFFLAT_MAX_DIM		8000	/* an entry fits a page (IVFFLAT) */
#define IVFFLAT_MAX_BITS	64000	/* bit columns: pgvector's limit, and fits */
#define IVFFLAT_DEFAULT_PROBES 1	/* pgvector's */
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
	uint16		count;			/* list pages: entries (I6) */
	uint8		kind;			/* IVFPQ_META, ... */
	uint8		unused;			/* 0 */
	uint32		inserted;		/* list pages: entries added after the build */
	float4		inserted_error; /* their summed squared quantization error */
	uint32		unused2;		/* 0 */
	uint16		unused3;		/* 0 */
	uint16		page_id;		/* IVFPQ_PAGE_ID, the page's last two bytes;
								 * checked on every read (C1) */
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
	uint32		magic;			/* IVFPQ_MAGIC */
	uint32		version;		/* IVFPQ_VERSION */
	uint16		dims;			/* 1..VECTOR_MAX_DIM */
	uint8		metric;			/* VxMetric: L2, IP or COSINE */
	uint8		nbits;			/* 8 or 4 */
	uint16		m;				/* sub-quantizers */
	uint16		block;			/* entries per block: 64 or 32 */
	uint32		lists;			/* 1 when untrained */
	uint32		block_bytes;	/* codes and TIDs of one block */
	uint16		blocks_per_page;	/* IVFPQ_DATA_SIZE / block_bytes */
	uint16		trained;		/* 0: built empty, entries carry TIDs only */
	BlockNumber centroid_start; /* first page of each part (I2); */
	BlockNumber codebook_start; /* these two are 0 when untrained */
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
	bool		flat;			/* IVFFlat: entries hold codec codes */
	VxCodec		codec;			/* IVFFlat: the codes' format (vxcodec.h) */
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
extern int	ivfflat_probes;
extern int	ivfflat_iterative_scan;
extern int	ivfflat_max_probes;

/* ivfpqam.c */
extern void IvfpqInitGucs(void);
extern Datum ivfpqhandler(PG_FUNCTION_ARGS);
extern Datum ivfflathandler(PG_FUNCTION_ARGS);

/* ivfpqmeta.c: the meta page and the shape */
extern bool IvfpqIsFlatIndex(Relation index);
extern void IvfpqSubspaces(int dims, int m, int *dsub, int *doff);
extern Size IvfpqFlatPages(Size bytes);
extern void IvfpqReadMeta(Relation index, IvfpqMetaPageData *meta);
extern const IvfpqShape *IvfpqGetShape(Relation index);
extern void IvfpqShapeDerive(IvfpqShape *shape);

/* ivfpqpage.c: page layouts and guards */
extern int	IvfpqCodeBytes(int m, int nbits, int vec_bytes);
extern int	IvfpqBlockBytes(int m, int nbits, int vec_bytes);
extern int	IvfpqFlatBytes(int dims, int metric);
extern int	IvfpqEntryCodeLen(const IvfpqMetaPageData *meta);
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
extern bool IvfpqListBlockValid(Relation index, const IvfpqMetaPageData *meta, BlockNumber blkno,
								BlockNumber *nblocks);
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
extern float IvfpqEncodeFlat(const IvfpqShape *shape, const float *x, uint8 *code);
extern const float *IvfpqRoutingVector(const VxCodec *codec, const float *vec, float *scratch);
extern void IvfpqResidual(const IvfpqShape *shape, const float *x, int list, float *out);
extern void IvfpqLutL2(const IvfpqShape *shape, const float *residual, float *lut);
extern void IvfpqLutIP(const IvfpqShape *shape, const float *query, float *lut);

/* ivfpqbuild.c */
extern IndexBuildResult *ivfpqbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern IndexBuildResult *ivfflatbuild(Relation heap, Relation index, IndexInfo *indexInfo);
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
extern VxScanControl *IvfpqScanControl(IndexScanDesc scan);

/* ivfpqam.c: what the layers above see of these access methods (indexkind.h) */
extern const VxIndexKind ivfpq_index_kind;
extern const VxIndexKind ivfflat_index_kind;

/* ivfpqutil.c: the rows of vectorx_index_stats */
extern void IvfpqIndexStats(Relation index, VxStatsSink *sink);

/* ivfpqvacuum.c */
extern IndexBulkDeleteResult *ivfpqbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
											  IndexBulkDeleteCallback callback, void *callback_state);
extern IndexBulkDeleteResult *ivfpqvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

#endif

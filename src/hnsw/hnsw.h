/*-------------------------------------------------------------------------
 *
 * hnsw.h
 *	  The HNSW index access method: design, on-disk format, locking, WAL,
 *	  and the declarations shared by the files of src/hnsw.
 *
 * ALGORITHM
 *	Hierarchical Navigable Small World graphs, Malkov & Yashunin 2016
 *	(arXiv:1603.09320): Algorithm 1 (INSERT), 2 (SEARCH-LAYER), 4 (SELECT-
 *	NEIGHBORS-HEURISTIC), 5 (K-NN-SEARCH).  Level-0 lists hold up to 2*m
 *	neighbours, upper levels m; levels are drawn with mL = 1/ln(m) and capped
 *	at HNSW_MAX_LEVEL.  Deviations, each with its reason:
 *	 - Scans stream: when the executor asks for more rows than ef_search
 *	   (a WHERE clause rejected some), the search resumes from the candidates
 *	   it set aside instead of ending.  Rows found are pooled and handed out
 *	   by lower bound once the search's frontier lies beyond them, so the
 *	   executor's re-check returns them in exact order; a row found after a
 *	   farther one was returned is skipped (hnsw.iterative_scan =
 *	   strict_order, the default; relaxed_order returns it, off ends after
 *	   the first round: hnswscan.c).  hnsw.max_scan_tuples bounds the
 *	   elements visited, and hnsw.scan_mem_multiplier the search's memory
 *	   (times work_mem, as pgvector's).  Settings are read once per scan.
 *	 - A search can carry a filter (HnswFilter): rejected elements are still
 *	   traversed but never returned, and the beam widens while few pass (the
 *	   ACORN idea), so selective filters do not strand the search.
 *	 - Deleted elements are repaired locally by vacuum: each live element
 *	   that pointed at a deleted one re-selects its neighbours (heuristic)
 *	   from its own live neighbours plus the deleted ones' live neighbours
 *	   (FreshDiskANN's consolidation), then the space is reused.
 *	 - Algorithm 4 runs with keepPrunedConnections: lists are filled to 2m
 *	   (m above level 0) with the nearest candidates the heuristic passed
 *	   over (as pgvector and hnswlib).  Under the inner product the
 *	   heuristic alone keeps one or two neighbours per element.
 *	 - An insert's back-link into a full list pushes one entry out; where
 *	   the pruning keeps dropping the same elements (under the inner
 *	   product those of small norm, among near-duplicates the same few),
 *	   that was an element's last in-link, and it fell out of every search
 *	   until VACUUM.  So after its level-0 back-links an insert looks, for
 *	   each entry pushed out, for an in-link from an element its own
 *	   search reached from the entry point (in the lists of the entry's
 *	   neighbours): elements cut off together link each other, so only
 *	   such a link shows the entry is still reachable.  It links those it
 *	   finds none for from the new element, over that list's farthest
 *	   entry that a reached element links to (HnswRelinkEvicted;
 *	   hnsw.insert_relink off skips it, for measuring: bench/run
 *	   insert-reach).  Fashion-MNIST, 10000 elements built then 10000
 *	   inserted: 71 cut off in L2 and 14,432 (of 20000) under the inner
 *	   product without it, 0 and 0 with it, at insert rates 1.03 and 0.94
 *	   of those without (medians of 3 pairs) and recall@10 at ef_search 40
 *	   0.9987 and 0.930 (0.887 without).
 *	 - A scan seeds level 0 with the entry point as well as the element the
 *	   descent ended at: I6 promises reachability from the entry point, so
 *	   a scan the executor drains returns every row.  Where I6 is broken
 *	   until VACUUM (below), a scan that runs out of graph walks the
 *	   element stream once for the live elements it did not reach (within
 *	   hnsw.max_scan_tuples; hnswscan.c, Sweep).
 *	 - Duplicates (distance 0) share one element holding up to
 *	   HNSW_HEAPTIDS heap TIDs; inserts look for the twin among the nearest
 *	   few results, not only the first (quantization error can put another
 *	   element first).
 *	 - Cosine: vectors are normalised once when stored and the query once
 *	   per scan; the graph then uses the negative inner product.  Zero
 *	   vectors have no direction: they are not indexed (as pgvector).
 *	 - A query with no direction (NULL, whose distances are all NULL, or a
 *	   zero query under cosine, whose distances are all NaN) ties every
 *	   row: the scan walks the stream and returns every row the index
 *	   holds, with no ORDER BY value to recheck (pgvector returns the
 *	   ef_search that its search happens to keep).
 *
 * STORAGE: AN ELEMENT STREAM OVER PAGES
 *	Block 0 is the meta page.  Blocks 1.. hold one logical byte stream,
 *	HNSW_DATA_SIZE bytes per page (the page minus its header and special
 *	space), so stream offset o lives in block 1 + o / HNSW_DATA_SIZE at
 *	o % HNSW_DATA_SIZE.  Records are 16-byte aligned and named by their
 *	offset / 16: an element's id.  A uint32 id addresses 64 GiB.
 *
 *	A record's head (header and neighbour lists) never crosses a page
 *	boundary: when the rest of the page is too short, a PAD record fills it
 *	(or, under 16 bytes, nothing does) and the record starts on the next
 *	page.  An element's codes (VECTORS) follow its head and may cross any
 *	number of pages; distances are sums over dimensions, so codes are
 *	compared piece by piece, page by page, without being copied.  This is
 *	what lets 784-dimension elements (960 bytes) pack pages without waste,
 *	and vectors of up to VECTOR_MAX_DIM (16000) dimensions be indexed at
 *	all.
 *
 *	Record kinds (first byte):
 *	  0 UNUSED   never written (allocated by an insert that did not finish)
 *	  1 ELEMENT  a vector with heap TIDs and its level-0 neighbour list
 *	  2 UPPER    neighbour lists of levels 1..L of one element
 *	  3 PAD      filler to the end of a page
 *
 *	ELEMENT record, HnswElementData (32 bytes), the level-0 list, the
 *	vector's quantization parameters, then the vector's codes:
 *	  off size field
 *	  0   1    kind = 1
 *	  1   1    level: 0..HNSW_MAX_LEVEL
 *	  2   1    flags: HNSW_DELETED (no live heap TID; awaiting repair),
 *	           HNSW_FREE (repaired around; space on a free list),
 *	           HNSW_RESERVED (allocated by an insert, not yet published)
 *	  3   1    ntids: live heap TIDs, 1..HNSW_HEAPTIDS (0 if DELETED/FREE)
 *	  4   4    upper: id of the UPPER record (level > 0), else INVALID;
 *	           on a free list: the next free element; RESERVED: the xid
 *	           of the transaction that reserved it
 *	  8   18   heaptids[HNSW_HEAPTIDS]: ItemPointerData
 *	  26  2    unused, 0
 *	  28  4    lock: a spinlock word while the build arena is shared by
 *	           parallel workers; always 0 on disk
 *	  32  8m   level-0 neighbours: uint32 ids, unused slots HNSW_INVALID_ID
 *	  ... pad so that the head ends 16-byte aligned right after:
 *	  H-16 16  VxQuant: lo, step, norm2, err (float4 each, see VECTORS)
 *	  H   code_bytes codes (vxcodec.h: a uint8 per dimension, or a bit
 *	      column's bits); then pad to 16
 *	The head is H = HnswElementHeadSize(m) bytes, the whole record
 *	HnswElementSize(m, code_bytes): the same for every element of an index.
 *	The quantization parameters end the head so that they share a cache
 *	line with the first codes: a distance touches the head's last line and
 *	the codes, never the neighbour list.
 *
 *	UPPER record, HnswUpperData (16 bytes) then level lists:
 *	  0   1    kind = 2
 *	  1   1    nlevels L (1..HNSW_MAX_LEVEL)
 *	  2   2    unused
 *	  4   4    owner: id of the element; on a free list: next free record
 *	  8   4    xid: the transaction that allocated it (W2); invalid on a
 *	           free list and in records the build wrote
 *	  12  4    unused
 *	  16  4m*L level l's list at 16 + 4m(l-1), m uint32 ids each
 *
 *	PAD record, HnswPadData (4 bytes):
 *	  0   1    kind = 3
 *	  1   1    unused
 *	  2   2    bytes: from the record to the end of the page's data area
 *
 *	Every page (the rules of src/common/page.h): a standard page, the
 *	data area from offset HNSW_DATA_OFFSET for HNSW_DATA_SIZE bytes (24
 *	and 8160 with 8 kB pages), then the special space,
 *	HnswPageOpaqueData (8 bytes):
 *	  0   2    flags: unused, 0
 *	  2   4    unused1, unused2: 0
 *	  6   2    page_id = HNSW_PAGE_ID (0xFF91), the page's last two bytes
 *	On data pages pd_lower = HNSW_DATA_OFFSET + bytes of stream on the
 *	page: the unused tail of the last page is the "hole" that generic WAL
 *	neither logs nor keeps (src/common/wal.h).
 *
 *	Meta page (block 0), HnswMetaPageData (128 bytes) at the data area,
 *	all of it below pd_lower:
 *	  0   4    magic = HNSW_MAGIC
 *	  4   4    version = HNSW_VERSION
 *	  8   4    dims: 1..VECTOR_MAX_DIM (bit columns: their length,
 *	           1..HNSW_MAX_BITS; sparsevec: 1..SPARSEVEC_MAX_DIM)
 *	  12  2    m: HNSW_MIN_M..HNSW_MAX_M
 *	  14  2    ef_construction: HNSW_MIN_..HNSW_MAX_EF_CONSTRUCTION
 *	  16  1    metric: VxMetric, the operator class's
 *	  17  3    unused, 0
 *	  20  4    entry_point: element id, or HNSW_INVALID_ID when empty (I5)
 *	  24  4    entry_level: its level, -1 when empty
 *	  28  4    nnz: sparsevec columns, the elements a vector keeps
 *	           (1..SPARSEVEC_MAX_NNZ, the option nnz); other columns 0
 *	  32  8    stream_end: bytes of stream allocated (I1, I2)
 *	  40  4    free_elements: head of the free ELEMENT list
 *	  44  68   free_upper[0..HNSW_MAX_LEVEL]: heads of the free UPPER lists
 *	           by L (index 0 unused)
 *	  112 8    allocations: records allocated since the build (VACUUM)
 *	  120 8    reconnected_at: allocations when the last reconnect began
 *	dims to metric, and nnz, are the options, frozen at build and cached in
 *	rd_amcache (HnswGetShape).  Static assertions after the structs below
 *	hold these tables to the code.
 *
 * VECTORS: 8-BIT SCALAR QUANTIZATION, EXACT ORDER FROM THE HEAP
 *	An element stores its vector as src/common/vxcodec.h codes: one byte
 *	per dimension with one lo and step per vector (VxQuant, 16 bytes, at
 *	the end of the head), or a bit column's own bits.  A quarter of
 *	float4's bytes: the graph of 60000 x 784 Fashion-MNIST takes 57 MB
 *	instead of 190 MB, and a distance reads 13 cache lines instead of 49.
 *	The graph (build, inserts, vacuum, scans) works on the decoded x^;
 *	element-to-element distances (the neighbour heuristic) use
 *	VxPairDistance.  No training: the parameters are per vector, so an
 *	index built on an empty table and every later insert quantize the
 *	same way.
 *	Exact order: a scan returns, with each heap TID, VxLowerBound's lower
 *	bound of the SQL distance and sets xs_recheckorderby.  The executor's
 *	Index Scan then computes the exact distance from the heap row it
 *	fetches anyway and reorders through its queue (as for GiST's lossy
 *	distances), so results are in exact order and carry exact distances;
 *	it fetches only the few rows whose bound lies below the k-th exact
 *	distance.  Rows holding identical codes share an element; its err is
 *	the largest of theirs.
 *	Quantization noise: the graph ranks by estimates that err by up to
 *	about err (|q| err for the inner products) either way.  On dense
 *	low-dimensional data the nearest rows' distances can lie closer
 *	together than that: 10000 3-d vectors under cosine (unit vectors, err
 *	about 2e-3) have their 20 nearest within about 5e-4 of each other, and
 *	a beam of ef_search 40 then selects and stops on noise (recall@20 0.96
 *	to 0.99 where float HNSW finds all).  Neither re-check nor strict order
 *	can return rows the search never reached.  So a scan's first round
 *	compares the span of its ef results' estimates with twice the largest
 *	estimate-to-bound gap it saw (the noise in SQL-distance units); when
 *	the noise is larger, it searches again with ef widened by their ratio,
 *	at most HNSW_SCAN_MAX_WIDEN times (hnswscan.c, WidenFactor).  High-
 *	dimensional data (Fashion-MNIST, 32-d Gaussian) spans many times its
 *	noise and never widens; the format is unchanged.
 *	Bit columns (bit_hamming_ops, bit_jaccard_ops): the codes are the
 *	value's own bits (vxcodec.h), up to HNSW_MAX_BITS; distances are exact,
 *	so nothing above about noise applies, and a Hamming distance, an
 *	integer, needs no re-check (the executor then reads no column value of
 *	the row).  A piece of an element split over pages adds its part of a
 *	distance as for 8-bit codes.  A 1536-bit element takes 192 code bytes.
 *	sparsevec columns (sparsevec_l2_ops, _ip_ops, _cosine_ops, _l1_ops):
 *	an element keeps up to the meta page's nnz non-zero elements, indices
 *	and 8-bit codes (vxcodec.h, SPARSE CODES), so code_bytes is the same
 *	for every element as the stream needs.  The option nnz sets it; without
 *	it the build reads the rows once more for their most non-zeros
 *	(hnswbuild.c, SparseCapacity).  A vector with more is cut to its
 *	largest elements and counted into err: approximate in the graph, exact
 *	after the executor's re-check.  Codes split over pages are gathered
 *	before a distance (a merge has no per-piece part).
 *
 * LOCKING
 *	Page content locks only, one page at a time, except where noted; no
 *	lock is held while computing distances over more than one page.
 *	 L1. Meta page: shared to read the entry point at scan/insert start;
 *	     exclusive to allocate stream space, pop or push free lists, or
 *	     change the entry point.  Taken first, before any data page.  An
 *	     allocation that grows the stream extends the relation while it
 *	     holds the meta page (the relation extension lock, then the new
 *	     page's lock: src/common/page.h); the meta page serialises
 *	     extenders, and a new page lies past the stream end until the
 *	     meta-page record that follows it, so no reader reaches it early.
 *	 L2. A record's head: shared to read header or lists, exclusive to
 *	     change them.  Lists are copied out under the lock.
 *	 L3. Vector bytes are written once, before the element is published
 *	     (its kind set to ELEMENT) and before any list points to it, and are
 *	     immutable while the element lives; they are read under a shared
 *	     lock of each page they occupy, one page at a time.
 *	 L4. Data pages locked together are locked in block order: the pages
 *	     of one record written together (they are consecutive), a scan
 *	     result's head page and the pages its codes continue on (read
 *	     together so that distance and heap TIDs match, HnswReadResult),
 *	     and vacuum's element and UPPER record freed in one WAL record.
 *	 L5. An insert that must prune a neighbour's full list (or vacuum
 *	     repairing one) reads the list (shared), computes the new list with
 *	     no lock held, then takes the page exclusive and applies it only if
 *	     the list did not change meanwhile (else it recomputes, at most three
 *	     times; hnswneighbors.c, HnswPageListsInit says why).
 *	 L6. Inserts and VACUUM: an insert holds the index's insert lock in
 *	     share mode from reading the entry point to its last back-link (a
 *	     heavyweight lock on the index as an object: class pg_class,
 *	     objsubid 1 in pg_locks; HnswBeginInsert).  A VACUUM whose V1
 *	     flagged elements DELETED takes it exclusively and drops it at
 *	     once (HnswWaitForInserts): an insert that read one of them live
 *	     and chose it as a neighbour has then written its lists, where V2
 *	     finds and repairs them (V2 reads the stream's end anew), and every
 *	     later insert reads the flags and chooses live elements only
 *	     (SelectLiveNeighbors).  Without it an insert could publish a list
 *	     naming an element V3 had freed (I3; the isolation spec
 *	     test/isolation/specs/hnsw_insert_vacuum.spec).  VACUUM holds no
 *	     buffer lock while it waits, and an insert waits for no
 *	     heavyweight lock but the relation extension lock while it holds
 *	     this one, so it adds no deadlock.
 *	Vacuum's TID removal needs no interlock with scans: the heap only
 *	reuses a TID whose old tuple was invisible to every running snapshot,
 *	so an MVCC scan holding an old TID finds either nothing or a tuple its
 *	snapshot cannot see.  (The index is not used for catalog scans.)  A
 *	scan may meet an element vacuum freed and an insert reused: it then
 *	reads that slot's current vector and TIDs, consistent with each other,
 *	so it may return a row slightly out of distance order, never a wrong
 *	row-distance pair.
 *
 * WAL
 *	Inserts, vacuum and list changes use generic WAL through the wrapper
 *	both AMs share (src/common/wal.h: one record, at most 4 pages, replays
 *	whole or not at all; bytes in a page's hole are not kept).
 *	 W1. Allocation: meta (stream end or free-list head) plus, for a reused
 *	     record, its head page marked reserved; new pages are logged whole.
 *	     PostgreSQL writes a new block to the file when it extends the
 *	     relation, before that page's record, so a crash between the two
 *	     leaves an all-zero block past the stream end; the stream's next
 *	     growth initialises every block that exists past its last page
 *	     before writing there (GrowStream), and every writer checks that
 *	     the page it writes is ours (C1).
 *	 W2. Writing an element: its vector pages, then the head page with the
 *	     header that publishes it (last record).  A crash (or an error)
 *	     before W2's last record leaves a RESERVED element, or an UPPER
 *	     record no element owns, that nothing points to.  Both carry the
 *	     xid of the transaction that allocated them; once it is no longer
 *	     running, VACUUM puts them on the free lists (V4) and, until then,
 *	     vectorx_hnsw_check reports such elements (I7).
 *	 W3. Each back-link is one record on one page, and so is each relink
 *	     of an entry they pushed out (a change of the new element's list):
 *	     the graph is valid after every record; a crash between them leaves
 *	     an element with fewer in-links (still reachable, or, if none
 *	     landed, unreachable until vacuum repairs around it).  A committed
 *	     insert's WAL precedes its commit record, so committed rows are
 *	     never lost.
 *	 W4. Entry point changes are one meta-page record.
 *	The build writes no per-tuple WAL: pages are written through smgr and
 *	logged in bulk with log_newpages, then synced (as nbtree's sorted
 *	build); the INIT fork of an unlogged index gets a logged meta page
 *	(VxWriteInitFork).
 *	 W5. Tuples that did not fit the build's memory are inserted on disk
 *	     by the same code as aminsert, but the wrapper then changes pages
 *	     in place without WAL (VxBeginBuildWrites), and the build logs
 *	     every page of the index once at its end (VxEndBuildWrites,
 *	     log_newpage_range).  Nobody else can see the index before the
 *	     build commits, and a crash before then drops it.
 *
 * VACUUM (hnswvacuum.c)
 *	V1 (ambulkdelete, pass 1): every ELEMENT loses its dead heap TIDs; one
 *	   with none left is flagged DELETED (it still routes searches).
 *	V2 (pass 2): each live element whose lists name a DELETED one gets new
 *	   lists (see ALGORITHM); a DELETED entry point is replaced by the live
 *	   element of highest level.
 *	   Then every live element that a level-0 walk from the entry point
 *	   cannot reach is linked ("reconnect", V2b; pruning during inserts can
 *	   cut an old element off): into a free slot of a reachable neighbour,
 *	   else as the next link of a chain hung off the first one linked (the
 *	   chain's lists served no search before, and lose only entries that
 *	   stay reachable), else over the most redundant entry of its nearest
 *	   reachable element; rounds repeat while some are missing
 *	   (HnswReconnect in hnswreconnect.c).  The walk sweeps a bitmap over the
 *	   id space in stream order (HnswIdSet).  Memory: three bitmaps of one
 *	   bit per 16 bytes of stream, 3/128 of the index's size (about 7 bytes
 *	   per element at m = 16 and 128 dimensions; 1.5 GiB at the 64 GiB
 *	   cap), plus 8 bytes per element found cut off; huge allocations, so
 *	   no index is too large (hash sets of ids failed at MaxAllocSize from
 *	   about 67M elements).  It is not counted against
 *	   maintenance_work_mem: the pass is what keeps I6, so it cannot be
 *	   refused, and splitting the id space would re-read the index once
 *	   per chunk; at 2.3% of the index it stays well below the index's own
 *	   cache footprint.  It runs vacuum_delay_point() (interrupts, cost
 *	   delay) every 64 lists read, before each element it links, and
 *	   between the pages of its stream walks (HnswStreamCursor), so VACUUM's
 *	   statement_timeout, pg_cancel_backend and vacuum_cost_delay all
 *	   reach it.
 *	V3 (pass 3): DELETED elements become FREE and go on the free lists with
 *	   their UPPER records; inserts of the same level reuse them.
 *	V4 (pass 4): RESERVED elements and unowned UPPER records whose
 *	   allocating transaction is no longer running (a crash or an error
 *	   stopped the insert, W2) go on the free lists, each checked again
 *	   under the locks that free it.  V4 runs in every ambulkdelete and
 *	   with amvacuumcleanup's reconnect pass.
 *	When the reconnect pass runs (meta page counters: allocations counts
 *	records allocated, elements and UPPER records, new or reused;
 *	reconnected_at is its value when the last pass started):
 *	 - ambulkdelete, when V1 flagged elements DELETED: always (V2b).
 *	 - amvacuumcleanup, when records were allocated since the last pass:
 *	   always in a VACUUM someone ran; in autovacuum only once those
 *	   records reach a tenth of the table's rows (num_heap_tuples), so an
 *	   insert-only table gets it from autovacuum too, without a full pass
 *	   of the index after every few inserts.
 *	 - never for ANALYZE alone (analyze_only).
 *	A cancelled pass leaves reconnected_at unchanged: the next VACUUM runs
 *	it again.  vectorx_index_stats reports allocations - reconnected_at as
 *	records_since_reconnect.  amvacuumcleanup also reports pages and live
 *	heap TIDs.
 *
 * HOT STANDBY
 *	Standbys replay the generic WAL records (W1-W4), the build's page
 *	images and the INIT fork's with no HNSW code: generic WAL's redo holds
 *	all of a record's pages locked while it applies them, and a standby's
 *	scan takes the same shared locks as a primary's (L1-L4), so it sees
 *	every record whole or not at all.  Records replay in their order, so
 *	W2 holds on the standby too: an element becomes visible (its head
 *	published) only after its codes are in place, and nothing links to it
 *	before.  What a crash of the primary leaves (W2, W3) reaches the
 *	standby as it is: nothing links to its RESERVED elements and unowned
 *	UPPER records, so scans never meet them (and would not return a
 *	RESERVED element, HnswReadResult), and the primary's next VACUUM (V4),
 *	replayed, frees them.  The records carry no conflict horizon: removing heap TIDs from
 *	elements cannot cancel standby queries, because the heap records that
 *	made those rows dead already resolved conflicts with the snapshots
 *	that could see them (as for nbtree's vacuum records).  A standby
 *	backend's buffer hints are only guesses that ReadRecentBuffer checks;
 *	its cached shape (rd_amcache) follows REINDEX and TRUNCATE through the
 *	relcache invalidations replayed with their commit records.  An
 *	unlogged index cannot be read during recovery.  test/t/002 and 003
 *	replay builds, inserts and vacuums on a standby, with
 *	wal_consistency_checking, and compare its answers with the primary's.
 *
 * CORRUPTION
 *	Every value read from a page is checked before it is used as a size, an
 *	offset, an index or a block number (the guards of hnswpage.c and
 *	hnswmeta.c), and a bad one raises ERRCODE_INDEX_CORRUPTED naming the
 *	index and the block:
 *	 C1. Every page read has our special space and HNSW_PAGE_ID in its last
 *	     two bytes (HnswCheckPage, src/common/page.h), so an IVF-PQ or
 *	     zeroed page is never taken for ours.
 *	 C2. The meta page (every read): magic, version, dims, m and
 *	     ef_construction within their limits, dims the indexed column's
 *	     typmod, the metric the operator class's, the stream within the
 *	     relation, the entry point (with a level in -1..HNSW_MAX_LEVEL)
 *	     and the free-list heads within the stream.
 *	 C3. A block an id names lies within the relation (HnswCheckBlock; the
 *	     page graph caches the size and refreshes it before failing).
 *	 C4. A record's head fits its page: an ELEMENT's HnswElementHeadSize
 *	     (level <= HNSW_MAX_LEVEL, ntids <= HNSW_HEAPTIDS), an UPPER
 *	     record's lists (1..HNSW_MAX_LEVEL levels); walkers treat a record
 *	     that fails as "no valid record" (HnswRecordSize).
 *	 C5. A heap TID a scan hands out is one the table can hold (offset
 *	     1..MaxHeapTuplesPerPage, block within the table: VxCheckHeapTid,
 *	     vxindex.h); a TID changed into another row's cannot be told from
 *	     the index, and the executor's re-check then reports it.
 *	vectorx_hnsw_check reports record-level damage it can walk past as
 *	problems, and raises the error for C1-C3; it reads no table, so C5 is
 *	the scans' alone.
 *
 * INVARIANTS (checked by vectorx_hnsw_check)
 *	I1. The meta page has the magic and version; stream end <= pages.
 *	I2. Walking the stream from offset 0 meets only whole records (the PAD
 *	    rule above) and ends at stream end.
 *	I3. Every list entry is HNSW_INVALID_ID or the id of an ELEMENT (live,
 *	    DELETED, or FREE only transiently), never of a PAD/UPPER/UNUSED.
 *	I4. An element of level L > 0 owns an UPPER record of L levels.
 *	I5. The entry point is a live element of the highest level, or INVALID
 *	    exactly when there is no live element; or a DELETED element, which
 *	    still routes searches: a crash between VACUUM's V1 and V2 leaves
 *	    one until the next VACUUM replaces it (seen by test/t/061).
 *	I6. Every live element is reachable at level 0 from the entry point
 *	    (through live or DELETED elements).  Holds after a build and after
 *	    VACUUM, and after inserts as far as their relink finds the
 *	    elements cut off; what it misses (more than 2m at once, no entry
 *	    of the new list that may give way, an element the search reached
 *	    only through a link the insert then pushed out, a list changed
 *	    three times under it) or a crash between its back-links (W3) can
 *	    break it until the next VACUUM, and the check then fails.
 *	I7. No RESERVED element outlives the transaction that reserved it
 *	    beyond the next VACUUM (V4; V4 also frees unowned UPPER records,
 *	    which the check does not look for).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_HNSW_H
#define VECTORX_HNSW_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/itup.h"
#include "nodes/execnodes.h"
#include "port/atomics.h"
#include "storage/bufmgr.h"
#include "utils/relcache.h"

#include "indexkind.h"
#include "inspect.h"
#include "page.h"
#include "scan.h"
#include "vector.h"
#include "vxcodec.h"
#include "vxidhash.h"
#include "vxindex.h"
#include "waitpoint.h"
#include "wal.h"

/* ---------------------------------------------------------------- limits */

#define HNSW_DEFAULT_M				16
#define HNSW_DEFAULT_NNZ			256	/* option nnz of an index built empty */
#define HNSW_AUTO_MAX_NNZ			1000	/* the most nnz taken from the rows */
#define HNSW_MIN_M					2
#define HNSW_MAX_M					100
#define HNSW_DEFAULT_EF_CONSTRUCTION 64
#define HNSW_MIN_EF_CONSTRUCTION	4
#define HNSW_MAX_EF_CONSTRUCTION	1000
/* the longest bit column indexed: as many code bytes as VECTOR_MAX_DIM */
#define HNSW_MAX_BITS				(8 * VECTOR_MAX_DIM)
#define HNSW_DEFAULT_EF_SEARCH		40
#define HNSW_MIN_EF_SEARCH			1
#define HNSW_MAX_EF_SEARCH			1000
/* most a scan widens its first round against quantization noise (VECTORS) */
#define HNSW_SCAN_MAX_WIDEN			4
#define HNSW_DEFAULT_MAX_SCAN_TUPLES 20000
#define HNSW_MAX_LEVEL				16
#define HNSW_HEAPTIDS				3

#define HNSW_MAGIC					0x56584E48	/* "HNXV" */
#define HNSW_VERSION				2	/* 2: 8-bit codes */
#define HNSW_PAGE_ID				VX_PAGE_ID_HNSW /* page.h: distinct from IVF-PQ's */
#define HNSW_META_BLKNO				VX_META_BLKNO
#define HNSW_FIRST_DATA_BLKNO		1
#define HNSW_INVALID_ID				PG_UINT32_MAX

/* ---------------------------------------------------------------- pages */

typedef struct HnswPageOpaqueData
{
	uint16		flags;			/* unused, 0 */
	uint16		unused1;
	uint16		unused2;
	uint16		page_id;		/* HNSW_PAGE_ID, for pg_filedump & co; checked on
								 * every read (CORRUPTION) */
} HnswPageOpaqueData;

VX_STATIC_ASSERT_SPECIAL(HnswPageOpaqueData);
StaticAssertDecl(sizeof(HnswPageOpaqueData) == 8, "hnsw.h: the special space's table");

#define HNSW_DATA_OFFSET	MAXALIGN(SizeOfPageHeaderData)
#define HNSW_DATA_SIZE		(BLCKSZ - HNSW_DATA_OFFSET - MAXALIGN(sizeof(HnswPageOpaqueData)))
#define HNSW_UNIT			16	/* record alignment; id = offset / 16 */

typedef struct HnswMetaPageData
{
	uint32		magic;			/* HNSW_MAGIC */
	uint32		version;		/* HNSW_VERSION */
	uint32		dims;			/* vector dimensions, 1..VECTOR_MAX_DIM */
	uint16		m;				/* reloption m */
	uint16		ef_construction;	/* reloption ef_construction */
	uint8		metric;			/* VxMetric (vxindex.h) */
	uint8		unused[3];
	uint32		entry_point;	/* element id or HNSW_INVALID_ID (I5) */
	int32		entry_level;	/* its level, -1 when empty */
	uint32		nnz;			/* sparsevec: elements kept per vector; else 0 */
	uint64		stream_end;		/* bytes of stream allocated (I1, I2) */
	uint32		free_elements;	/* head of the free ELEMENT list */
	uint32		free_upper[HNSW_MAX_LEVEL + 1]; /* heads of free UPPER lists by L */
	uint64		allocations;	/* records allocated since the build */
	uint64		reconnected_at; /* allocations at the last reconnect */
} HnswMetaPageData;

typedef HnswMetaPageData *HnswMetaPage;

#define HnswPageGetMeta(page)	((HnswMetaPage) PageGetContents(page))

/* the meta page's table */
StaticAssertDecl(offsetof(HnswMetaPageData, version) == 4 &&
				 offsetof(HnswMetaPageData, dims) == 8 &&
				 offsetof(HnswMetaPageData, m) == 12 &&
				 offsetof(HnswMetaPageData, ef_construction) == 14 &&
				 offsetof(HnswMetaPageData, metric) == 16 &&
				 offsetof(HnswMetaPageData, entry_point) == 20 &&
				 offsetof(HnswMetaPageData, entry_level) == 24 &&
				 offsetof(HnswMetaPageData, nnz) == 28 &&
				 offsetof(HnswMetaPageData, stream_end) == 32 &&
				 offsetof(HnswMetaPageData, free_elements) == 40 &&
				 offsetof(HnswMetaPageData, free_upper) == 44 &&
				 offsetof(HnswMetaPageData, allocations) == 112 &&
				 offsetof(HnswMetaPageData, reconnected_at) == 120 &&
				 sizeof(HnswMetaPageData) == 128,
				 "hnsw.h: the meta page's table");

/* what an HNSW page looks like to the checks of page.h */
static const VxPageFormat HnswPageFormat = {
	"HNSW", HNSW_PAGE_ID, sizeof(HnswPageOpaqueData), HNSW_MAGIC, HNSW_VERSION
};

/* C1: a page of this index (hot: every page read of a search) */
static inline void
HnswCheckPage(Relation index, Buffer buf)
{
	VxCheckPage(index, buf, &HnswPageFormat);
}

/* ---------------------------------------------------------------- records */

#define HNSW_KIND_UNUSED	0
#define HNSW_KIND_ELEMENT	1
#define HNSW_KIND_UPPER		2
#define HNSW_KIND_PAD		3

#define HNSW_DELETED		0x01
#define HNSW_FREE			0x02
#define HNSW_RESERVED		0x04	/* popped off a free list, being rewritten */
#define HNSW_EXCLUDED		0x80	/* never stored: neighbors() reports the element
									 * holds HnswPageGraph.exclude (see hnswgraph.c) */

typedef struct HnswElementData
{
	uint8		kind;			/* HNSW_KIND_ELEMENT */
	uint8		level;			/* 0..HNSW_MAX_LEVEL */
	uint8		flags;			/* HNSW_DELETED, HNSW_FREE, HNSW_RESERVED */
	uint8		ntids;			/* live heap TIDs in heaptids[] */
	uint32		upper;			/* UPPER record id / next free */
	ItemPointerData heaptids[HNSW_HEAPTIDS];
	uint16		unused;
	pg_atomic_uint32 lock;		/* build arena only; 0 on disk */
	uint32		neighbors[FLEXIBLE_ARRAY_MEMBER];	/* 2m level-0 ids */
	/* then VxQuant at the end of the head, then the codes (VECTORS) */
} HnswElementData;

typedef HnswElementData *HnswElement;



typedef struct HnswUpperData
{
	uint8		kind;			/* HNSW_KIND_UPPER */
	uint8		nlevels;		/* L: lists of levels 1..L follow */
	uint16		unused1;
	uint32		owner;			/* element id / next free */
	TransactionId xid;			/* the transaction that allocated it */
	uint32		unused2;
	uint32		neighbors[FLEXIBLE_ARRAY_MEMBER];	/* L lists of m ids */
} HnswUpperData;

typedef HnswUpperData *HnswUpper;

typedef struct HnswPadData
{
	uint8		kind;			/* HNSW_KIND_PAD */
	uint8		unused;
	uint16		bytes;			/* to the end of the page */
} HnswPadData;

/* the record tables (STORAGE) */
StaticAssertDecl(offsetof(HnswElementData, level) == 1 &&
				 offsetof(HnswElementData, flags) == 2 &&
				 offsetof(HnswElementData, ntids) == 3 &&
				 offsetof(HnswElementData, upper) == 4 &&
				 offsetof(HnswElementData, heaptids) == 8 &&
				 sizeof(ItemPointerData) == 6 &&
				 offsetof(HnswElementData, unused) == 26 &&
				 offsetof(HnswElementData, lock) == 28 &&
				 offsetof(HnswElementData, neighbors) == 32 &&
				 sizeof(HnswElementData) == 32,
				 "hnsw.h: the ELEMENT record's table");
StaticAssertDecl(offsetof(HnswUpperData, nlevels) == 1 &&
				 offsetof(HnswUpperData, owner) == 4 &&
				 offsetof(HnswUpperData, xid) == 8 &&
				 offsetof(HnswUpperData, neighbors) == 16 &&
				 sizeof(HnswUpperData) == 16,
				 "hnsw.h: the UPPER record's table");
StaticAssertDecl(offsetof(HnswPadData, bytes) == 2 && sizeof(HnswPadData) == 4,
				 "hnsw.h: the PAD record's table");
/* a PAD fits wherever a record may start; ids are offsets / 16 */
StaticAssertDecl(sizeof(HnswPadData) <= HNSW_UNIT && HNSW_DATA_SIZE % HNSW_UNIT == 0,
				 "hnsw.h: records are 16-byte aligned in the stream");

#define HNSW_ROUND(x)				TYPEALIGN(HNSW_UNIT, (x))
#define HnswElementHeadSize(m)		HNSW_ROUND(offsetof(HnswElementData, neighbors) + sizeof(uint32) * 2 * (m) + sizeof(VxQuant))
#define HnswVectorSize(code_bytes)	HNSW_ROUND(code_bytes)
/* the quantization parameters of the element whose head starts at e */
#define HnswElementQuant(e, head_size)	((VxQuant *) ((char *) (e) + (head_size) - sizeof(VxQuant)))
#define HnswElementSize(m, code_bytes)	(HnswElementHeadSize(m) + HnswVectorSize(code_bytes))
#define HnswUpperSize(m, nlevels)	HNSW_ROUND(offsetof(HnswUpperData, neighbors) + sizeof(uint32) * (m) * (nlevels))
#define HnswIdOffset(id)			((uint64) (id) * HNSW_UNIT)
#define HnswOffsetId(off)			((uint32) ((off) / HNSW_UNIT))
#define HnswOffsetBlock(off)		((BlockNumber) (HNSW_FIRST_DATA_BLKNO + (off) / HNSW_DATA_SIZE))
#define HnswOffsetInPage(off)		((uint32) ((off) % HNSW_DATA_SIZE))
#define HnswPageData(page)			((char *) (page) + HNSW_DATA_OFFSET)
#define HNSW_MAX_STREAM				((uint64) PG_UINT32_MAX * HNSW_UNIT)

/* a new data page (the meta page is one too, with its struct in the data) */
static inline void
HnswInitDataPage(Page page)
{
	VxInitPage(page, &HnswPageFormat);
	Assert(PageGetSpecialPointer(page) == HnswPageData(page) + HNSW_DATA_SIZE);
}

/*
 * Where the next record of head size "head" goes when the stream ends at
 * "off": off itself, or the next page start if the head would cross.
 */
static inline uint64
HnswPlaceRecord(uint64 off, Size head)
{
	uint32		inpage = HnswOffsetInPage(off);

	if (inpage + head > HNSW_DATA_SIZE)
		return off + (HNSW_DATA_SIZE - inpage);
	return off;
}

/* ---------------------------------------------------------------- options */

typedef struct HnswOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int			m;
	int			ef_construction;
	int			nnz;			/* sparsevec only; 0: HNSW_DEFAULT_NNZ */
} HnswOptions;

/* the frozen shape of one index, cached in rd_amcache */
typedef struct HnswShape
{
	VxCodec		codec;			/* dimensions, metric, column type, code bytes
								 * (vxcodec.h) */
	int			m;
	int			ef_construction;
	Size		head_size;		/* HnswElementHeadSize(m) */
	Size		element_size;	/* HnswElementSize(m, code_bytes) */
	double		ml;				/* 1 / ln(m) */
} HnswShape;



extern int	hnsw_ef_search;
extern int	hnsw_max_scan_tuples;
extern int	hnsw_iterative_scan;	/* VxIterativeScan (vxindex.h) */
extern bool hnsw_insert_relink;
extern double hnsw_scan_mem_multiplier;

/* ---------------------------------------------------------------- search */

/* a candidate: internal distance (smaller is closer) and element id */
typedef struct HnswCandidate
{
	float		distance;
	uint32		id;
} HnswCandidate;

/*
 * A filter evaluated inside the traversal: accept() says whether element id
 * may be returned; rejected ones are still traversed.  NULL accepts all.
 */
typedef struct HnswFilter
{
	bool		(*accept) (void *arg, uint32 id);
	void	   *arg;
} HnswFilter;

/*
 * How the search core reads a graph: from pages (scans, inserts, vacuum)
 * or from the build arena.  distance() returns the internal distance of the
 * query set up by the accessor to element id; neighbors() copies the list
 * of id at level and returns its length (0 for anything but a routable
 * element); *flags gets the element's flags when not NULL.
 */
typedef struct HnswGraph HnswGraph;

struct HnswGraph
{
	float		(*distance) (HnswGraph *g, uint32 id);
	int			(*neighbors) (HnswGraph *g, uint32 id, int level, uint32 *out, uint8 *flags);
	/*
	 * optional: start fetching what distance() will read for these ids, the
	 * first "lines" cache lines of each vector (0: all of it; -1: the head
	 * with the neighbour list instead)
	 */
	void		(*prefetch) (HnswGraph *g, const uint32 *ids, int n, int lines);
	const HnswShape *shape;
	uint64		visited_elements;	/* distance() calls so far */
	uint64		max_visits;		/* stop searching past this many (0: no bound) */
};

/*
 * A set of element ids as a bitmap over the id space [0, limit): one bit
 * per 16 bytes of stream, 1/128 of the index's size, allocated huge so that
 * no index is too large for it (hash sets of ids hit MaxAllocSize at about
 * 67M elements).  Ids at or past limit are members when beyond is true:
 * the reconnect pass neither walks through nor reconnects the elements
 * inserted after it started; the check treats them as absent.
 */
typedef struct HnswIdSet
{
	uint64	   *words;
	Size		nwords;
	uint32		limit;
	bool		beyond;
} HnswIdSet;

extern void HnswIdSetInit(HnswIdSet *s, uint32 limit, bool beyond);
extern void HnswIdSetClear(HnswIdSet *s);
extern void HnswIdSetFree(HnswIdSet *s);

static inline bool
HnswIdSetHas(const HnswIdSet *s, uint32 id)
{
	if (id >= s->limit)
		return s->beyond;
	return (s->words[id >> 6] >> (id & 63)) & 1;
}

static inline void
HnswIdSetAdd(HnswIdSet *s, uint32 id)
{
	if (id < s->limit)
		s->words[id >> 6] |= UINT64CONST(1) << (id & 63);
}

/* true if id was already there (or cannot be stored); otherwise adds it */
static inline bool
HnswIdSetTestAndAdd(HnswIdSet *s, uint32 id)
{
	if (HnswIdSetHas(s, id) || id >= s->limit)
		return true;
	HnswIdSetAdd(s, id);
	return false;
}

/* binary heaps of candidates (vxheap.h): HnswNearHeap has the nearest on top */
#define VXH_PREFIX HnswNearHeap
#define VXH_ELEMENT HnswCandidate
#define VXH_ABOVE(a, b) ((a).distance < (b).distance)
#include "vxheap.h"

/* ... and HnswFarHeap the farthest */
#define VXH_PREFIX HnswFarHeap
#define VXH_ELEMENT HnswCandidate
#define VXH_ABOVE(a, b) ((a).distance > (b).distance)
#include "vxheap.h"

extern uint32 HnswGreedyDescend(HnswGraph *g, uint32 ep, float *ep_dist,
								int from_level, int to_level);

/*
 * One layer search (Algorithm 2) with the extensions scans need, described
 * by its fields (HnswSearchLayer, HnswSearchResume).  Elements the filter
 * rejects are expanded but never results.  When leftover is given,
 * unexpanded candidates are pushed there at the end; when discarded is
 * given, accepted elements that did not make the ef best are pushed there:
 * together they let a scan resume.  The ef (or fewer) best results go to
 * out[], nearest first; out may be entries (read before out is written).
 */
typedef struct HnswSearch
{
	HnswGraph  *graph;
	const HnswCandidate *entries;	/* where to start, all already in visited */
	int			nentries;
	int			nexpand;		/* the first nexpand entries are only expanded (a
								 * resumed scan's returned candidates), not results */
	int			ef;				/* the beam: results kept */
	int			level;
	VxIdHash   *visited;		/* the elements seen (vxidhash.h) */
	const HnswFilter *filter;	/* NULL: every element may be a result */
	HnswNearHeap *leftover;		/* NULL, or: gets the unexpanded candidates */
	HnswNearHeap *discarded;	/* NULL, or: gets accepted elements beyond the ef best */
	HnswCandidate *out;			/* ef slots */
} HnswSearch;

/* search from s->entries; returns the number of results in s->out */
extern int	HnswSearchLayer(const HnswSearch *s);

/* continue a level-0 search from s->leftover and s->discarded (no entries) */
extern int	HnswSearchResume(const HnswSearch *s);

/* the distance between two elements (their decoded vectors) */
typedef float (*HnswPairFn) (void *arg, uint32 a, uint32 b);

extern int	HnswSelectNeighbors(const HnswShape *shape, HnswCandidate *cands, int ncands,
								int max, HnswPairFn pair, void *arg, HnswCandidate *out);
extern void HnswSortCandidates(HnswCandidate *c, int n);
extern int	HnswMostRedundant(const HnswShape *shape, const uint32 *ids, int n,
							  HnswPairFn pair, void *arg);
extern int	HnswRandomLevel(const HnswShape *shape, ItemPointer tid);

/* ---------------------------------------------------------------- meta page (hnswmeta.c) */

extern const HnswShape *HnswGetShape(Relation index);
extern int	HnswMaxDims(VxElem elem);
extern void HnswFillShape(HnswShape *shape, int dims, int m, int efc, VxMetric metric, VxElem elem,
						  int nnz);
extern bool HnswPrepareVector(const HnswShape *shape, Datum value, float *out);
extern void HnswCheckMeta(Relation index, Buffer buf);
extern void HnswReadMeta(Relation index, HnswMetaPageData *meta);
extern void HnswInitMetaPage(Page page, const HnswShape *shape);
/* meta-page writes through the WAL wrapper of wal.h */
extern void HnswSetEntryPoint(Relation index, uint32 id, int level, bool only_if_higher);
extern void HnswBeginInsert(Relation index);
extern void HnswEndInsert(Relation index);
extern void HnswWaitForInserts(Relation index);
extern void HnswSetReconnected(Relation index, uint64 allocations);

/* ---------------------------------------------------------------- data pages (hnswpage.c) */

/* guards: raise ERRCODE_INDEX_CORRUPTED naming the block (CORRUPTION) */
/* a corrupt page (CORRUPTION): VxIndexCorrupt, vxindex.h */
#define HnswCorrupt(index, blkno, what) VxIndexCorrupt(index, blkno, what)
extern void HnswCheckBlock(Relation index, BlockNumber blkno, BlockNumber *nblocks);
extern Buffer HnswReadBlock(Relation index, BlockNumber blkno);
extern void HnswCheckRecord(Relation index, BlockNumber blkno, uint32 inpage,
							const HnswShape *shape, const char *rec);

/* allocating and writing records: through the WAL wrapper of wal.h (W1, W2) */
extern uint64 HnswAllocateRecord(Relation index, const HnswShape *shape, bool element,
								 int nlevels, bool *reused);
extern void HnswWriteRecordBytes(Relation index, uint64 off, const char *data, Size len,
								 Size publish_len);
extern TransactionId HnswReservingXid(void);

/* ---------------------------------------------------------------- page graph (hnswpagegraph.c) */

/* the page-backed graph reader used by scans, inserts and vacuum */
typedef struct HnswPageGraph
{
	HnswGraph	graph;
	Relation	index;
	VxQuery	query;			/* what distance() measures from */
	BlockNumber nblocks;		/* the index's size as last seen (HnswCheckBlock) */
	void	   *hints;			/* block -> buffer guesses for ReadRecentBuffer */
	ItemPointerData exclude;	/* vectorx_recall's leave-one-out row, or invalid */
} HnswPageGraph;

/* shape: the caller's copy (see HnswGetShape); query: internal form or NULL */
extern void HnswPageGraphInit(HnswPageGraph *pg, Relation index, const HnswShape *shape,
							  const float *query);
extern Buffer HnswPinBlock(HnswPageGraph *pg, BlockNumber blkno);
extern bool HnswReadElementHead(HnswPageGraph *pg, uint32 id, HnswElementData *out);
extern bool HnswReadResult(HnswPageGraph *pg, uint32 id, HnswElementData *head, VxQuant *quant,
						   float *distance);
extern void HnswReadCodes(Relation index, const HnswShape *shape, uint32 id, VxQuant *quant,
						  uint8 *codes);

/* ---------------------------------------------------------------- AM */

extern IndexBuildResult *hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern void hnswbuildempty(Relation index);
extern bool hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
					   Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
					   IndexInfo *indexInfo);
extern IndexBulkDeleteResult *hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
											 IndexBulkDeleteCallback callback, void *callback_state);
extern IndexBulkDeleteResult *hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);
extern IndexScanDesc hnswbeginscan(Relation index, int nkeys, int norderbys);
extern void hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
extern bool hnswgettuple(IndexScanDesc scan, ScanDirection dir);
extern void hnswendscan(IndexScanDesc scan);
extern VxScanControl *HnswScanControl(IndexScanDesc scan);

/* hnswam.c: what the layers above see of this access method (indexkind.h) */
extern const VxIndexKind hnsw_index_kind;

/* hnswcheck.c: the rows of vectorx_index_stats */
extern void HnswIndexStats(Relation index, VxStatsSink *sink);

/* on-disk insertion of one vector, shared by aminsert and the build overflow */
extern void HnswInsertVector(Relation index, const float *vec, ItemPointer tid);

/* stored vectors read from the index by id, for the heuristic (hnswneighbors.c) */
typedef struct HnswVecCache HnswVecCache;
extern HnswVecCache *HnswVecCacheCreate(Relation index, const HnswShape *shape);
extern float *HnswVecCacheDecode(HnswVecCache *c, uint32 id);
extern float HnswVecCachePair(void *arg, uint32 a, uint32 b);	/* an HnswPairFn */

/* neighbour lists on pages (hnswneighbors.c) */
extern uint64 HnswListOffset(HnswPageGraph *pg, uint32 id, int level);
extern int	HnswReadList(Relation index, uint64 off, int max, uint32 *out);
extern bool HnswWriteList(Relation index, uint64 off, int max, const uint32 *ids, int n,
						  const uint32 *expected, int nexp);

/*
 * Neighbour lists as the one prune-and-retry step sees them (L5,
 * hnswneighbors.c): the build's arena or the index's pages.  read() copies
 * id's list at level (level 0: 2m slots, else m) into out and returns its
 * length, or -1 if id has no such list, setting *where to whatever write()
 * needs to find it again; write() replaces it by ids[0..n) only if it
 * still holds old[0..nold), else returns false.  pair(pair_arg, a, b) is
 * the distance between two elements.  attempts: how many times a step
 * reads and chooses again after its write found the list changed before
 * it gives up (0: until it applies).
 */
typedef struct HnswListOps
{
	int			(*read) (void *arg, uint32 id, int level, uint32 *out, uint64 *where);
	bool		(*write) (void *arg, uint32 id, int level, uint64 where, const uint32 *ids,
						  int n, const uint32 *old, int nold);
	void	   *arg;
	HnswPairFn	pair;
	void	   *pair_arg;
	const HnswShape *shape;
	int			attempts;
} HnswListOps;

/* does a list entry have to go (vacuum: a DELETED element)? */
typedef bool (*HnswGoneFn) (void *arg, uint32 id);

extern bool HnswAddLink(const HnswListOps *ops, uint32 id, int level, uint32 newid, float d,
						bool force, uint32 *evicted);
extern int	HnswLinkBack(const HnswListOps *ops, const HnswCandidate *nbrs, int n, int level,
						 uint32 newid, uint32 *evicted);
extern void HnswRelinkEvicted(const HnswListOps *ops, uint32 newid, const uint32 *evicted, int n,
							  HnswGoneFn gone, void *gone_arg, HnswGoneFn reached,
							  void *reached_arg);
extern void HnswRepairList(const HnswListOps *ops, uint32 id, int level, HnswGoneFn gone,
						   void *gone_arg);

/* the lists of an index's pages (pair: the vector cache) */
typedef struct HnswPageLists
{
	HnswListOps ops;
	HnswPageGraph *pg;
} HnswPageLists;

extern void HnswPageListsInit(HnswPageLists *pl, HnswPageGraph *pg, HnswVecCache *vc);

/* size of the record whose head is at rec (in-page offset inpage), 0 if none */
extern Size HnswRecordSize(const HnswShape *shape, const char *rec, uint32 inpage);

/* the walk over the stream's records, in order (hnswstream.c) */
typedef struct HnswStreamCursor
{
	Relation	index;
	const HnswShape *shape;
	uint64		end;			/* the walk covers [0, end) */
	const char *arena;			/* the build's arena, or NULL: the index's pages */
	BufferAccessStrategy strategy;
	int			lockmode;		/* BUFFER_LOCK_SHARE or BUFFER_LOCK_EXCLUSIVE */
	bool		tolerant;		/* set after Begin: stop at a bad record, not raise */
	/* the current page */
	Buffer		buf;			/* locked in lockmode; invalid if taken (or arena) */
	BlockNumber blkno;
	char	   *data;			/* its stream bytes; NULL: no current page */
	/* the current record */
	uint64		pos;			/* its stream offset */
	char	   *rec;
	Size		size;
	uint64		next;			/* where the next record starts (or the walk ended) */
	bool		broken;			/* a tolerant walk stopped: no valid record at pos */
} HnswStreamCursor;

extern void HnswStreamBegin(HnswStreamCursor *c, Relation index, const HnswShape *shape,
							uint64 end, BufferAccessStrategy strategy, int lockmode);
extern void HnswStreamBeginArena(HnswStreamCursor *c, Relation index, const HnswShape *shape,
								 const char *arena, uint64 end);
extern bool HnswStreamNext(HnswStreamCursor *c);
extern bool HnswStreamNextPage(HnswStreamCursor *c);
extern bool HnswStreamNextRecord(HnswStreamCursor *c);
extern Buffer HnswStreamTakePage(HnswStreamCursor *c);
extern void HnswStreamEnd(HnswStreamCursor *c);

/*
 * Reconnect (hnswreconnect.c): make every live element reachable at level 0
 * from the entry point again, after pruning or deletions cut it off.  The
 * caller supplies list access: read(id) copies id's level-0 list (0 for
 * anything but a live element), write(id, old, new) replaces it if it
 * still equals old and id is still live; pair(a, b) gives distances;
 * graph(x) a reader whose distance() is to element x; for_each_live calls
 * fn for every live element in id order; pause runs often (interrupts,
 * vacuum's cost delay).  Ids are below id_limit.  Returns elements linked.
 */
typedef void (*HnswIdFn) (void *fnarg, uint32 id);

typedef struct HnswReconnectOps
{
	int			(*read) (void *arg, uint32 id, uint32 *out);
	bool		(*write) (void *arg, uint32 id, const uint32 *old, int nold,
						  const uint32 *ids, int n);
	HnswPairFn	pair;
	HnswGraph  *(*graph) (void *arg, uint32 x);
	void		(*for_each_live) (void *arg, HnswIdFn fn, void *fnarg);
	void		(*pause) (void *arg);
	void	   *arg;
} HnswReconnectOps;

extern int	HnswReconnect(const HnswShape *shape, uint32 id_limit, uint32 entry, int entry_level,
						  const HnswReconnectOps *ops);
extern int	HnswReconnectIndex(Relation index, const HnswShape *shape, BufferAccessStrategy strategy);

extern void HnswInitGucs(void);

/* build progress phases (pg_stat_progress_create_index.phase) */
#define HNSW_PHASE_LOAD			2
#define HNSW_PHASE_WRITE		3
#define HNSW_PHASE_OVERFLOW		4

#endif							/* VECTORX_HNSW_H */

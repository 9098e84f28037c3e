/*-------------------------------------------------------------------------
 *
 * fuzz.h
 *	  What the fuzz targets of test/fuzz see of the shim (shim.c): one
 *	  input's lifetime, running a step the way a query runs (an ERROR is a
 *	  clean rejection), and a fake index relation over in-memory pages.
 *
 * HOW THE FUZZ TARGETS WORK
 *	Each fuzz_<surface>.c is a libFuzzer target built with clang
 *	-fsanitize=fuzzer,address,undefined from the project's real .c files
 *	(src/vector.c, files of src/hnsw, src/ivfpq and src/common, the
 *	distance kernels), compiled against the PostgreSQL server headers and
 *	linked with shim.c instead of the server.  shim.c implements the
 *	PostgreSQL functions those files call on the paths the targets drive
 *	(memory contexts on malloc, ereport/elog with PG_TRY, a buffer manager
 *	over an array of pages, relations, arrays, the wire format...);
 *	unreached.c names the functions they reference but never reach, each
 *	of which aborts with its name if it ever is.
 *
 *	A target's input runs as one or more steps (VxFuzzStep), each like a
 *	query: a step that raises an ERROR (ereport or elog) is a rejection
 *	the server would report, and the shim then does what the server's
 *	transaction abort does (releases buffer pins and content locks, runs
 *	the transaction callbacks).  A crash, a sanitizer report, a hang
 *	(libFuzzer's -timeout), a FATAL, a failed Assert (the files are built
 *	with USE_ASSERT_CHECKING), a buffer pin or lock still held after a
 *	step that returned, or a self-deadlock on a buffer's content lock
 *	(locking a page this backend already holds in a conflicting mode) is a
 *	finding: the target aborts and libFuzzer keeps the input.  The page
 *	targets also count an elog(ERROR) as one (VxFuzzInternalErrorIsFinding),
 *	and so does an input that needs more than the 2 GB that check-fuzz
 *	and scripts/vx-fuzz allow (-rss_limit_mb), a corrupt page having made
 *	the code allocate on its word.
 *
 *	Keep the seeds of a target, and every input that found a defect, in
 *	test/fuzz/corpus/<target>: make check-fuzz starts from them, so a
 *	defect that comes back fails it at once.
 *
 *	Everything an input allocates lives in a memory context that is
 *	deleted after it, and the index caches (src/common/vxcache.c, the
 *	relcache's rd_amcache) are invalidated, so inputs do not see each
 *	other.
 *
 *	Build and run: make fuzz, make check-fuzz (test/fuzz/corpus, a short
 *	fixed budget), scripts/vx-fuzz [seconds] (the long run and its table).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_FUZZ_H
#define VECTORX_FUZZ_H

#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "utils/rel.h"

/* the most pages a fake index holds (inputs beyond are cut) */
#define VXFUZZ_MAX_BLOCKS 48

/* called once per input, around everything it does */
extern void VxFuzzBeginInput(void);
extern void VxFuzzEndInput(void);

/* the memory of the current input (a step's own goes at the step's end) */
extern MemoryContext VxFuzzInputMemory(void);

/*
 * Run fn(arg) as one step: true if it returned, false if it raised an
 * ERROR (its SQLSTATE is then in VxFuzzLastError).  A FATAL or PANIC, or
 * a pin or content lock still held after fn returned, aborts.
 */
extern bool VxFuzzStep(void (*fn) (void *arg), void *arg);
extern int	VxFuzzLastError;

/*
 * If set, an ERROR with ERRCODE_INTERNAL_ERROR (an elog(ERROR), which
 * STYLE.md keeps for "can't happen") aborts: the page targets set it, as
 * corrupt pages must be reported as such (ereport with a code).
 */
extern bool VxFuzzInternalErrorIsFinding;

/* print each distinct error message once (VXFUZZ_VERBOSE=1 in the environment) */
extern bool VxFuzzVerbose;

/*
 * A fake index over npages pages copied from data (the last page padded
 * with zeros), in the current input's memory.  metric_fn is the address
 * its operator class's support function 1 has (index_getprocinfo), which
 * is how src/common/vxindex.c tells the metric; typmod is its column's
 * (the dimensions the meta page must agree with).  The fake heap behind
 * scans (VxFuzzHeap), a heap table of HEAP_BLOCKS blocks (shim.c),
 * returns for any heap TID inside it a row holding a vector of heap_dims
 * dimensions computed from the TID (some rows invisible, some NULL), as a
 * table's rows would be.
 */
extern Relation VxFuzzIndex(const char *name, const char *data, size_t len,
							PGFunction metric_fn, int typmod);
extern Relation VxFuzzHeap(int heap_dims);

/* an index scan as index_beginscan leaves it: the heap set */
extern void VxFuzzScanSetHeap(IndexScanDesc scan, Relation heap);

/*
 * An allow-list source: a TIDBitmap (the shim's) holding whole lossy
 * blocks for each bit of block_mask (blocks 0..7) and the exact TIDs
 * (block, offset) of tids[0..ntids).
 */
struct TIDBitmap;
extern struct TIDBitmap *VxFuzzBitmap(uint8 block_mask, const ItemPointerData *tids, int ntids);

/* a small deterministic generator for values derived from an input */
static inline uint32
VxFuzzRand(uint64 *state)
{
	uint64		x = (*state += UINT64CONST(0x9E3779B97F4A7C15));

	x = (x ^ (x >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return (uint32) ((x ^ (x >> 31)) >> 32);
}

#endif							/* VECTORX_FUZZ_H */

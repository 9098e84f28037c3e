/*-------------------------------------------------------------------------
 *
 * shim.c
 *	  The PostgreSQL server, as far as the fuzz targets of test/fuzz need
 *	  it: the functions that src/vector.c, src/common, src/hnsw and
 *	  src/ivfpq call on the paths the targets drive, implemented outside
 *	  the server so that those files run under libFuzzer, AddressSanitizer
 *	  and UBSan (fuzz.h says how the targets use it).  Written from the
 *	  documented behaviour of each function in the PostgreSQL 15 headers
 *	  and manual; where the server checks something on the way (a page
 *	  header when a block is read, the size of an allocation, message
 *	  bounds on the wire), so does the shim, with the server's SQLSTATE.
 *
 *	  memory contexts  palloc and friends on malloc, one malloc per chunk
 *	                   (so ASan sees every overrun), a tree of contexts
 *	  errors           ereport/elog: an ERROR longjmps to the PG_TRY of
 *	                   VxFuzzStep; lower levels are formatted and dropped
 *	  buffers          an array of pages (BufferBlocks) with a poisoned
 *	                   guard page between any two, pins and content locks
 *	                   counted per buffer, a page-header check on first read
 *	  relations        a fake index (and the heap behind a scan), the
 *	                   catalog lookups the inspection functions make
 *	  caches           dynahash and the relcache/transaction callbacks
 *	                   that src/common/vxcache.c registers
 *	  types            arrays, numeric to float8, the wire format, text,
 *	                   StringInfo, List
 *
 *	  Anything else the linked files reference is in unreached.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>
#include <sanitizer/asan_interface.h>

#include "access/amapi.h"
#include "access/genam.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "nodes/memnodes.h"
#include "nodes/pg_list.h"
#include "nodes/tidbitmap.h"
#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "fuzz.h"
#include "vector.h"

/* ================================================================ memory */

/*
 * Every chunk is its own malloc block: a header, then the caller's bytes.
 * The context pointer is the header's last field, right before the chunk,
 * where GetMemoryChunkContext (memutils.h) looks for it.
 */
typedef struct ShimChunk
{
	struct ShimChunk *prev;
	struct ShimChunk *next;
	Size		size;
	MemoryContext context;
} ShimChunk;

StaticAssertDecl(sizeof(ShimChunk) == MAXALIGN(sizeof(ShimChunk)), "chunks stay MAXALIGNed");

typedef struct ShimContext
{
	MemoryContextData base;
	ShimChunk	chunks;			/* list head */
} ShimContext;

static ShimContext top_context;
MemoryContext TopMemoryContext = NULL;
MemoryContext CurrentMemoryContext = NULL;
MemoryContext ErrorContext = NULL;

static void
InitContext(ShimContext *c, MemoryContext parent, const char *name)
{
	memset(c, 0, sizeof(ShimContext));
	c->base.type = T_AllocSetContext;
	c->base.isReset = true;
	c->base.name = name;
	c->chunks.prev = c->chunks.next = &c->chunks;
	c->base.parent = parent;
	if (parent)
	{
		c->base.nextchild = parent->firstchild;
		if (parent->firstchild)
			parent->firstchild->prevchild = &c->base;
		parent->firstchild = &c->base;
	}
}

static void
InitMemory(void)
{
	if (TopMemoryContext)
		return;
	InitContext(&top_context, NULL, "TopMemoryContext");
	TopMemoryContext = &top_context.base;
	CurrentMemoryContext = TopMemoryContext;
	ErrorContext = AllocSetContextCreate(TopMemoryContext, "ErrorContext", ALLOCSET_DEFAULT_SIZES);
}

MemoryContext
AllocSetContextCreateInternal(MemoryContext parent, const char *name,
							  Size minContextSize, Size initBlockSize, Size maxBlockSize)
{
	ShimContext *c = malloc(sizeof(ShimContext));

	if (c == NULL)
		abort();
	InitContext(c, parent, name);
	return &c->base;
}

void
MemoryContextSetIdentifier(MemoryContext context, const char *id)
{
	context->ident = id;
}

static void
Unlink(MemoryContext context)
{
	MemoryContext parent = context->parent;

	if (parent == NULL)
		return;
	if (context->prevchild)
		context->prevchild->nextchild = context->nextchild;
	else
		parent->firstchild = context->nextchild;
	if (context->nextchild)
		context->nextchild->prevchild = context->prevchild;
	context->parent = context->prevchild = context->nextchild = NULL;
}

void
MemoryContextSetParent(MemoryContext context, MemoryContext new_parent)
{
	Unlink(context);
	if (new_parent)
	{
		context->parent = new_parent;
		context->nextchild = new_parent->firstchild;
		if (new_parent->firstchild)
			new_parent->firstchild->prevchild = context;
		new_parent->firstchild = context;
	}
}

static void
FreeChunks(ShimContext *c)
{
	ShimChunk  *ch = c->chunks.next;

	while (ch != &c->chunks)
	{
		ShimChunk  *next = ch->next;

		free(ch);
		ch = next;
	}
	c->chunks.prev = c->chunks.next = &c->chunks;
	c->base.mem_allocated = 0;
	c->base.isReset = true;
}

void
MemoryContextDelete(MemoryContext context)
{
	MemoryContextCallback *cb;

	Assert(context != TopMemoryContext && context != CurrentMemoryContext);
	while (context->firstchild)
		MemoryContextDelete(context->firstchild);
	while ((cb = context->reset_cbs) != NULL)
	{
		context->reset_cbs = cb->next;
		cb->func(cb->arg);
	}
	Unlink(context);
	FreeChunks((ShimContext *) context);
	free(context);
}

void
MemoryContextReset(MemoryContext context)
{
	MemoryContextCallback *cb;

	while (context->firstchild)
		MemoryContextDelete(context->firstchild);
	while ((cb = context->reset_cbs) != NULL)
	{
		context->reset_cbs = cb->next;
		cb->func(cb->arg);
	}
	FreeChunks((ShimContext *) context);
}

void
MemoryContextRegisterResetCallback(MemoryContext context, MemoryContextCallback *cb)
{
	cb->next = context->reset_cbs;
	context->reset_cbs = cb;
}

/* the allocation all the others come down to (mcxt.c's checks, its errors) */
static void *
Alloc(MemoryContext context, Size size, int flags)
{
	ShimContext *c = (ShimContext *) context;
	ShimChunk  *ch;

	if (!((flags & MCXT_ALLOC_HUGE) ? AllocHugeSizeIsValid(size) : AllocSizeIsValid(size)))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	ch = malloc(sizeof(ShimChunk) + size);
	if (ch == NULL)
	{
		if (flags & MCXT_ALLOC_NO_OOM)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed on request of size %zu in memory context \"%s\".",
						   size, context->name)));
	}
	ch->size = size;
	ch->context = context;
	ch->next = c->chunks.next;
	ch->prev = &c->chunks;
	c->chunks.next->prev = ch;
	c->chunks.next = ch;
	context->mem_allocated += size;
	context->isReset = false;
	if (flags & MCXT_ALLOC_ZERO)
		memset(ch + 1, 0, size);
	return ch + 1;
}

static ShimChunk *
ChunkOf(void *pointer)
{
	ShimChunk  *ch = (ShimChunk *) pointer - 1;

	if (pointer == NULL || ch->context == NULL || !MemoryContextIsValid(ch->context))
	{
		fprintf(stderr, "shim: pfree or repalloc of %p, not a palloc'd chunk\n", pointer);
		abort();
	}
	return ch;
}

/* scans ask how much their context holds (hnsw.scan_mem_multiplier): nothing counted here */
Size
MemoryContextMemAllocated(MemoryContext context, bool recurse)
{
	return 0;
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return Alloc(context, size, 0);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return Alloc(context, size, MCXT_ALLOC_ZERO);
}

void *
MemoryContextAllocZeroAligned(MemoryContext context, Size size)
{
	return Alloc(context, size, MCXT_ALLOC_ZERO);
}

void *
MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	return Alloc(context, size, flags);
}

void *
MemoryContextAllocHuge(MemoryContext context, Size size)
{
	return Alloc(context, size, MCXT_ALLOC_HUGE);
}

void *
palloc(Size size)
{
	return Alloc(CurrentMemoryContext, size, 0);
}

void *
palloc0(Size size)
{
	return Alloc(CurrentMemoryContext, size, MCXT_ALLOC_ZERO);
}

void *
palloc_extended(Size size, int flags)
{
	return Alloc(CurrentMemoryContext, size, flags);
}

void
pfree(void *pointer)
{
	ShimChunk  *ch = ChunkOf(pointer);

	ch->prev->next = ch->next;
	ch->next->prev = ch->prev;
	ch->context->mem_allocated -= ch->size;
	ch->context = NULL;
	free(ch);
}

static void *
Realloc(void *pointer, Size size, int flags)
{
	ShimChunk  *ch = ChunkOf(pointer);
	void	   *copy = Alloc(ch->context, size, flags);

	memcpy(copy, pointer, Min(size, ch->size));
	pfree(pointer);
	return copy;
}

void *
repalloc(void *pointer, Size size)
{
	return Realloc(pointer, size, 0);
}

void *
repalloc_huge(void *pointer, Size size)
{
	return Realloc(pointer, size, MCXT_ALLOC_HUGE);
}

char *
MemoryContextStrdup(MemoryContext context, const char *string)
{
	Size		len = strlen(string) + 1;
	char	   *copy = MemoryContextAlloc(context, len);

	memcpy(copy, string, len);
	return copy;
}

char *
pstrdup(const char *in)
{
	return MemoryContextStrdup(CurrentMemoryContext, in);
}

char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

size_t
pvsnprintf(char *buf, size_t len, const char *fmt, va_list args)
{
	int			nprinted = vsnprintf(buf, len, fmt, args);

	if (nprinted < 0)
		elog(ERROR, "vsnprintf failed: %m with format string \"%s\"", fmt);
	if ((size_t) nprinted < len)
		return nprinted;
	if ((size_t) nprinted >= MaxAllocSize - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("out of memory")));
	return nprinted + 1;
}

char *
psprintf(const char *fmt,...)
{
	size_t		len = 128;

	for (;;)
	{
		char	   *result = palloc(len);
		va_list		args;
		size_t		newlen;

		va_start(args, fmt);
		newlen = pvsnprintf(result, len, fmt, args);
		va_end(args);
		if (newlen < len)
			return result;
		pfree(result);
		len = newlen;
	}
}

/* ================================================================ errors */

sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;

int			VxFuzzLastError = 0;
bool		VxFuzzInternalErrorIsFinding = false;
bool		VxFuzzVerbose = false;

/* the one error being built (no nesting: the shim raises none while it formats) */
static struct
{
	int			elevel;
	int			sqlerrcode;
	char		message[1024];
	bool		active;
} edata;

static bool
Start(int elevel)
{
	if (edata.active)
	{
		fprintf(stderr, "shim: error raised while reporting another\n");
		abort();
	}
	edata.active = true;
	edata.elevel = elevel;
	edata.message[0] = '\0';
	edata.sqlerrcode = elevel >= ERROR ? ERRCODE_INTERNAL_ERROR :
		elevel >= WARNING ? ERRCODE_WARNING : ERRCODE_SUCCESSFUL_COMPLETION;
	return true;
}

bool
errstart(int elevel, const char *domain)
{
	return Start(elevel);
}

bool
errstart_cold(int elevel, const char *domain)
{
	return Start(elevel);
}

int
errcode(int sqlerrcode)
{
	edata.sqlerrcode = sqlerrcode;
	return 0;
}

int
errcode_for_file_access(void)
{
	edata.sqlerrcode = ERRCODE_IO_ERROR;
	return 0;
}

/* format into scratch (every message and detail is formatted, so ASan reads them) */
#define FORMAT_INTO(buf, fmt) \
	do { \
		va_list		args; \
		va_start(args, fmt); \
		vsnprintf((buf), sizeof(buf), (fmt), args); \
		va_end(args); \
	} while (0)

int
errmsg(const char *fmt,...)
{
	FORMAT_INTO(edata.message, fmt);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	FORMAT_INTO(edata.message, fmt);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	char		scratch[1024];

	FORMAT_INTO(scratch, fmt);
	return 0;
}

int
errdetail_internal(const char *fmt,...)
{
	char		scratch[1024];

	FORMAT_INTO(scratch, fmt);
	return 0;
}

int
errhint(const char *fmt,...)
{
	char		scratch[1024];

	FORMAT_INTO(scratch, fmt);
	return 0;
}

char *
unpack_sql_state(int sql_state)
{
	static char buf[12];

	for (int i = 0; i < 5; i++)
	{
		buf[i] = PGUNSIXBIT(sql_state);
		sql_state >>= 6;
	}
	buf[5] = '\0';
	return buf;
}

/* each distinct message once, for VXFUZZ_VERBOSE */
static void
Note(const char *filename, int lineno)
{
	static char *seen[256];
	static int	nseen;

	if (!VxFuzzVerbose)
		return;
	for (int i = 0; i < nseen; i++)
		if (strcmp(seen[i], edata.message) == 0)
			return;
	if (nseen < (int) lengthof(seen))
		seen[nseen++] = strdup(edata.message);
	fprintf(stderr, "shim: level %d %s at %s:%d: %s\n", edata.elevel,
			unpack_sql_state(edata.sqlerrcode), filename, lineno, edata.message);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	int			elevel = edata.elevel;

	edata.active = false;
	Note(filename, lineno);
	if (elevel < ERROR)
		return;
	if (elevel > ERROR)
	{
		fprintf(stderr, "shim: %s at %s:%d: %s\n", elevel == FATAL ? "FATAL" : "PANIC",
				filename, lineno, edata.message);
		abort();
	}
	/* the server adds the context lines of the callbacks in force */
	for (ErrorContextCallback *cb = error_context_stack; cb; cb = cb->previous)
		cb->callback(cb->arg);
	VxFuzzLastError = edata.sqlerrcode;
	if (VxFuzzInternalErrorIsFinding && edata.sqlerrcode == ERRCODE_INTERNAL_ERROR)
	{
		fprintf(stderr, "shim: elog(ERROR) at %s:%d (%s): %s\n"
				"(an internal error where a corrupt page should be reported with its SQLSTATE)\n",
				filename, lineno, funcname, edata.message);
		abort();
	}
	if (PG_exception_stack == NULL)
	{
		fprintf(stderr, "shim: ERROR outside a step at %s:%d: %s\n", filename, lineno, edata.message);
		abort();
	}
	siglongjmp(*PG_exception_stack, 1);
}

void
pg_re_throw(void)
{
	if (PG_exception_stack == NULL)
		abort();
	siglongjmp(*PG_exception_stack, 1);
}

void
ExceptionalCondition(const char *conditionName, const char *errorType,
					 const char *fileName, int lineNumber)
{
	fprintf(stderr, "shim: %s(\"%s\") failed at %s:%d\n", errorType, conditionName, fileName, lineNumber);
	abort();
}

/* ================================================================ globals, interrupts */

volatile sig_atomic_t InterruptPending = false;
volatile uint32 InterruptHoldoffCount = 0;
volatile uint32 CritSectionCount = 0;
TransactionId CheckXidAlive = InvalidTransactionId;
bool		bsysscan = false;
int			work_mem = 4096;
int			wal_level = 1;		/* WAL_LEVEL_REPLICA */
Oid			MyDatabaseId = 5;
Oid			MyDatabaseTableSpace = 1663;

void
vacuum_delay_point(void)
{
}

bool
ItemPointerEquals(ItemPointer pointer1, ItemPointer pointer2)
{
	/* itemptr.c compares the fields; it asserts nothing of a TID read from a page */
	return ItemPointerGetBlockNumberNoCheck(pointer1) == ItemPointerGetBlockNumberNoCheck(pointer2) &&
		ItemPointerGetOffsetNumberNoCheck(pointer1) == ItemPointerGetOffsetNumberNoCheck(pointer2);
}

/* no other transaction runs: a RESERVED element's insert is over */
bool
TransactionIdIsInProgress(TransactionId xid)
{
	return false;
}

/* ================================================================ callbacks and dynahash */

#define MAX_CALLBACKS 8

static struct
{
	RelcacheCallbackFunction fn;
	Datum		arg;
}			relcache_cbs[MAX_CALLBACKS];
static int	nrelcache_cbs;

static struct
{
	XactCallback fn;
	void	   *arg;
}			xact_cbs[MAX_CALLBACKS];
static int	nxact_cbs;

void
CacheRegisterRelcacheCallback(RelcacheCallbackFunction func, Datum arg)
{
	if (nrelcache_cbs == MAX_CALLBACKS)
		abort();
	relcache_cbs[nrelcache_cbs].fn = func;
	relcache_cbs[nrelcache_cbs++].arg = arg;
}

void
RegisterXactCallback(XactCallback callback, void *arg)
{
	if (nxact_cbs == MAX_CALLBACKS)
		abort();
	xact_cbs[nxact_cbs].fn = callback;
	xact_cbs[nxact_cbs++].arg = arg;
}

static void
EndOfTransaction(XactEvent event)
{
	for (int i = 0; i < nxact_cbs; i++)
		xact_cbs[i].fn(event, xact_cbs[i].arg);
}

/*
 * dynahash as one list per table; removed entries stay allocated on a free
 * list, as hash_search documents (the address HASH_REMOVE returns stays
 * valid), and are reused by HASH_ENTER.
 */
typedef struct ShimEntry
{
	struct ShimEntry *next;
	char		pad[MAXIMUM_ALIGNOF];
} ShimEntry;

#define ENTRY_DATA(e)	((char *) (e) + MAXALIGN(sizeof(ShimEntry)))

struct HTAB
{
	MemoryContext cxt;
	Size		keysize;
	Size		entrysize;
	ShimEntry  *entries;
	ShimEntry  *freelist;
};

HTAB *
hash_create(const char *tabname, long nelem, const HASHCTL *info, int flags)
{
	MemoryContext cxt = (flags & HASH_CONTEXT) ? info->hcxt : TopMemoryContext;
	HTAB	   *h;

	if (!(flags & HASH_ELEM) || !(flags & HASH_BLOBS) || (flags & ~(HASH_ELEM | HASH_BLOBS | HASH_CONTEXT)))
	{
		fprintf(stderr, "shim: hash_create with flags 0x%x\n", flags);
		abort();
	}
	h = MemoryContextAllocZero(cxt, sizeof(HTAB));
	h->cxt = cxt;
	h->keysize = info->keysize;
	h->entrysize = info->entrysize;
	return h;
}

void *
hash_search(HTAB *hashp, const void *keyPtr, HASHACTION action, bool *foundPtr)
{
	ShimEntry **link;
	ShimEntry  *e;

	for (link = &hashp->entries; (e = *link) != NULL; link = &e->next)
		if (memcmp(ENTRY_DATA(e), keyPtr, hashp->keysize) == 0)
			break;
	if (foundPtr)
		*foundPtr = e != NULL;
	switch (action)
	{
		case HASH_FIND:
			return e ? ENTRY_DATA(e) : NULL;
		case HASH_REMOVE:
			if (e == NULL)
				return NULL;
			*link = e->next;
			e->next = hashp->freelist;
			hashp->freelist = e;
			return ENTRY_DATA(e);
		case HASH_ENTER:
		case HASH_ENTER_NULL:
			if (e)
				return ENTRY_DATA(e);
			if (hashp->freelist)
			{
				e = hashp->freelist;
				hashp->freelist = e->next;
			}
			else
				e = MemoryContextAlloc(hashp->cxt, MAXALIGN(sizeof(ShimEntry)) + hashp->entrysize);
			memcpy(ENTRY_DATA(e), keyPtr, hashp->keysize);
			e->next = hashp->entries;
			hashp->entries = e;
			return ENTRY_DATA(e);
	}
	return NULL;
}

/* the next entry to return rides in curEntry, so the current one may go */
void
hash_seq_init(HASH_SEQ_STATUS *status, HTAB *hashp)
{
	status->hashp = hashp;
	status->curBucket = 0;
	status->curEntry = (HASHELEMENT *) hashp->entries;
}

void *
hash_seq_search(HASH_SEQ_STATUS *status)
{
	ShimEntry  *e = (ShimEntry *) status->curEntry;

	if (e == NULL)
		return NULL;
	status->curEntry = (HASHELEMENT *) e->next;
	return ENTRY_DATA(e);
}

/* ================================================================ buffers */

/*
 * Block b of the fake index lives in buffer 2b + 2, at slot 2b + 1 of
 * BufferBlocks; the even slots between are poisoned, so that reading past
 * a page's end (or before its start) is an ASan report, not a read of the
 * neighbouring page.
 */
#define NSLOTS			(2 * VXFUZZ_MAX_BLOCKS + 1)
#define BLOCK_BUFFER(b)	((Buffer) (2 * (b) + 2))
#define BUFFER_BLOCK(buf)	((BlockNumber) (((buf) - 2) / 2))

char	   *BufferBlocks = NULL;
int			NBuffers = NSLOTS;
BufferDescPadded *BufferDescriptors = NULL;
int			NLocBuffer = 0;
Block	   *LocalBufferBlockPointers = NULL;

/* the fake heap of the scans: 64 blocks of up to 200 rows (HeapFetchTuple) */
#define HEAP_BLOCKS 64
#define HEAP_ROWS	200

typedef struct ShimRelation
{
	RelationData rel;
	FormData_pg_class form;
	FmgrInfo	support;		/* support function 1 (index_getprocinfo) */
	int			heap_dims;		/* a heap: the dimensions of its vectors */
} ShimRelation;

static struct
{
	Relation	index;			/* the fake index of this input */
	BlockNumber nblocks;
	int			pins[VXFUZZ_MAX_BLOCKS];
	int			shared[VXFUZZ_MAX_BLOCKS];	/* share locks held */
	bool		exclusive[VXFUZZ_MAX_BLOCKS];
	bool		verified[VXFUZZ_MAX_BLOCKS];	/* header checked since the input began */
}			pool;

static void
InitBuffers(void)
{
	if (BufferBlocks)
		return;
	BufferBlocks = aligned_alloc(BLCKSZ, (Size) NSLOTS * BLCKSZ);
	BufferDescriptors = calloc(NSLOTS, sizeof(BufferDescPadded));
	if (!BufferBlocks || !BufferDescriptors)
		abort();
	for (int s = 0; s < NSLOTS; s += 2)
		ASAN_POISON_MEMORY_REGION(BufferBlocks + (Size) s * BLCKSZ, BLCKSZ);
}

static Page
BlockPage(BlockNumber blkno)
{
	return (Page) (BufferBlocks + (Size) (2 * blkno + 1) * BLCKSZ);
}

static BlockNumber
PinnedBlock(Buffer buffer, const char *what)
{
	BlockNumber b;

	if (buffer < 2 || buffer % 2 != 0 || (b = BUFFER_BLOCK(buffer)) >= pool.nblocks || pool.pins[b] == 0)
	{
		fprintf(stderr, "shim: %s of buffer %d, which is not a pinned buffer\n", what, buffer);
		abort();
	}
	return b;
}

/*
 * What the server checks when it reads a block from disk (bufpage.c,
 * PageIsVerifiedExtended, checksums off): a sane header, or all zeros.
 */
static bool
PageLooksValid(Page page)
{
	PageHeader	p = (PageHeader) page;

	if (!PageIsNew(page))
	{
		if ((p->pd_flags & ~PD_VALID_FLAG_BITS) == 0 &&
			p->pd_lower <= p->pd_upper && p->pd_upper <= p->pd_special &&
			p->pd_special <= BLCKSZ && p->pd_special == MAXALIGN(p->pd_special))
			return true;
	}
	for (int i = 0; i < BLCKSZ; i++)
		if (((char *) page)[i] != 0)
			return false;
	return true;
}

Buffer
ReadBufferExtended(Relation reln, ForkNumber forkNum, BlockNumber blockNum,
				   ReadBufferMode mode, BufferAccessStrategy strategy)
{
	if (reln != pool.index || forkNum != MAIN_FORKNUM || mode != RBM_NORMAL || blockNum == P_NEW)
	{
		fprintf(stderr, "shim: ReadBufferExtended of fork %d block %u mode %d\n", forkNum, blockNum, mode);
		abort();
	}
	/* md.c: a block past the end is a short read */
	if (blockNum >= pool.nblocks)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not read block %u in file \"base/5/%u\": read only 0 of %d bytes",
						blockNum, reln->rd_node.relNode, BLCKSZ)));
	if (!pool.verified[blockNum])
	{
		if (!PageLooksValid(BlockPage(blockNum)))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("invalid page in block %u of relation base/5/%u",
							blockNum, reln->rd_node.relNode)));
		pool.verified[blockNum] = true;
	}
	pool.pins[blockNum]++;
	return BLOCK_BUFFER(blockNum);
}

Buffer
ReadBuffer(Relation reln, BlockNumber blockNum)
{
	return ReadBufferExtended(reln, MAIN_FORKNUM, blockNum, RBM_NORMAL, NULL);
}

/* a hint is right if that buffer holds the block: pin it */
bool
ReadRecentBuffer(RelFileNode rnode, ForkNumber forkNum, BlockNumber blockNum, Buffer recent_buffer)
{
	if (pool.index == NULL || !RelFileNodeEquals(rnode, pool.index->rd_node) ||
		forkNum != MAIN_FORKNUM || recent_buffer < 2 || recent_buffer % 2 != 0 ||
		BUFFER_BLOCK(recent_buffer) != blockNum || blockNum >= pool.nblocks ||
		!pool.verified[blockNum])
		return false;
	pool.pins[blockNum]++;
	return true;
}

BlockNumber
BufferGetBlockNumber(Buffer buffer)
{
	return PinnedBlock(buffer, "BufferGetBlockNumber");
}

void
ReleaseBuffer(Buffer buffer)
{
	BlockNumber b = PinnedBlock(buffer, "ReleaseBuffer");

	/* bufmgr.c: the last pin must not go while this backend holds the lock */
	if (pool.pins[b] == 1 && (pool.shared[b] > 0 || pool.exclusive[b]))
	{
		fprintf(stderr, "shim: last pin of block %u released with its content lock held\n", b);
		abort();
	}
	pool.pins[b]--;
}

void
LockBuffer(Buffer buffer, int mode)
{
	BlockNumber b = PinnedBlock(buffer, "LockBuffer");

	switch (mode)
	{
		case BUFFER_LOCK_UNLOCK:
			if (pool.exclusive[b])
				pool.exclusive[b] = false;
			else if (pool.shared[b] > 0)
				pool.shared[b]--;
			else
			{
				fprintf(stderr, "shim: unlock of block %u, which is not locked\n", b);
				abort();
			}
			break;
		case BUFFER_LOCK_SHARE:
			if (pool.exclusive[b])
			{
				fprintf(stderr, "shim: share lock of block %u while holding it exclusively: self-deadlock\n", b);
				abort();
			}
			pool.shared[b]++;
			break;
		case BUFFER_LOCK_EXCLUSIVE:
			if (pool.exclusive[b] || pool.shared[b] > 0)
			{
				fprintf(stderr, "shim: exclusive lock of block %u while holding it: self-deadlock\n", b);
				abort();
			}
			pool.exclusive[b] = true;
			break;
		default:
			abort();
	}
}

void
UnlockReleaseBuffer(Buffer buffer)
{
	LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
	ReleaseBuffer(buffer);
}

void
MarkBufferDirty(Buffer buffer)
{
	BlockNumber b = PinnedBlock(buffer, "MarkBufferDirty");

	if (!pool.exclusive[b])
	{
		fprintf(stderr, "shim: MarkBufferDirty of block %u without its exclusive lock\n", b);
		abort();
	}
}

BlockNumber
RelationGetNumberOfBlocksInFork(Relation relation, ForkNumber forkNum)
{
	if (relation->rd_rel->relkind == RELKIND_RELATION)
		return forkNum == MAIN_FORKNUM ? HEAP_BLOCKS : 0;	/* VxFuzzHeap */
	if (relation != pool.index)
		abort();
	return forkNum == MAIN_FORKNUM ? pool.nblocks : 0;
}

/* pins and locks this backend holds; the abort of a transaction drops them */
static int
HeldBuffers(bool release)
{
	int			held = 0;

	for (BlockNumber b = 0; b < VXFUZZ_MAX_BLOCKS; b++)
	{
		held += pool.pins[b] + pool.shared[b] + pool.exclusive[b];
		if (release)
			pool.pins[b] = pool.shared[b] = pool.exclusive[b] = 0;
	}
	return held;
}

/* ================================================================ relations */

static Oid	next_relfilenode = 16384;

void
namestrcpy(Name name, const char *str)
{
	strncpy(NameStr(*name), str, NAMEDATALEN);
	NameStr(*name)[NAMEDATALEN - 1] = '\0';
}

static ShimRelation *
NewRelation(const char *name, char relkind)
{
	ShimRelation *r = palloc0(sizeof(ShimRelation));

	r->rel.rd_rel = &r->form;
	namestrcpy(&r->form.relname, name);
	r->form.relkind = relkind;
	r->form.reltuples = 1000;
	r->rel.rd_id = next_relfilenode;
	r->rel.rd_node.spcNode = 1663;
	r->rel.rd_node.dbNode = MyDatabaseId;
	r->rel.rd_node.relNode = next_relfilenode++;
	r->rel.rd_refcnt = 1;
	r->rel.rd_indexcxt = CurrentMemoryContext;
	r->rel.pgstat_enabled = false;
	return r;
}

Relation
VxFuzzIndex(const char *name, const char *data, size_t len, PGFunction metric_fn, int typmod)
{
	ShimRelation *r = NewRelation(name, RELKIND_INDEX);
	Form_pg_index index = palloc0(MAXALIGN(sizeof(FormData_pg_index)) + sizeof(int16));
	BlockNumber n = (BlockNumber) Min((len + BLCKSZ - 1) / BLCKSZ, VXFUZZ_MAX_BLOCKS);
	TupleDesc	desc = palloc0(offsetof(struct TupleDescData, attrs) + sizeof(FormData_pg_attribute));

	/* one key column of type vector(typmod) */
	desc->natts = 1;
	desc->tdtypeid = RECORDOID;
	desc->tdtypmod = -1;
	desc->tdrefcount = -1;
	TupleDescAttr(desc, 0)->attnum = 1;
	TupleDescAttr(desc, 0)->atttypmod = typmod;
	TupleDescAttr(desc, 0)->attlen = -1;
	TupleDescAttr(desc, 0)->attalign = TYPALIGN_INT;
	TupleDescAttr(desc, 0)->attstorage = TYPSTORAGE_EXTENDED;
	r->rel.rd_att = desc;

	index->indexrelid = r->rel.rd_id;
	index->indnatts = index->indnkeyatts = 1;
	index->indkey.ndim = 1;
	index->indkey.dim1 = 1;
	index->indkey.elemtype = INT2OID;
	index->indkey.values[0] = 1;
	r->rel.rd_index = index;
	r->support.fn_addr = metric_fn;
	r->support.fn_nargs = 2;
	r->support.fn_strict = true;
	r->support.fn_mcxt = CurrentMemoryContext;

	Assert(HeldBuffers(false) == 0);
	pool.index = &r->rel;
	pool.nblocks = n;
	memset(pool.verified, 0, sizeof(pool.verified));
	for (BlockNumber b = 0; b < n; b++)
	{
		size_t		off = (size_t) b * BLCKSZ;
		size_t		have = Min(len - off, BLCKSZ);

		memcpy(BlockPage(b), data + off, have);
		memset((char *) BlockPage(b) + have, 0, BLCKSZ - have);
	}
	return &r->rel;
}

FmgrInfo *
index_getprocinfo(Relation irel, AttrNumber attnum, uint16 procnum)
{
	if (irel != pool.index || attnum != 1 || procnum != 1)
		abort();
	return &((ShimRelation *) irel)->support;
}

/* the inspection functions' catalog lookups, for the one index there is */
static void
CheckIsIndex(Oid relid)
{
	if (pool.index == NULL || relid != RelationGetRelid(pool.index))
	{
		fprintf(stderr, "shim: lookup of relation %u, not the fake index\n", relid);
		abort();
	}
}

char
get_rel_relkind(Oid relid)
{
	CheckIsIndex(relid);
	return RELKIND_INDEX;
}

char *
get_rel_name(Oid relid)
{
	CheckIsIndex(relid);
	return pstrdup(RelationGetRelationName(pool.index));
}

Relation
index_open(Oid relationId, LOCKMODE lockmode)
{
	CheckIsIndex(relationId);
	return pool.index;
}

void
index_close(Relation relation, LOCKMODE lockmode)
{
	if (relation != pool.index)
		abort();
}

/* VxOpenIndexForCheck: the table behind the index, locked against VACUUM */
Oid
IndexGetRelation(Oid indexId, bool missing_ok)
{
	CheckIsIndex(indexId);
	return pool.index->rd_index->indrelid;
}

void
LockRelationOid(Oid relid, LOCKMODE lockmode)
{
	if (relid != pool.index->rd_index->indrelid)
		abort();
}

bool
RecoveryInProgress(void)
{
	return false;
}

Oid
GetUserId(void)
{
	return BOOTSTRAP_SUPERUSERID;
}

bool
pg_class_ownercheck(Oid class_oid, Oid roleid)
{
	return true;
}

bool
has_privs_of_role(Oid member, Oid role)
{
	return true;
}

/* ================================================================ scans and the heap */

IndexScanDesc
RelationGetIndexScan(Relation indexRelation, int nkeys, int norderbys)
{
	IndexScanDesc scan = palloc0(sizeof(IndexScanDescData));

	scan->indexRelation = indexRelation;
	scan->xs_snapshot = InvalidSnapshot;
	scan->numberOfKeys = nkeys;
	scan->numberOfOrderBys = norderbys;
	scan->keyData = nkeys > 0 ? palloc0(sizeof(ScanKeyData) * nkeys) : NULL;
	scan->orderByData = norderbys > 0 ? palloc0(sizeof(ScanKeyData) * norderbys) : NULL;
	return scan;
}

void
VxFuzzScanSetHeap(IndexScanDesc scan, Relation heap)
{
	scan->heapRelation = heap;
}

/*
 * The fake heap (HEAP_BLOCKS, HEAP_ROWS above): a TID past its blocks is
 * a read error as in the server (the scans check TIDs against the table's
 * size first, VxCheckHeapTid, so none should get here), an offset past a
 * page's rows finds nothing.  Of the rows, one in eight is invisible to
 * the scan and one in sixteen has a NULL vector; the others hold a vector
 * computed from the TID.
 */

static void
ClearSlot(TupleTableSlot *slot)
{
	if (!TTS_EMPTY(slot) && !slot->tts_isnull[0])
		pfree(DatumGetPointer(slot->tts_values[0]));
	slot->tts_nvalid = 0;
	slot->tts_flags |= TTS_FLAG_EMPTY;
}

static const TupleTableSlotOps ShimSlotOps = {
	.base_slot_size = sizeof(TupleTableSlot),
	.clear = ClearSlot,
};

static const TupleTableSlotOps *
HeapSlotCallbacks(Relation rel)
{
	return &ShimSlotOps;
}

TupleTableSlot *
table_slot_create(Relation rel, List **reglist)
{
	TupleTableSlot *slot = palloc0(sizeof(TupleTableSlot));
	const TupleTableSlotOps *ops = rel->rd_tableam->slot_callbacks(rel);

	slot->type = T_TupleTableSlot;
	memcpy((void *) &slot->tts_ops, &ops, sizeof(ops));	/* a const field */
	slot->tts_flags = TTS_FLAG_EMPTY | TTS_FLAG_FIXED;
	slot->tts_values = palloc0(sizeof(Datum));
	slot->tts_isnull = palloc0(sizeof(bool));
	slot->tts_mcxt = CurrentMemoryContext;
	ItemPointerSetInvalid(&slot->tts_tid);
	return slot;
}

void
ExecDropSingleTupleTableSlot(TupleTableSlot *slot)
{
	ExecClearTuple(slot);
	pfree(slot->tts_values);
	pfree(slot->tts_isnull);
	pfree(slot);
}

void
slot_getsomeattrs_int(TupleTableSlot *slot, int attnum)
{
	fprintf(stderr, "shim: attribute %d of a fake heap row (it has one)\n", attnum);
	abort();
}

static IndexFetchTableData *
HeapFetchBegin(Relation rel)
{
	IndexFetchTableData *f = palloc0(sizeof(IndexFetchTableData));

	f->rel = rel;
	return f;
}

static void
HeapFetchReset(IndexFetchTableData *data)
{
}

static void
HeapFetchEnd(IndexFetchTableData *data)
{
	pfree(data);
}

static bool
HeapFetchTuple(IndexFetchTableData *scan, ItemPointer tid, Snapshot snapshot,
			   TupleTableSlot *slot, bool *call_again, bool *all_dead)
{
	BlockNumber blk = ItemPointerGetBlockNumberNoCheck(tid);
	OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(tid);
	uint64		state = ((uint64) blk << 16) | off;
	uint32		h = VxFuzzRand(&state);
	int			dims = ((ShimRelation *) scan->rel)->heap_dims;

	*call_again = false;
	if (all_dead)
		*all_dead = false;
	ExecClearTuple(slot);
	if (blk >= HEAP_BLOCKS)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not read block %u in file \"base/5/%u\": read only 0 of %d bytes",
						blk, scan->rel->rd_node.relNode, BLCKSZ)));
	if (off < FirstOffsetNumber || off > HEAP_ROWS || h % 8 == 0)
		return false;
	slot->tts_tid = *tid;
	slot->tts_flags &= ~TTS_FLAG_EMPTY;
	slot->tts_nvalid = 1;
	slot->tts_isnull[0] = h % 16 == 1;
	if (!slot->tts_isnull[0])
	{
		Vector	   *v = MemoryContextAllocZero(slot->tts_mcxt, VECTOR_SIZE(dims));

		SET_VARSIZE(v, VECTOR_SIZE(dims));
		v->dim = dims;
		for (int i = 0; i < dims; i++)
			v->x[i] = (float) ((int) (VxFuzzRand(&state) % 2001) - 1000) / 1000.0f;
		slot->tts_values[0] = PointerGetDatum(v);
	}
	return true;
}

static const TableAmRoutine ShimHeapAm = {
	.type = T_TableAmRoutine,
	.slot_callbacks = HeapSlotCallbacks,
	.index_fetch_begin = HeapFetchBegin,
	.index_fetch_reset = HeapFetchReset,
	.index_fetch_end = HeapFetchEnd,
	.index_fetch_tuple = HeapFetchTuple,
};

Relation
VxFuzzHeap(int heap_dims)
{
	ShimRelation *r = NewRelation("fuzz_heap", RELKIND_RELATION);

	r->rel.rd_tableam = &ShimHeapAm;
	r->form.relam = HEAP_TABLE_AM_OID;
	r->heap_dims = heap_dims;
	return &r->rel;
}

/* allow-lists come from a TIDBitmap: whole (lossy) blocks and exact TIDs */
struct TIDBitmap
{
	int			npages;
	struct
	{
		BlockNumber blkno;
		int			ntuples;	/* -1: lossy */
		OffsetNumber offsets[8];
	}			pages[16];
};

struct TBMIterator
{
	TIDBitmap  *tbm;
	int			next;
	TBMIterateResult *result;
};

TIDBitmap *
VxFuzzBitmap(uint8 block_mask, const ItemPointerData *tids, int ntids)
{
	TIDBitmap  *tbm = palloc0(sizeof(TIDBitmap));

	for (int b = 0; b < 8; b++)
		if (block_mask & (1 << b))
		{
			tbm->pages[tbm->npages].blkno = b;
			tbm->pages[tbm->npages++].ntuples = -1;
		}
	for (int i = 0; i < ntids && tbm->npages < (int) lengthof(tbm->pages); i++)
	{
		BlockNumber blk = ItemPointerGetBlockNumberNoCheck(&tids[i]);
		int			p;

		for (p = 0; p < tbm->npages; p++)
			if (tbm->pages[p].blkno == blk)
				break;
		if (p == tbm->npages)
		{
			tbm->pages[p].blkno = blk;
			tbm->npages++;
		}
		if (tbm->pages[p].ntuples >= 0 && tbm->pages[p].ntuples < 8)
			tbm->pages[p].offsets[tbm->pages[p].ntuples++] = ItemPointerGetOffsetNumberNoCheck(&tids[i]);
	}
	/* in block order, as a bitmap iterates */
	for (int i = 1; i < tbm->npages; i++)
		for (int j = i; j > 0 && tbm->pages[j - 1].blkno > tbm->pages[j].blkno; j--)
		{
			__typeof__(tbm->pages[0]) t = tbm->pages[j];

			tbm->pages[j] = tbm->pages[j - 1];
			tbm->pages[j - 1] = t;
		}
	return tbm;
}

TBMIterator *
tbm_begin_iterate(TIDBitmap *tbm)
{
	TBMIterator *it = palloc0(sizeof(TBMIterator));

	it->tbm = tbm;
	it->result = palloc0(offsetof(TBMIterateResult, offsets) + sizeof(OffsetNumber) * 8);
	return it;
}

TBMIterateResult *
tbm_iterate(TBMIterator *iterator)
{
	TIDBitmap  *tbm = iterator->tbm;
	TBMIterateResult *r = iterator->result;

	if (iterator->next >= tbm->npages)
		return NULL;
	r->blockno = tbm->pages[iterator->next].blkno;
	r->ntuples = tbm->pages[iterator->next].ntuples;
	r->recheck = r->ntuples < 0;
	for (int i = 0; i < r->ntuples; i++)
		r->offsets[i] = tbm->pages[iterator->next].offsets[i];
	iterator->next++;
	return r;
}

void
tbm_end_iterate(TBMIterator *iterator)
{
	pfree(iterator->result);
	pfree(iterator);
}

/* ================================================================ set-returning and composite results */

TypeFuncClass
get_call_result_type(FunctionCallInfo fcinfo, Oid *resultTypeId, TupleDesc *resultTupleDesc)
{
	if (resultTypeId)
		*resultTypeId = RECORDOID;
	if (resultTupleDesc)
		*resultTupleDesc = palloc0(offsetof(struct TupleDescData, attrs));
	return TYPEFUNC_COMPOSITE;
}

HeapTuple
heap_form_tuple(TupleDesc tupleDescriptor, Datum *values, bool *isnull)
{
	HeapTuple	tuple = palloc0(HEAPTUPLESIZE + sizeof(HeapTupleHeaderData));

	tuple->t_data = (HeapTupleHeader) ((char *) tuple + HEAPTUPLESIZE);
	tuple->t_len = sizeof(HeapTupleHeaderData);
	return tuple;
}

Datum
HeapTupleHeaderGetDatum(HeapTupleHeader tuple)
{
	return PointerGetDatum(tuple);
}

void
InitMaterializedSRF(FunctionCallInfo fcinfo, bits32 flags)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = (Tuplestorestate *) palloc0(64);
	rsinfo->setDesc = palloc0(offsetof(struct TupleDescData, attrs));
}

/* the rows of vectorx_index_stats and vectorx_hnsw_elements go nowhere */
void
tuplestore_putvalues(Tuplestorestate *state, TupleDesc tdesc, Datum *values, bool *isnull)
{
	(void) state;
}

/* ================================================================ fmgr, arrays, numeric */

Datum
DirectFunctionCall1Coll(PGFunction func, Oid collation, Datum arg1)
{
	LOCAL_FCINFO(fcinfo, 1);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, 1, collation, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[0].isnull = false;
	result = (*func) (fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "function %p returned NULL", (void *) func);
	return result;
}

Datum
DirectFunctionCall3Coll(PGFunction func, Oid collation, Datum arg1, Datum arg2, Datum arg3)
{
	LOCAL_FCINFO(fcinfo, 3);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, 3, collation, NULL, NULL);
	fcinfo->args[0].value = arg1;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = arg2;
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = arg3;
	fcinfo->args[2].isnull = false;
	result = (*func) (fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "function %p returned NULL", (void *) func);
	return result;
}

/* every datum the targets build has a 4-byte header and is inline */
struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	if (VARATT_IS_EXTENDED(datum))
	{
		fprintf(stderr, "shim: detoasting a datum that is not plain\n");
		abort();
	}
	return datum;
}

struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	return pg_detoast_datum(datum);
}

struct varlena *
pg_detoast_datum_copy(struct varlena *datum)
{
	struct varlena *copy = palloc(VARSIZE(pg_detoast_datum(datum)));

	memcpy(copy, datum, VARSIZE(datum));
	return copy;
}

void
get_typlenbyvalalign(Oid typid, int16 *typlen, bool *typbyval, char *typalign)
{
	switch (typid)
	{
		case INT4OID:
		case FLOAT4OID:
			*typlen = 4, *typbyval = true, *typalign = TYPALIGN_INT;
			break;
		case FLOAT8OID:
			*typlen = 8, *typbyval = FLOAT8PASSBYVAL, *typalign = TYPALIGN_DOUBLE;
			break;
		case NUMERICOID:
		case TEXTOID:
			*typlen = -1, *typbyval = false, *typalign = TYPALIGN_INT;
			break;
		case CSTRINGOID:
			*typlen = -2, *typbyval = false, *typalign = TYPALIGN_CHAR;
			break;
		default:
			fprintf(stderr, "shim: get_typlenbyvalalign(%u)\n", typid);
			abort();
	}
}

char *
format_type_be(Oid type_oid)
{
	switch (type_oid)
	{
		case INT4OID:
			return pstrdup("integer");
		case FLOAT4OID:
			return pstrdup("real");
		case FLOAT8OID:
			return pstrdup("double precision");
		case NUMERICOID:
			return pstrdup("numeric");
	}
	return psprintf("type %u", type_oid);
}

/* arrayutils.c: the product of the dimensions, within MaxArraySize */
int
ArrayGetNItems(int ndim, const int *dims)
{
	int32		ret = 1;

	if (ndim <= 0)
		return 0;
	for (int i = 0; i < ndim; i++)
	{
		int64		prod;

		if (dims[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("array size exceeds the maximum allowed (%d)", (int) MaxArraySize)));
		prod = (int64) ret * (int64) dims[i];
		ret = (int32) prod;
		if ((int64) ret != prod)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("array size exceeds the maximum allowed (%d)", (int) MaxArraySize)));
	}
	if ((Size) ret > MaxArraySize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("array size exceeds the maximum allowed (%d)", (int) MaxArraySize)));
	return (int) ret;
}

/* arrayfuncs.c: the elements (and NULL flags) of an array, walked with tupmacs.h */
void
deconstruct_array(ArrayType *array, Oid elmtype, int elmlen, bool elmbyval, char elmalign,
				  Datum **elemsp, bool **nullsp, int *nelemsp)
{
	int			nelems = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	Datum	   *elems = palloc(Max(nelems, 1) * sizeof(Datum));
	bool	   *nulls = palloc0(Max(nelems, 1) * sizeof(bool));
	char	   *p = ARR_DATA_PTR(array);
	bits8	   *bitmap = ARR_NULLBITMAP(array);
	int			bitmask = 1;

	if (ARR_ELEMTYPE(array) != elmtype)
		abort();
	for (int i = 0; i < nelems; i++)
	{
		if (bitmap && (*bitmap & bitmask) == 0)
		{
			elems[i] = (Datum) 0;
			nulls[i] = true;
		}
		else
		{
			elems[i] = fetch_att(p, elmbyval, elmlen);
			p = att_addlength_pointer(p, elmlen, p);
			p = (char *) att_align_nominal(p, elmalign);
		}
		if (bitmap)
		{
			bitmask <<= 1;
			if (bitmask == 0x100)
			{
				bitmap++;
				bitmask = 1;
			}
		}
	}
	*elemsp = elems;
	if (nullsp)
		*nullsp = nulls;
	else
	{
		for (int i = 0; i < nelems; i++)
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("null array element not allowed in this context")));
		pfree(nulls);
	}
	*nelemsp = nelems;
}

/* a one-dimensional array without NULLs, lower bound 1 */
ArrayType *
construct_array(Datum *elems, int nelems, Oid elmtype, int elmlen, bool elmbyval, char elmalign)
{
	Size		nbytes = 0;
	ArrayType  *result;
	char	   *p;

	for (int i = 0; i < nelems; i++)
	{
		nbytes = att_addlength_datum(nbytes, elmlen, elems[i]);
		nbytes = att_align_nominal(nbytes, elmalign);
	}
	nbytes += ARR_OVERHEAD_NONULLS(1);
	result = palloc0(nbytes);
	SET_VARSIZE(result, nbytes);
	result->ndim = 1;
	result->dataoffset = 0;
	result->elemtype = elmtype;
	ARR_DIMS(result)[0] = nelems;
	ARR_LBOUND(result)[0] = 1;
	p = ARR_DATA_PTR(result);
	for (int i = 0; i < nelems; i++)
	{
		if (elmbyval)
			store_att_byval(p, elems[i], elmlen);
		else if (elmlen == -1)
			memcpy(p, DatumGetPointer(elems[i]), VARSIZE_ANY(DatumGetPointer(elems[i])));
		else if (elmlen == -2)
			strcpy(p, DatumGetCString(elems[i]));
		else
			memcpy(p, DatumGetPointer(elems[i]), elmlen);
		p = att_addlength_pointer(p, elmlen, p);
		p = (char *) att_align_nominal(p, elmalign);
	}
	return result;
}

bool
array_contains_nulls(ArrayType *array)
{
	int			nelems = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	bits8	   *bitmap = ARR_NULLBITMAP(array);

	if (bitmap == NULL)
		return false;
	for (int i = 0; i < nelems; i++)
		if ((bitmap[i / 8] & (1 << (i % 8))) == 0)
			return true;
	return false;
}

/* numutils.c: an int4 from text, with the server's two errors */
static int32
StrToInt32(const char *s)
{
	const char *p = s;
	bool		neg = false;
	int64		acc = 0;

	while (*p && isspace((unsigned char) *p))
		p++;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!isdigit((unsigned char) *p))
		goto invalid;
	while (isdigit((unsigned char) *p))
	{
		acc = acc * 10 + (*p++ - '0');
		if (acc > (int64) PG_INT32_MAX + 1)
			goto out_of_range;
	}
	while (*p && isspace((unsigned char) *p))
		p++;
	if (*p != '\0')
		goto invalid;
	if (neg)
		acc = -acc;
	if (acc > PG_INT32_MAX || acc < PG_INT32_MIN)
		goto out_of_range;
	return (int32) acc;

out_of_range:
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value \"%s\" is out of range for type %s", s, "integer")));
invalid:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", "integer", s)));
}

/* arrayutils.c: the int4 typmods of a cstring[] (the grammar's type modifiers) */
int32 *
ArrayGetIntegerTypmods(ArrayType *arr, int *n)
{
	int32	   *result;
	Datum	   *elems;
	int			nelems;

	if (ARR_ELEMTYPE(arr) != CSTRINGOID)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_ELEMENT_ERROR),
				 errmsg("typmod array must be type cstring[]")));
	if (ARR_NDIM(arr) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("typmod array must be one-dimensional")));
	if (array_contains_nulls(arr))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("typmod array must not contain nulls")));
	deconstruct_array(arr, CSTRINGOID, -2, false, TYPALIGN_CHAR, &elems, NULL, &nelems);
	result = palloc(Max(nelems, 1) * sizeof(int32));
	for (int i = 0; i < nelems; i++)
		result[i] = StrToInt32(DatumGetCString(elems[i]));
	pfree(elems);
	*n = nelems;
	return result;
}

/*
 * numeric_float8: the value of a numeric (varlena; then a 16-bit header
 * that is either the short form, 0x8000 with sign 0x2000, display scale
 * 0x1F80 and a 7-bit signed weight 0x007F, or the special values NaN
 * 0xC000, +Infinity 0xD000, -Infinity 0xF000; or else the long form,
 * sign 0x4000 and display scale 0x3FFF, then a 16-bit weight; then base
 * 10000 digits, most significant first, the first of weight w standing
 * for 10000^w).  The server goes through the text form and strtod, and a
 * value beyond double's range, either way, is an error.
 */
Datum
numeric_float8(PG_FUNCTION_ARGS)
{
	struct varlena *num = (struct varlena *) PG_GETARG_POINTER(0);
	const uint8 *p = (const uint8 *) VARDATA(num);
	Size		len = VARSIZE(num) - VARHDRSZ;
	uint16		head;
	int			weight;
	bool		neg;
	const int16 *digits;
	int			ndigits;
	StringInfoData buf;
	char	   *end;
	double		val;

	if (len < 2)
		abort();
	memcpy(&head, p, 2);
	if ((head & 0xC000) == 0xC000)
	{
		if (head == 0xC000)
			PG_RETURN_FLOAT8(get_float8_nan());
		if (head == 0xD000)
			PG_RETURN_FLOAT8(get_float8_infinity());
		if (head == 0xF000)
			PG_RETURN_FLOAT8(-get_float8_infinity());
		abort();
	}
	if (head & 0x8000)
	{
		neg = (head & 0x2000) != 0;
		weight = (head & 0x0040) ? (int) (head & 0x003F) - 64 : (int) (head & 0x003F);
		digits = (const int16 *) (p + 2);
		ndigits = (len - 2) / 2;
	}
	else
	{
		int16		w;

		if (len < 4)
			abort();
		neg = (head & 0x4000) != 0;
		memcpy(&w, p + 2, 2);
		weight = w;
		digits = (const int16 *) (p + 4);
		ndigits = (len - 4) / 2;
	}
	initStringInfo(&buf);
	appendStringInfo(&buf, "%s0.", neg ? "-" : "");
	for (int i = 0; i < ndigits; i++)
	{
		int16		d;

		memcpy(&d, &digits[i], 2);
		if (d < 0 || d >= 10000)
			abort();
		appendStringInfo(&buf, "%04d", d);
	}
	appendStringInfo(&buf, "0e%d", 4 * (weight + 1));
	errno = 0;
	val = strtod(buf.data, &end);
	if (errno == ERANGE && (val == 0.0 || val >= HUGE_VAL || val <= -HUGE_VAL))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("\"%s\" is out of range for type double precision", buf.data)));
	pfree(buf.data);
	PG_RETURN_FLOAT8(val);
}

/* ================================================================ wire format, text, StringInfo, List */

/* pqformat.c: every read checks that the message holds the bytes */
static void
CopyMsgBytes(StringInfo msg, char *buf, int datalen)
{
	if (datalen < 0 || datalen > (msg->len - msg->cursor))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("insufficient data left in message")));
	memcpy(buf, &msg->data[msg->cursor], datalen);
	msg->cursor += datalen;
}

unsigned int
pq_getmsgint(StringInfo msg, int b)
{
	uint8		n8;
	uint16		n16;
	uint32		n32;

	switch (b)
	{
		case 1:
			CopyMsgBytes(msg, (char *) &n8, 1);
			return n8;
		case 2:
			CopyMsgBytes(msg, (char *) &n16, 2);
			return pg_ntoh16(n16);
		case 4:
			CopyMsgBytes(msg, (char *) &n32, 4);
			return pg_ntoh32(n32);
	}
	elog(ERROR, "unsupported integer size %d", b);
	return 0;
}

float4
pq_getmsgfloat4(StringInfo msg)
{
	union
	{
		float4		f;
		uint32		i;
	}			swap;

	swap.i = pq_getmsgint(msg, 4);
	return swap.f;
}

void
pq_begintypsend(StringInfo buf)
{
	initStringInfo(buf);
	appendStringInfoSpaces(buf, VARHDRSZ);
}

bytea *
pq_endtypsend(StringInfo buf)
{
	bytea	   *result = (bytea *) buf->data;

	SET_VARSIZE(result, buf->len);
	return result;
}

void
pq_sendfloat4(StringInfo buf, float4 f)
{
	union
	{
		float4		f;
		uint32		i;
	}			swap;

	swap.f = f;
	pq_sendint32(buf, swap.i);
}

text *
cstring_to_text(const char *s)
{
	Size		len = strlen(s);
	text	   *result = palloc(len + VARHDRSZ);

	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), s, len);
	return result;
}

void
initStringInfo(StringInfo str)
{
	str->maxlen = 1024;
	str->data = palloc(str->maxlen);
	resetStringInfo(str);
}

void
resetStringInfo(StringInfo str)
{
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

void
enlargeStringInfo(StringInfo str, int needed)
{
	int			newlen;

	if (needed < 0)
		elog(ERROR, "invalid string enlargement request size: %d", needed);
	if (((Size) needed) >= (MaxAllocSize - (Size) str->len))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("out of memory"),
				 errdetail("Cannot enlarge string buffer containing %d bytes by %d more bytes.",
						   str->len, needed)));
	needed += str->len + 1;
	if (needed <= str->maxlen)
		return;
	newlen = 2 * str->maxlen;
	while (needed > newlen)
		newlen = 2 * newlen;
	if (newlen > (int) MaxAllocSize)
		newlen = (int) MaxAllocSize;
	str->data = repalloc(str->data, newlen);
	str->maxlen = newlen;
}

int
appendStringInfoVA(StringInfo str, const char *fmt, va_list args)
{
	int			avail = str->maxlen - str->len;
	size_t		nprinted;

	if (avail < 16)
		return 32;
	nprinted = pvsnprintf(str->data + str->len, (size_t) avail, fmt, args);
	if (nprinted < (size_t) avail)
	{
		str->len += (int) nprinted;
		return 0;
	}
	str->data[str->len] = '\0';
	return (int) nprinted;
}

void
appendStringInfo(StringInfo str, const char *fmt,...)
{
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(str, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(str, needed);
	}
}

void
appendBinaryStringInfo(StringInfo str, const char *data, int datalen)
{
	enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, datalen);
	str->len += datalen;
	str->data[str->len] = '\0';
}

void
appendStringInfoSpaces(StringInfo str, int count)
{
	if (count > 0)
	{
		enlargeStringInfo(str, count);
		while (--count >= 0)
			str->data[str->len++] = ' ';
		str->data[str->len] = '\0';
	}
}

List *
lappend(List *list, void *datum)
{
	if (list == NIL)
	{
		list = palloc(offsetof(List, initial_elements) + 4 * sizeof(ListCell));
		list->type = T_List;
		list->length = 0;
		list->max_length = 4;
		list->elements = list->initial_elements;
	}
	else if (list->length == list->max_length)
	{
		int			newmax = 2 * list->max_length;

		if (list->elements == list->initial_elements)
		{
			ListCell   *cells = palloc(newmax * sizeof(ListCell));

			memcpy(cells, list->elements, list->length * sizeof(ListCell));
			list->elements = cells;
		}
		else
			list->elements = repalloc(list->elements, newmax * sizeof(ListCell));
		list->max_length = newmax;
	}
	list->elements[list->length++].ptr_value = datum;
	return list;
}

/* ================================================================ the harness */

static MemoryContext input_context = NULL;

MemoryContext
VxFuzzInputMemory(void)
{
	return input_context;
}

void
VxFuzzBeginInput(void)
{
	static bool initialized = false;

	if (!initialized)
	{
		InitMemory();
		InitBuffers();
		VxFuzzVerbose = getenv("VXFUZZ_VERBOSE") != NULL;
		initialized = true;
	}
	Assert(input_context == NULL);
	input_context = AllocSetContextCreate(TopMemoryContext, "fuzz input", ALLOCSET_DEFAULT_SIZES);
	CurrentMemoryContext = input_context;
}

/*
 * After the input: as if the index were dropped at the end of its
 * transaction (the relcache invalidation marks the caches' entries, the
 * transaction's end frees them), then everything the input allocated.
 */
void
VxFuzzEndInput(void)
{
	for (int i = 0; i < nrelcache_cbs; i++)
		relcache_cbs[i].fn(relcache_cbs[i].arg, InvalidOid);
	EndOfTransaction(XACT_EVENT_COMMIT);
	CurrentMemoryContext = TopMemoryContext;
	MemoryContextDelete(input_context);
	input_context = NULL;
	pool.index = NULL;
	pool.nblocks = 0;
}

/*
 * One step, like one query: its memory is a child of the input's that goes
 * at its end; an ERROR ends it as a transaction abort would (pins and
 * content locks released, transaction callbacks run).
 */
bool
VxFuzzStep(void (*fn) (void *arg), void *arg)
{
	MemoryContext step = AllocSetContextCreate(input_context, "fuzz step", ALLOCSET_DEFAULT_SIZES);
	volatile bool ok = true;
	int			held;

	CurrentMemoryContext = step;
	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		ok = false;
		edata.active = false;
		HeldBuffers(true);
		EndOfTransaction(XACT_EVENT_ABORT);
	}
	PG_END_TRY();
	CurrentMemoryContext = input_context;
	if (ok && (held = HeldBuffers(false)) != 0)
	{
		fprintf(stderr, "shim: %d buffer pins or content locks still held after a step that returned\n", held);
		abort();
	}
	MemoryContextDelete(step);
	return ok;
}

/*-------------------------------------------------------------------------
 *
 * vxcache.c
 *	  Backend-local caches keyed by an index's relfilenode, with eviction
 *	  (vxcache.h).  hnswpagegraph.c keeps its buffer hints here and
 *	  ivfpqmeta.c the read-only parts of an index, both through
 *	  VxNodeCacheGet.
 *
 *	  Why not rd_amcache: the relcache frees it on any invalidation, also
 *	  while a scan holds pointers into it; these entries are pointed at by
 *	  running scans.  Why at transaction end: no index scan outlives its
 *	  transaction (portals are closed or materialized by then), so nothing
 *	  points into an entry once the transaction is over.  An invalidation
 *	  of the index (TRUNCATE and REINDEX give it a new relfilenode, DROP
 *	  removes it; other invalidations are harmless to over-approximate)
 *	  marks its entries stale, and the transaction's end frees them.  A
 *	  relcache reset (InvalidOid) marks every entry.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"

#include "vxcache.h"

typedef struct NodeEntry
{
	RelFileNode node;			/* hash key */
	Oid			relid;			/* the index, for invalidations */
	bool		stale;			/* an invalidation touched it: free at xact end */
	void	   *data;
	MemoryContext cxt;			/* holds data */
} NodeEntry;

struct VxNodeCache
{
	HTAB	   *table;
	MemoryContext cxt;
	int			nstale;
	VxNodeCache *next;			/* every cache, for the callbacks */
};

static VxNodeCache *caches = NULL;

static void
RelcacheCallback(Datum arg, Oid relid)
{
	for (VxNodeCache *c = caches; c; c = c->next)
	{
		HASH_SEQ_STATUS seq;
		NodeEntry  *e;

		hash_seq_init(&seq, c->table);
		while ((e = hash_seq_search(&seq)) != NULL)
			if (!e->stale && (relid == InvalidOid || e->relid == relid))
			{
				e->stale = true;
				c->nstale++;
			}
	}
}

static void
FreeStale(void)
{
	for (VxNodeCache *c = caches; c; c = c->next)
	{
		HASH_SEQ_STATUS seq;
		NodeEntry  *e;

		if (c->nstale == 0)
			continue;
		hash_seq_init(&seq, c->table);
		while ((e = hash_seq_search(&seq)) != NULL)
			if (e->stale)
			{
				MemoryContextDelete(e->cxt);
				/* removing the entry just returned is allowed during a seq scan */
				hash_search(c->table, &e->node, HASH_REMOVE, NULL);
			}
		c->nstale = 0;
	}
}

static void
EndOfXact(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			FreeStale();
			break;
		default:
			break;
	}
}

VxNodeCache *
VxNodeCacheCreate(const char *name)
{
	VxNodeCache *c = MemoryContextAllocZero(TopMemoryContext, sizeof(VxNodeCache));
	HASHCTL		ctl;

	if (caches == NULL)
	{
		CacheRegisterRelcacheCallback(RelcacheCallback, (Datum) 0);
		RegisterXactCallback(EndOfXact, NULL);
	}
	c->cxt = AllocSetContextCreate(TopMemoryContext, "vectorx index cache", ALLOCSET_SMALL_SIZES);
	MemoryContextSetIdentifier(c->cxt, name);
	ctl.keysize = sizeof(RelFileNode);
	ctl.entrysize = sizeof(NodeEntry);
	ctl.hcxt = c->cxt;
	c->table = hash_create(name, 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	c->next = caches;
	caches = c;
	return c;
}

void *
VxNodeCacheLookup(VxNodeCache *cache, Relation index)
{
	NodeEntry  *e = hash_search(cache->table, &index->rd_node, HASH_FIND, NULL);

	return e ? e->data : NULL;
}

void
VxNodeCacheStore(VxNodeCache *cache, Relation index, void *data, MemoryContext cxt)
{
	bool		found;
	NodeEntry  *e;

	/*
	 * Entered only complete: should HASH_ENTER fail, cxt is still a child
	 * of the caller's context and goes with it.
	 */
	e = hash_search(cache->table, &index->rd_node, HASH_ENTER, &found);
	if (found)
	{
		if (e->stale)
			cache->nstale--;
		MemoryContextDelete(e->cxt);
	}
	MemoryContextSetParent(cxt, cache->cxt);
	e->relid = RelationGetRelid(index);
	e->stale = false;
	e->data = data;
	e->cxt = cxt;
}

MemoryContext
VxNodeCacheContext(VxNodeCache *cache)
{
	return cache->cxt;
}

void *
VxNodeCacheGet(VxNodeCache **cache, const char *name, Relation index,
			   VxNodeCacheValid valid, VxNodeCacheFill fill, void *arg)
{
	void	   *data;
	MemoryContext cxt;

	if (*cache == NULL)
		*cache = VxNodeCacheCreate(name);
	data = VxNodeCacheLookup(*cache, index);
	if (data && (valid == NULL || valid(data, arg)))
		return data;
	/* a child of the caller's context until complete (VxNodeCacheStore) */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "vectorx index cache entry",
								ALLOCSET_SMALL_SIZES);
	MemoryContextSetIdentifier(cxt, name);
	data = fill(index, cxt, arg);
	VxNodeCacheStore(*cache, index, data, cxt);
	return data;
}

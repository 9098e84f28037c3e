/*-------------------------------------------------------------------------
 *
 * vxcache.h
 *	  Backend-local caches keyed by an index's relfilenode (vxcache.c):
 *	  the HNSW buffer hints and the IVF-PQ shapes.  Entries that a relcache
 *	  invalidation touched (TRUNCATE, REINDEX, DROP, ALTER, ANALYZE) are
 *	  freed at the end of the transaction, so a session that truncates or
 *	  reindexes in a loop keeps a bounded amount of memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_VXCACHE_H
#define VECTORX_VXCACHE_H

#include "utils/rel.h"

typedef struct VxNodeCache VxNodeCache;

/* a cache of its own memory context under TopMemoryContext */
extern VxNodeCache *VxNodeCacheCreate(const char *name);

/* the data stored for index's relfilenode, or NULL */
extern void *VxNodeCacheLookup(VxNodeCache *cache, Relation index);

/*
 * Store data for index's relfilenode; cxt holds data and everything it
 * points to, and becomes the cache's (reparented).  An entry stored
 * before for the same relfilenode is freed.  Callers build data in a
 * fresh context and store it only once it is complete, so an error while
 * building leaves nothing behind (the context goes with its parent).
 */
extern void VxNodeCacheStore(VxNodeCache *cache, Relation index, void *data, MemoryContext cxt);

/* the context that stored entries' contexts hang under */
extern MemoryContext VxNodeCacheContext(VxNodeCache *cache);

#endif

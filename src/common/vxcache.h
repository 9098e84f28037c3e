/*-------------------------------------------------------------------------
 *
 * vxcache.h
 *	  Backend-local caches keyed by an index's relfilenode (vxcache.c):
 *	  the HNSW buffer hints (hnswpagegraph.c) and the IVF-PQ shapes
 *	  (ivfpqmeta.c).  Entries that a relcache
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

/*
 * The one way both AMs use a cache (HNSW's buffer hints, IVF-PQ's
 * shapes): the entry stored for index when there is one and valid()
 * accepts it (valid NULL: any), else a new one.  fill() builds the new
 * entry in cxt, a fresh context that the cache adopts once fill()
 * returns, so an error inside fill() leaves nothing behind.  *cache is
 * created on first use, under name.
 *
 * What goes here: data that running scans point into and that is costly
 * to rebuild.  HNSW's shape (a few options, copied by every caller) stays
 * in rd_amcache instead (src/hnsw/hnswmeta.c), as the relcache
 * intends; IVF-PQ's shape holds centroids and codebooks that scans point
 * into, which rd_amcache could free under them.
 */
typedef bool (*VxNodeCacheValid) (const void *data, void *arg);
typedef void *(*VxNodeCacheFill) (Relation index, MemoryContext cxt, void *arg);

extern void *VxNodeCacheGet(VxNodeCache **cache, const char *name, Relation index,
							VxNodeCacheValid valid, VxNodeCacheFill fill, void *arg);

#endif

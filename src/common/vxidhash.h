/*-------------------------------------------------------------------------
 *
 * vxidhash.h
 *	  A hash set of 32-bit ids on PostgreSQL's lib/simplehash.h, with the
 *	  few operations the access methods use.  The HNSW search marks the
 *	  elements it visited (hnswgraph.c, hnswscan.c, the build and inserts);
 *	  vacuum keeps the ids of DELETED elements and of UPPER records that an
 *	  element owns, and repairs deduplicate candidates (hnswvacuum.c,
 *	  hnswneighbors.c).
 *
 *	  The functions are static inline: the search tests and adds an id for
 *	  every neighbour it reads.  Memory comes from the memory context
 *	  current at VxIdHashCreate and goes with it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_VXIDHASH_H
#define VECTORX_VXIDHASH_H

#include "common/hashfn.h"

typedef struct VxIdHashEntry
{
	uint32		id;
	char		status;			/* simplehash's slot state */
} VxIdHashEntry;

#define SH_PREFIX		vxidhash
#define SH_ELEMENT_TYPE VxIdHashEntry
#define SH_KEY_TYPE		uint32
#define SH_KEY			id
/* ids are offsets / 16 of nearby records: mix them (murmur3's finalizer) */
#define SH_HASH_KEY(tb, key) murmurhash32(key)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct vxidhash_hash VxIdHash;

/* an empty set with room for about expected ids before it grows */
static inline VxIdHash *
VxIdHashCreate(int expected)
{
	return vxidhash_create(CurrentMemoryContext, (uint32) Max(expected, 16), NULL);
}

/* true if id was already there; otherwise adds it */
static inline bool
VxIdHashTestAndAdd(VxIdHash *h, uint32 id)
{
	bool		found;

	(void) vxidhash_insert(h, id, &found);
	return found;
}

static inline bool
VxIdHashContains(VxIdHash *h, uint32 id)
{
	return vxidhash_lookup(h, id) != NULL;
}

/* empty it, keeping its size */
static inline void
VxIdHashReset(VxIdHash *h)
{
	vxidhash_reset(h);
}

#endif							/* VECTORX_VXIDHASH_H */

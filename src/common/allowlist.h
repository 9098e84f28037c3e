/*-------------------------------------------------------------------------
 *
 * allowlist.h
 *	  The allow-list of the in-scan filter strategy (allowlist.c): the heap
 *	  TIDs a filtered search may return, as a hash set both access methods
 *	  probe once per candidate.  Built by the filtered-search node
 *	  (src/planner/filterexec.c) from a bitmap index scan, handed to an
 *	  index scan through its VxScanControl (scan.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_ALLOWLIST_H
#define VECTORX_ALLOWLIST_H

#include "nodes/tidbitmap.h"
#include "storage/itemptr.h"

/*
 * A hash set of (block << 16 | offset) keys, plus whole blocks for a
 * bitmap's lossy pages (key block << 16 | 0xFFFF, never a valid offset).
 */
struct allowset_hash;

typedef struct VxAllowList
{
	struct allowset_hash *set;	/* allowlist.c */
	int64		ntids;			/* exact TIDs held */
	int64		nlossy;			/* lossy blocks held */
	bool		overflow;		/* abandoned past work_mem: empty, not to be used */
} VxAllowList;

extern VxAllowList *VxAllowListFromBitmap(TIDBitmap *tbm);
extern bool VxAllowListContains(const VxAllowList *al, ItemPointer tid);

#endif							/* VECTORX_ALLOWLIST_H */

/*-------------------------------------------------------------------------
 *
 * scan.h
 *	  The scan-control contract: what a caller hands one hnsw or ivfpq
 *	  index scan beyond its scan keys, and what the scan reports back.
 *	  Both access methods keep one VxScanControl in their scan state and
 *	  expose it through their VxIndexKind's scan_control (indexkind.h);
 *	  callers reach it through the registry (src/registry.h), never
 *	  through a global, and only for the scan it belongs to.
 *
 *	  Callers: the filtered-search node (src/planner/filterexec.c) sets
 *	  allow and limit, beginning its index child's scan itself when it has
 *	  not begun; the recall functions (src/monitor.c) set exclude.
 *	  A scan reads the inputs when its first row is asked for, so they
 *	  may be set any time between index_beginscan and the first
 *	  index_getnext_*; the filtered-search node also changes limit and
 *	  allow between rows (a probe that commits, an allow-list detached at
 *	  rescan), which both scans honour from their next row on.
 *
 *	  Lifetime: the inputs stay across rescans (amrescan leaves them);
 *	  `returned` restarts at each rescan, `visited` accumulates over all of
 *	  them.  beginscan starts with VxScanControlInit: no allow-list, no
 *	  limit, no excluded row.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_SCAN_H
#define VECTORX_SCAN_H

#include "storage/itemptr.h"

#include "allowlist.h"

typedef struct VxScanControl
{
	/* inputs, set by the caller */
	const VxAllowList *allow;	/* return only rows whose heap TID it holds
								 * (inscan); NULL: every row.  HNSW still
								 * traverses disallowed elements (hnsw.h,
								 * the search filter); IVF-PQ drops their codes
								 * before the re-rank and probes more lists */
	uint64		limit;			/* end the scan after this many heap TIDs since
								 * the last rescan (an adaptive probe); 0: none */
	ItemPointerData exclude;	/* a heap row the scan must not search through
								 * (leave-one-out recall: its neighbourhood
								 * would be a shortcut to the answer); invalid:
								 * none.  HNSW honours it; IVF-PQ, which has
								 * no such shortcut, ignores it */

	/* outputs, kept by the scan */
	uint64		returned;		/* heap TIDs returned since the last rescan */
	uint64		visited;		/* index entries scored, over all rescans */
} VxScanControl;

/* a scan's control as beginscan sets it: nothing asked */
static inline void
VxScanControlInit(VxScanControl *ctl)
{
	ctl->allow = NULL;
	ctl->limit = 0;
	ItemPointerSetInvalid(&ctl->exclude);
	ctl->returned = 0;
	ctl->visited = 0;
}

#endif							/* VECTORX_SCAN_H */

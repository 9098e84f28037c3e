/*-------------------------------------------------------------------------
 *
 * registry.h
 *	  Which of vectorx's access methods, if any, an index belongs to
 *	  (registry.c): the one place that asks, for the monitor, the filter
 *	  planner and its executor node.  Above both access methods, below
 *	  their callers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_REGISTRY_H
#define VECTORX_REGISTRY_H

#include "nodes/pathnodes.h"

#include "indexkind.h"

/* the kind of an open index; NULL: not one of ours */
extern const VxIndexKind *VxIndexKindOf(Relation index);

/* the kind of an index the planner considers; NULL: not one of ours */
extern const VxIndexKind *VxIndexKindOfPath(const IndexOptInfo *info);

/* the controls of an index scan (scan.h); NULL for other access methods */
extern VxScanControl *VxScanControlOf(IndexScanDesc scan);

/* is relid, now, an index of ours?  (catalog caches only, no lock) */
extern bool VxIsIndexOid(Oid relid);

#endif							/* VECTORX_REGISTRY_H */

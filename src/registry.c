/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  The index-kind registry: vectorx's access methods (each exports a
 *	  VxIndexKind, src/common/indexkind.h), and the lookups that tell
 *	  whether an index is one of theirs.  The monitor (stats, recall, the
 *	  sweep of sample files), the filter planner (which index paths to
 *	  wrap, their cost model) and its executor node (the scan controls)
 *	  ask here rather than comparing an access method's callbacks or name
 *	  themselves.
 *
 *	  Identity is the access method's code, not its name: an open index
 *	  and an index path carry the routine its handler returned (compared
 *	  by callback), and the catalog-only check names the handler function.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relscan.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "hnsw.h"
#include "ivfpq.h"
#include "registry.h"

static const VxIndexKind *const kinds[] = {&hnsw_index_kind, &ivfpq_index_kind, &ivfflat_index_kind};

const VxIndexKind *
VxIndexKindOf(Relation index)
{
	if (index->rd_indam == NULL)
		return NULL;
	for (size_t i = 0; i < lengthof(kinds); i++)
		if (index->rd_indam->ambuild == kinds[i]->ambuild)
			return kinds[i];
	return NULL;
}

const VxIndexKind *
VxIndexKindOfPath(const IndexOptInfo *info)
{
	for (size_t i = 0; i < lengthof(kinds); i++)
		if (info->amcostestimate == kinds[i]->amcostestimate)
			return kinds[i];
	return NULL;
}

VxScanControl *
VxScanControlOf(IndexScanDesc scan)
{
	const VxIndexKind *kind = VxIndexKindOf(scan->indexRelation);

	return kind ? kind->scan_control(scan) : NULL;
}

bool
VxIsIndexOid(Oid relid)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		ours = false;

	if (!HeapTupleIsValid(tp))
		return false;
	if (((Form_pg_class) GETSTRUCT(tp))->relkind == RELKIND_INDEX)
	{
		HeapTuple	am = SearchSysCache1(AMOID, ObjectIdGetDatum(((Form_pg_class) GETSTRUCT(tp))->relam));

		if (HeapTupleIsValid(am))
		{
			char	   *handler = get_func_name(((Form_pg_am) GETSTRUCT(am))->amhandler);

			for (size_t i = 0; handler && i < lengthof(kinds); i++)
				ours |= strcmp(handler, kinds[i]->handler) == 0;
			ReleaseSysCache(am);
		}
	}
	ReleaseSysCache(tp);
	return ours;
}

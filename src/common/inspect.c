/*-------------------------------------------------------------------------
 *
 * inspect.c
 *	  Support for the inspection functions of both access methods
 *	  (vectorx_index_stats, vectorx_hnsw_check, vectorx_hnsw_elements,
 *	  vectorx_ivfpq_check): VxOpenIndexForInspection checks the caller's
 *	  privilege before it locks the index, VxOpenIndexForCheck also keeps
 *	  VACUUM out while a structural check reads, VxStat adds one row to
 *	  vectorx_index_stats, and VxProblem and VxProblemArray keep the
 *	  problems a check reports.  Called by src/monitor.c and by the access
 *	  methods (hnswcheck.c, ivfpqutil.c, ivfpqcheck.c); below both, so
 *	  that neither calls the other.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "inspect.h"

/* fail unless indexoid names an index (catalog only: no lock taken) */
void
VxCheckIsIndex(Oid indexoid, const char *fname)
{
	if (get_rel_relkind(indexoid) != RELKIND_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index", get_rel_name(indexoid) ? get_rel_name(indexoid) : "?"),
				 errhint("%s takes an index built with the hnsw, ivfpq or ivfflat access method.", fname)));
}

/*
 * Inspection reads the whole index (element and deleted-row counts, heap
 * TIDs): the caller must own the index (so its table) or have the
 * privileges of pg_stat_scan_tables, on top of EXECUTE.  Checked on the
 * OID before the lock, so that a role without the privilege never queues
 * for it, and again once the lock is held (src/monitor.c, "who may call
 * what").
 */
static void
CheckInspectPrivilege(Oid indexoid, const char *fname)
{
	Oid			user = GetUserId();

	if (!pg_class_ownercheck(indexoid, user) &&
		!has_privs_of_role(user, ROLE_PG_STAT_SCAN_TABLES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for index %s", get_rel_name(indexoid)),
				 errdetail("%s reads the whole index: only the owner of its table and roles with privileges of the \"pg_stat_scan_tables\" role may call it.",
						   fname)));
}

/*
 * Open an index for an inspection function (stats, check, dump of its
 * elements), checking the caller's privilege before locking it.  The caller
 * checks the access method.
 */
Relation
VxOpenIndexForInspection(Oid indexoid, const char *fname)
{
	Relation	index;

	VxCheckIsIndex(indexoid, fname);
	CheckInspectPrivilege(indexoid, fname);
	index = index_open(indexoid, AccessShareLock);
	CheckInspectPrivilege(indexoid, fname);
	return index;
}

/*
 * Open an index for a structural check (vectorx_hnsw_check and the like):
 * as VxOpenIndexForInspection, after locking its table in
 * ShareUpdateExclusiveLock, the lock VACUUM takes.  A check reads the index
 * page by page, and a VACUUM running meanwhile passes through states the
 * check would rightly call broken if they lasted (an entry point flagged
 * DELETED before the second pass replaces it, say).  With the lock, a
 * check waits for a running VACUUM (an autovacuum is cancelled instead,
 * as for any lock it blocks) and keeps new ones out until its transaction
 * ends; inserts, updates and scans go on, and the invariants allow for
 * what they do.  Recovery allows no lock above RowExclusiveLock: on a
 * standby the table gets AccessShareLock, and a check that runs while the
 * standby replays a VACUUM can see such a state.  The table is locked
 * before the index, the order VACUUM uses.  The caller closes the index
 * with index_close(index, AccessShareLock); the table's lock is held to
 * the end of the transaction.
 */
Relation
VxOpenIndexForCheck(Oid indexoid, const char *fname)
{
	LOCKMODE	mode = RecoveryInProgress() ? AccessShareLock : ShareUpdateExclusiveLock;
	Oid			heapoid;
	Relation	index;

	VxCheckIsIndex(indexoid, fname);
	CheckInspectPrivilege(indexoid, fname);
	heapoid = IndexGetRelation(indexoid, true);
	if (OidIsValid(heapoid))
		LockRelationOid(heapoid, mode);
	index = index_open(indexoid, AccessShareLock);
	CheckInspectPrivilege(indexoid, fname);
	/* the index cannot move to another table, but it can be dropped and its OID reused */
	if (IndexGetRelation(indexoid, false) != heapoid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the table of index \"%s\" changed while %s opened it",
						RelationGetRelationName(index), fname),
				 errhint("Run it again.")));
	return index;
}

/* one row of vectorx_index_stats */
void
VxStat(VxStatsSink *sink, const char *stat, double value, const char *description)
{
	Datum		values[3];
	bool		nulls[3] = {0};

	values[0] = CStringGetTextDatum(stat);
	values[1] = Float8GetDatum(value);
	values[2] = CStringGetTextDatum(description);
	tuplestore_putvalues(sink->store, sink->desc, values, nulls);
}

/* one problem a check found, formatted; beyond VX_MAX_PROBLEMS, dropped */
void
VxProblem(List **problems, const char *fmt,...)
{
	va_list		ap;
	StringInfoData buf;

	if (list_length(*problems) >= VX_MAX_PROBLEMS)
		return;
	initStringInfo(&buf);
	for (;;)
	{
		int			needed;

		va_start(ap, fmt);
		needed = appendStringInfoVA(&buf, fmt, ap);
		va_end(ap);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	*problems = lappend(*problems, buf.data);
}

/* the problems as the text[] a check returns (empty when there are none) */
Datum
VxProblemArray(List *problems)
{
	Datum	   *texts = palloc(sizeof(Datum) * Max(list_length(problems), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, problems)
		texts[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(texts, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*-------------------------------------------------------------------------
 *
 * vector_storage.c
 *	  Keeps vector columns inline and uncompressed in the heap, so that an
 *	  exact scan reads each row's vector in place.
 *
 * Why: PostgreSQL compresses ("main", "extended") or moves out of line
 * ("external", pgvector's choice) any value in a row wider than about
 * 2 KB.  A 768-dimension vector is 3 KB.  Compressed, every distance
 * computation first decompresses the row (Fashion-MNIST pixels compress
 * 3:1, so this is not hypothetical); out of line, it costs a TOAST index
 * lookup and two more page reads.  Either makes an exact k-NN scan several
 * times slower than reading the heap.
 *
 * What: when a table, partitioned table or materialized view gets a column
 * of type vector(n) with n <= vectorx.plain_storage_max_dims (default
 * 1800, so that the row still fits a heap page with room for other
 * columns), this module sets that column's storage to PLAIN, as
 *	  ALTER TABLE ... ALTER COLUMN ... SET STORAGE PLAIN
 * would.  Wider or unconstrained vector columns keep the type's default,
 * MAIN (inline when the row fits, compressed or out of line only when it
 * must).  Users can still choose any storage with ALTER TABLE; pg_dump
 * records the setting explicitly.
 *
 * How: an object_access_hook on OAT_POST_CREATE for relations (CREATE
 * TABLE, CREATE TABLE AS, SELECT INTO, materialized views) and for columns
 * (ALTER TABLE ADD COLUMN).  The new pg_attribute rows are found with
 * SnapshotSelf; only if one qualifies is the command counter advanced and
 * the row updated.  Internal creations (table rewrites) are left alone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "vector.h"

#define PLAIN_STORAGE_DEFAULT_MAX_DIMS 1800
#define PLAIN_STORAGE_LIMIT_MAX_DIMS 2000	/* 8 KB heap page */

static int	plain_storage_max_dims = PLAIN_STORAGE_DEFAULT_MAX_DIMS;
static object_access_hook_type prev_object_access_hook = NULL;

/* Is typid this extension's vector type?  (Its input function is ours.) */
static bool
IsVectorType(Oid typid)
{
	HeapTuple	tup;
	Oid			input;
	bool		result = false;

	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		return false;
	input = ((Form_pg_type) GETSTRUCT(tup))->typinput;
	ReleaseSysCache(tup);

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(input));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tup);
		bool		isnull;
		Datum		src;

		if (proc->prolang == ClanguageId)
		{
			src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);
			result = !isnull && strcmp(TextDatumGetCString(src), "vector_in") == 0;
			if (result)
			{
				Datum		bin = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_probin, &isnull);

				result = !isnull && strstr(TextDatumGetCString(bin), "vectorx") != NULL;
			}
		}
		ReleaseSysCache(tup);
	}
	return result;
}

/* attnums (subid > 0: just that one) of relid that should become PLAIN */
static List *
ColumnsToMakePlain(Oid relid, int subid)
{
	Relation	attrel;
	SysScanDesc scan;
	ScanKeyData key[2];
	HeapTuple	tup;
	List	   *result = NIL;
	int			nkeys = 1;

	ScanKeyInit(&key[0], Anum_pg_attribute_attrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	if (subid > 0)
	{
		ScanKeyInit(&key[1], Anum_pg_attribute_attnum, BTEqualStrategyNumber,
					F_INT2EQ, Int16GetDatum(subid));
		nkeys = 2;
	}
	attrel = table_open(AttributeRelationId, AccessShareLock);
	/* SnapshotSelf: the rows were inserted by the current command */
	scan = systable_beginscan(attrel, AttributeRelidNumIndexId, true,
							  SnapshotSelf, nkeys, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(tup);

		if (att->attnum > 0 && !att->attisdropped &&
			att->attstorage == TYPSTORAGE_MAIN &&
			att->atttypmod >= 1 && att->atttypmod <= plain_storage_max_dims &&
			IsVectorType(att->atttypid))
			result = lappend_int(result, att->attnum);
	}
	systable_endscan(scan);
	table_close(attrel, AccessShareLock);
	return result;
}

static void
MakeColumnsPlain(Oid relid, List *attnums)
{
	Relation	attrel;
	ListCell   *lc;

	/* make the new rows visible to an update */
	CommandCounterIncrement();
	attrel = table_open(AttributeRelationId, RowExclusiveLock);
	foreach(lc, attnums)
	{
		HeapTuple	tup = SearchSysCacheCopyAttNum(relid, (int16) lfirst_int(lc));

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for attribute %d of relation %u",
				 lfirst_int(lc), relid);
		((Form_pg_attribute) GETSTRUCT(tup))->attstorage = TYPSTORAGE_PLAIN;
		CatalogTupleUpdate(attrel, &tup->t_self, tup);
		heap_freetuple(tup);
	}
	table_close(attrel, RowExclusiveLock);
}

static void
VectorStorageObjectAccess(ObjectAccessType access, Oid classId, Oid objectId,
						  int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (access != OAT_POST_CREATE || classId != RelationRelationId ||
		plain_storage_max_dims <= 0)
		return;
	if (arg != NULL && ((ObjectAccessPostCreate *) arg)->is_internal)
		return;

	/* only relations that store rows; the relcache knows new ones already */
	{
		Relation	rel = RelationIdGetRelation(objectId);
		char		relkind;
		List	   *attnums;

		if (!RelationIsValid(rel))
			return;
		relkind = rel->rd_rel->relkind;
		RelationClose(rel);
		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
			relkind != RELKIND_MATVIEW)
			return;

		attnums = ColumnsToMakePlain(objectId, subId);
		if (attnums != NIL)
			MakeColumnsPlain(objectId, attnums);
		list_free(attnums);
	}
}

void
VxStorageInit(void)
{
	DefineCustomIntVariable("vectorx.plain_storage_max_dims",
							"New vector(n) columns with n up to this are stored PLAIN (inline, uncompressed).",
							"0 leaves every vector column with the type's default storage (MAIN).",
							&plain_storage_max_dims,
							PLAIN_STORAGE_DEFAULT_MAX_DIMS, 0, PLAIN_STORAGE_LIMIT_MAX_DIMS,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	prev_object_access_hook = object_access_hook;
	object_access_hook = VectorStorageObjectAccess;
}

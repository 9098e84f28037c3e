/*-------------------------------------------------------------------------
 *
 * vector_storage.c
 *	  Keeps vector and halfvec columns inline and uncompressed in the heap,
 *	  so that an exact scan reads each row's vector in place, whenever that
 *	  cannot make a row too big for a heap page.
 *
 * Why: PostgreSQL compresses ("main", "extended") or moves out of line
 * ("external", pgvector's choice) any value in a row wider than about
 * 2 KB.  A 768-dimension vector is 3 KB.  Compressed, every distance
 * computation first decompresses the row (Fashion-MNIST pixels compress
 * 3:1, so this is not hypothetical); out of line, it costs a TOAST index
 * lookup and two more page reads.  Either makes an exact k-NN scan several
 * times slower than reading the heap.  But a PLAIN value can never leave
 * the row: a row whose PLAIN columns add up to more than a heap page
 * cannot be stored at all ("row is too big"), so PLAIN is only chosen where
 * every row the table can ever hold still fits.
 *
 * The rule (README, "Speed of exact search", states it for users):
 *
 *	R1. The widest row of a table is bounded column by column: the tuple
 *		header with a null bitmap for every attribute, plus for each live
 *		column its largest inline size plus alignment padding (typalign - 1):
 *		a fixed-length type its length; a PLAIN vector(n) VECTOR_SIZE(n), a
 *		PLAIN halfvec(n) HALFVEC_SIZE(n);
 *		any other value that TOAST may compress or move out of line
 *		(storage EXTENDED, EXTERNAL or MAIN) MAXALIGN(TOAST_POINTER_SIZE),
 *		the size above which the toaster moves a value out when the row
 *		needs room; anything else (a PLAIN value of another type, an
 *		unconstrained PLAIN vector, cstring) has no bound.  The row fits
 *		when that sum is at most MaxHeapTupleSize.
 *	R2. When a table, partitioned table or materialized view is created,
 *		its vector(n) columns with 1 <= n <= vectorx.plain_storage_max_dims
 *		(default 1800) and storage MAIN, and its halfvec(n) columns with
 *		1 <= n <= twice that (the same bytes) and storage EXTERNAL (each
 *		type's default) are considered in column order; each becomes PLAIN
 *		if the row still fits (R1) with it PLAIN.
 *		ALTER TABLE ADD COLUMN does the same for the new column.
 *	R3. Before R2, and after every other change to a column (ALTER COLUMN
 *		TYPE, SET STORAGE, ...), if the row does not fit, PLAIN vector and
 *		halfvec columns go back to their type's default, last column first,
 *		until it fits.  The one exception is a change that leaves its
 *		column PLAIN although the column's type defaults to another
 *		storage (SET STORAGE PLAIN): that is the user's explicit choice,
 *		which PostgreSQL itself allows.
 *
 * MAIN is inline whenever the row fits and otherwise compressed or moved
 * out of line, so R3 only trades speed for a table that keeps working.
 * Users can still choose any storage with ALTER TABLE; pg_dump records the
 * setting explicitly.
 *
 * How: an object_access_hook on OAT_POST_CREATE for relations (CREATE
 * TABLE, CREATE TABLE AS, SELECT INTO, materialized views, partitions) and
 * for columns (ALTER TABLE ADD COLUMN, once per inheritance child), and on
 * OAT_POST_ALTER for columns (ALTER COLUMN TYPE and the other column
 * changes, once per child).  The pg_attribute rows of the current command
 * are read with SnapshotSelf; only if a storage changes is the command
 * counter advanced and the rows updated.  Internal creations and changes
 * (table rewrites) are left alone, and an existing table is only changed
 * when this backend holds AccessExclusiveLock on it (every command that can
 * widen a row does: ADD COLUMN, ALTER COLUMN TYPE).  A column that R3
 * makes MAIN may need a TOAST table the table never had: CREATE TABLE and
 * ADD COLUMN create it after the hook; after other column changes this
 * file does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
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
#include "catalog/toasting.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "halfvec.h"
#include "vector.h"

#define PLAIN_STORAGE_DEFAULT_MAX_DIMS 1800
#define PLAIN_STORAGE_LIMIT_MAX_DIMS 2000	/* 8 KB heap page */

/* R1: a column whose inline size has no bound, and the bound for a row */
#define UNBOUNDED_WIDTH ((int64) 1 << 40)
#define ROW_LIMIT ((int64) MaxHeapTupleSize)

static int	plain_storage_max_dims = PLAIN_STORAGE_DEFAULT_MAX_DIMS;
static object_access_hook_type prev_object_access_hook = NULL;

/* What the hook was told happened to the relation */
typedef enum StorageEvent
{
	EVENT_CREATE_RELATION,		/* R3, then R2 for every column */
	EVENT_ADD_COLUMN,			/* R3, then R2 for the new column */
	EVENT_ALTER_COLUMN			/* R3 only */
} StorageEvent;

/* One live column of the relation, as R1 needs it */
typedef struct ColumnWidth
{
	AttrNumber	attnum;
	int16		attlen;			/* pg_attribute.attlen */
	char		attalign;		/* pg_attribute.attalign */
	char		storage;		/* attstorage; R2 and R3 change it here first */
	char		typstorage;		/* the type's default storage */
	int32		typmod;			/* atttypmod: n of vector(n), or -1 */
	bool		is_vector;		/* of this extension's vector or halfvec type */
	bool		is_half;		/* halfvec */
	bool		changed;		/* storage differs from the catalog's */
} ColumnWidth;

/*
 * Is typid this extension's vector (1) or halfvec (2) type, or another (0)?
 * (Its input function is ours.)
 */
static int
VectorKind(Oid typid)
{
	HeapTuple	tup;
	Oid			input;
	int			result = 0;

	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		return 0;
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
			if (!isnull)
				result = strcmp(TextDatumGetCString(src), "vector_in") == 0 ? 1 :
					strcmp(TextDatumGetCString(src), "halfvec_in") == 0 ? 2 : 0;
			if (result)
			{
				Datum		bin = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_probin, &isnull);

				if (isnull || strstr(TextDatumGetCString(bin), "vectorx") == NULL)
					result = 0;
			}
		}
		ReleaseSysCache(tup);
	}
	return result;
}

/*
 * R1 for one column stored as "storage": the most bytes it can occupy in a
 * row once the toaster has done what it can, padding included.
 */
static int64
ColumnMaxWidth(const ColumnWidth *col, char storage)
{
	int64		pad = att_align_nominal(1, col->attalign) - 1;

	if (col->attlen > 0)
		return col->attlen + pad;
	if (col->attlen != -1)
		return UNBOUNDED_WIDTH; /* cstring */
	if (storage != TYPSTORAGE_PLAIN)
		return MAXALIGN(TOAST_POINTER_SIZE) + pad;
	if (col->is_vector && col->typmod >= 1 && col->typmod <= VECTOR_MAX_DIM)
		return (col->is_half ? HALFVEC_SIZE(col->typmod) : VECTOR_SIZE(col->typmod)) + pad;
	return UNBOUNDED_WIDTH;
}

/*
 * The live columns of relid, including rows inserted by the current
 * command (SnapshotSelf); *natts is the highest attnum, dropped columns
 * included, which sizes the null bitmap.
 */
static ColumnWidth *
ReadColumns(Oid relid, int *ncols, int *natts)
{
	Relation	attrel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int			cap = 16;
	ColumnWidth *cols = palloc(sizeof(ColumnWidth) * cap);

	*ncols = 0;
	*natts = 0;
	ScanKeyInit(&key, Anum_pg_attribute_attrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	attrel = table_open(AttributeRelationId, AccessShareLock);
	scan = systable_beginscan(attrel, AttributeRelidNumIndexId, true,
							  SnapshotSelf, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(tup);
		ColumnWidth *col;
		int			kind;

		if (att->attnum <= 0)
			continue;
		*natts = Max(*natts, att->attnum);
		if (att->attisdropped)
			continue;
		if (*ncols == cap)
		{
			cap *= 2;
			cols = repalloc(cols, sizeof(ColumnWidth) * cap);
		}
		col = &cols[(*ncols)++];
		col->attnum = att->attnum;
		col->attlen = att->attlen;
		col->attalign = att->attalign;
		col->storage = att->attstorage;
		col->typstorage = get_typstorage(att->atttypid);
		col->typmod = att->atttypmod;
		kind = att->attlen == -1 ? VectorKind(att->atttypid) : 0;
		col->is_vector = kind != 0;
		col->is_half = kind == 2;
		col->changed = false;
	}
	systable_endscan(scan);
	table_close(attrel, AccessShareLock);
	return cols;
}

static void
SetStorage(ColumnWidth *col, char storage, int64 *row)
{
	*row += ColumnMaxWidth(col, storage) - ColumnMaxWidth(col, col->storage);
	col->storage = storage;
	col->changed = !col->changed;
}

/*
 * Apply R3 and (for creations) R2 to relid; subid is the column the event
 * concerns (0: the whole relation).  Returns whether a storage changed.
 */
static bool
ReviewStorage(Oid relid, int subid, StorageEvent event)
{
	int			ncols;
	int			natts;
	ColumnWidth *cols = ReadColumns(relid, &ncols, &natts);
	int64		row = MAXALIGN(SizeofHeapTupleHeader + BITMAPLEN(natts));
	bool		changed = false;

	for (int i = 0; i < ncols; i++)
		row += ColumnMaxWidth(&cols[i], cols[i].storage);

	/*
	 * R3.  A column left PLAIN although its type's default is not was set so
	 * by the user (ALTER TYPE resets storage to the type's default): that
	 * SET STORAGE PLAIN stands.
	 */
	if (event == EVENT_ALTER_COLUMN)
	{
		for (int i = 0; i < ncols; i++)
			if (cols[i].attnum == subid && cols[i].storage == TYPSTORAGE_PLAIN &&
				cols[i].typstorage != TYPSTORAGE_PLAIN)
			{
				pfree(cols);
				return false;
			}
	}
	for (int i = ncols - 1; i >= 0 && row > ROW_LIMIT; i--)
		if (cols[i].is_vector && cols[i].storage == TYPSTORAGE_PLAIN)
			SetStorage(&cols[i], cols[i].typstorage, &row);

	/* R2 */
	if (event != EVENT_ALTER_COLUMN)
	{
		for (int i = 0; i < ncols; i++)
		{
			ColumnWidth *col = &cols[i];

			if (event == EVENT_ADD_COLUMN && col->attnum != subid)
				continue;
			if (!col->is_vector || col->storage != col->typstorage ||
				col->typstorage == TYPSTORAGE_PLAIN || col->typmod < 1 ||
				col->typmod > (col->is_half ? 2 : 1) * plain_storage_max_dims)
				continue;
			if (row - ColumnMaxWidth(col, col->storage) +
				ColumnMaxWidth(col, TYPSTORAGE_PLAIN) <= ROW_LIMIT)
				SetStorage(col, TYPSTORAGE_PLAIN, &row);
		}
	}

	for (int i = 0; i < ncols; i++)
		changed |= cols[i].changed;
	if (changed)
	{
		Relation	attrel;

		/* make the rows of the current command visible to an update */
		CommandCounterIncrement();
		attrel = table_open(AttributeRelationId, RowExclusiveLock);
		for (int i = 0; i < ncols; i++)
		{
			HeapTuple	tup;

			if (!cols[i].changed)
				continue;
			tup = SearchSysCacheCopyAttNum(relid, cols[i].attnum);
			if (!HeapTupleIsValid(tup))
				elog(ERROR, "cache lookup failed for attribute %d of relation %u",
					 cols[i].attnum, relid);
			((Form_pg_attribute) GETSTRUCT(tup))->attstorage = cols[i].storage;
			CatalogTupleUpdate(attrel, &tup->t_self, tup);
			heap_freetuple(tup);
		}
		table_close(attrel, RowExclusiveLock);
	}
	pfree(cols);
	return changed;
}

static void
VectorStorageObjectAccess(ObjectAccessType access, Oid classId, Oid objectId,
						  int subId, void *arg)
{
	Relation	rel;
	char		relkind;
	StorageEvent event;

	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (classId != RelationRelationId)
		return;
	if (access == OAT_POST_CREATE)
	{
		if (arg != NULL && ((ObjectAccessPostCreate *) arg)->is_internal)
			return;
		event = subId > 0 ? EVENT_ADD_COLUMN : EVENT_CREATE_RELATION;
	}
	else if (access == OAT_POST_ALTER && subId > 0)
	{
		if (arg != NULL && ((ObjectAccessPostAlter *) arg)->is_internal)
			return;
		event = EVENT_ALTER_COLUMN;
	}
	else
		return;

	/* only relations that store rows; the relcache knows new ones already */
	rel = RelationIdGetRelation(objectId);
	if (!RelationIsValid(rel))
		return;
	relkind = rel->rd_rel->relkind;
	RelationClose(rel);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_MATVIEW)
		return;

	/*
	 * A relation being created is invisible to other sessions; an existing
	 * one may only change storage under the lock ALTER TABLE ... SET STORAGE
	 * takes.
	 */
	if (event != EVENT_CREATE_RELATION &&
		!CheckRelationOidLockedByMe(objectId, AccessExclusiveLock, true))
		return;

	if (ReviewStorage(objectId, subId, event) && event == EVENT_ALTER_COLUMN)
	{
		/* a column made MAIN may need a TOAST table (see the header) */
		CommandCounterIncrement();
		AlterTableCreateToastTable(objectId, (Datum) 0, AccessExclusiveLock);
	}
}

void
VxStorageInit(void)
{
	DefineCustomIntVariable("vectorx.plain_storage_max_dims",
							"New vector(n) columns with n up to this, and halfvec(n) up to twice this, are stored PLAIN (inline, uncompressed) when the widest row still fits a page.",
							"0 leaves every new vector and halfvec column with its type's default storage (MAIN, EXTERNAL).",
							&plain_storage_max_dims,
							PLAIN_STORAGE_DEFAULT_MAX_DIMS, 0, PLAIN_STORAGE_LIMIT_MAX_DIMS,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	prev_object_access_hook = object_access_hook;
	object_access_hook = VectorStorageObjectAccess;
}

/*-------------------------------------------------------------------------
 *
 * vxindex.c
 *	  Helpers the HNSW and IVF-PQ access methods share; see vxindex.h.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/amvalidate.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "catalog/pg_am.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "storage/bufmgr.h"
#include "utils/guc.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/varbit.h"

#include "halfvec.h"
#include "sparsevec.h"
#include "vector.h"
#include "vxcodec.h"
#include "vxindex.h"

/* the opclass support functions whose identity tells the metric */
/* the values of hnsw.iterative_scan and ivfpq.iterative_scan (vxindex.h) */
const struct config_enum_entry vx_iterative_scan_options[] = {
	{"off", VX_ITERATIVE_OFF, false},
	{"strict_order", VX_ITERATIVE_STRICT, false},
	{"relaxed_order", VX_ITERATIVE_RELAXED, false},
	{NULL, 0, false}
};

extern Datum vector_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum vector_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum cosine_distance(PG_FUNCTION_ARGS);
extern Datum l1_distance(PG_FUNCTION_ARGS);
extern Datum halfvec_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum halfvec_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum halfvec_cosine_distance(PG_FUNCTION_ARGS);
extern Datum halfvec_l1_distance(PG_FUNCTION_ARGS);
extern Datum hamming_distance(PG_FUNCTION_ARGS);
extern Datum jaccard_distance(PG_FUNCTION_ARGS);
extern Datum sparsevec_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum sparsevec_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum sparsevec_cosine_distance(PG_FUNCTION_ARGS);
extern Datum sparsevec_l1_distance(PG_FUNCTION_ARGS);

VxMetric
VxIndexMetric(Relation index)
{
	FmgrInfo   *proc = index_getprocinfo(index, 1, 1);

	if (proc->fn_addr == vector_l2_squared_distance || proc->fn_addr == halfvec_l2_squared_distance ||
		proc->fn_addr == sparsevec_l2_squared_distance)
		return VX_METRIC_L2;
	if (proc->fn_addr == vector_negative_inner_product || proc->fn_addr == halfvec_negative_inner_product ||
		proc->fn_addr == sparsevec_negative_inner_product)
		return VX_METRIC_IP;
	if (proc->fn_addr == cosine_distance || proc->fn_addr == halfvec_cosine_distance ||
		proc->fn_addr == sparsevec_cosine_distance)
		return VX_METRIC_COSINE;
	if (proc->fn_addr == l1_distance || proc->fn_addr == halfvec_l1_distance ||
		proc->fn_addr == sparsevec_l1_distance)
		return VX_METRIC_L1;
	if (proc->fn_addr == hamming_distance)
		return VX_METRIC_HAMMING;
	if (proc->fn_addr == jaccard_distance)
		return VX_METRIC_JACCARD;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("operator class of index \"%s\" has an unsupported distance function",
					RelationGetRelationName(index))));
	pg_unreachable();
}

VxElem
VxIndexElem(Relation index)
{
	PGFunction	fn = index_getprocinfo(index, 1, 1)->fn_addr;

	if (fn == halfvec_l2_squared_distance || fn == halfvec_negative_inner_product ||
		fn == halfvec_cosine_distance || fn == halfvec_l1_distance)
		return VX_ELEM_HALFVEC;
	if (fn == hamming_distance || fn == jaccard_distance)
		return VX_ELEM_BIT;
	if (fn == sparsevec_l2_squared_distance || fn == sparsevec_negative_inner_product ||
		fn == sparsevec_cosine_distance || fn == sparsevec_l1_distance)
		return VX_ELEM_SPARSE;
	return VX_ELEM_VECTOR;
}

/* the typmod of the indexed column (or expression) */
int
VxIndexDims(Relation index, int maxdims, const char *amname)
{
	int			dims = TupleDescAttr(index->rd_att, 0)->atttypmod;

	if (dims < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column does not have dimensions"),
				 errhint("Declare the column as vector(n), halfvec(n), sparsevec(n) or bit(n), or index an expression such as (embedding::vector(768)).")));
	if (dims > maxdims)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d dimensions for %s index", maxdims, amname)));
	return dims;
}

/*
 * Operator classes must have exactly strategy 1, an ORDER BY operator
 * (vector, vector) -> double precision, and support function 1, one of the
 * distance functions (vector, vector) -> double precision.
 */
bool
VxValidateOpclass(Oid opclassoid, const char *amname)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	Oid			opfamilyoid;
	Oid			opcintype;
	char	   *opclassname;
	CatCList   *proclist,
			   *oprlist;
	bool		has_proc = false,
				has_op = false;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opfamilyoid = classform->opcfamily;
	opcintype = classform->opcintype;
	opclassname = NameStr(classform->opcname);

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));
	for (int i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc proc = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);

		if (proc->amprocnum != 1 ||
			!check_amproc_signature(proc->amproc, FLOAT8OID, true, 2, 2, opcintype, opcintype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s operator class \"%s\" has an invalid support function %d (%s)",
							amname, opclassname, proc->amprocnum, format_procedure(proc->amproc))));
			result = false;
		}
		else
			has_proc = true;
	}
	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));
	for (int i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop op = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if (op->amopstrategy != 1 || op->amoppurpose != AMOP_ORDER ||
			!check_amop_signature(op->amopopr, FLOAT8OID, opcintype, opcintype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("%s operator class \"%s\" has an invalid operator %s",
							amname, opclassname, format_operator(op->amopopr))));
			result = false;
		}
		else
			has_op = true;
	}
	if (!has_proc || !has_op)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("%s operator class \"%s\" needs strategy 1 (ORDER BY) and support function 1",
						amname, opclassname)));
		result = false;
	}
	ReleaseCatCacheList(proclist);
	ReleaseCatCacheList(oprlist);
	ReleaseSysCache(classtup);
	return result;
}

/* a bit value's bits into out, checking its length (VxPrepareVector) */
static void
BitDatumBytes(Datum value, uint8 *out, int dims, const char *amname)
{
	VarBit	   *b = DatumGetVarBitP(value);

	if (VARBITLEN(b) != dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d bits, not %d", dims, VARBITLEN(b)),
				 errhint("Every value in an %s index has the length of the index.", amname)));
	/* bits past the length are zero (varbit.h), as the popcounts need */
	memcpy(out, VARBITS(b), VARBITBYTES(b));
	if ((Pointer) b != DatumGetPointer(value))
		pfree(b);
}

/*
 * A sparsevec value in the internal form of vxcodec.h (SPARSE CODES):
 * its non-zero count, indices and values, normalised under cosine.
 */
static bool
SparseDatumInternal(Datum value, float *out, int dims, VxMetric metric, const char *amname)
{
	SparseVector *s = DatumGetSparseVector(value);
	int32	   *idx = VX_SPARSE_IDX(out);
	float	   *val;
	bool		result = true;

	if (s->dim != dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", dims, s->dim),
				 errhint("Every vector in an %s index has the dimensions of the index.", amname)));
	Assert(s->nnz >= 0 && s->nnz <= SPARSEVEC_MAX_NNZ);
	VX_SPARSE_NNZ(out) = s->nnz;
	memcpy(idx, s->indices, sizeof(int32) * s->nnz);
	val = VX_SPARSE_VAL(out);
	memcpy(val, SPARSEVEC_VALUES(s), sizeof(float) * s->nnz);
	if (metric == VX_METRIC_COSINE)
	{
		double		norm = 0;

		for (int i = 0; i < s->nnz; i++)
			norm += (double) val[i] * val[i];
		if (norm == 0)
			result = false;
		norm = sqrt(norm);
		for (int i = 0; i < s->nnz && result; i++)
			val[i] = (float) (val[i] / norm);
	}
	if ((Pointer) s != DatumGetPointer(value))
		pfree(s);
	return result;
}

/* see vxindex.h */
bool
VxPrepareVector(Datum value, VxElem elem, int dims, VxMetric metric, float *out, const char *amname)
{
	int			dim;

	if (elem == VX_ELEM_BIT)
	{
		BitDatumBytes(value, (uint8 *) out, dims, amname);
		return true;
	}
	if (elem == VX_ELEM_SPARSE)
		return SparseDatumInternal(value, out, dims, metric, amname);
	dim = elem == VX_ELEM_HALFVEC ? VxHalfDatumFloats(value, out, dims) :
		VxVectorDatumFloats(value, out, dims);

	if (dim != dims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", dims, dim),
				 errhint("Every vector in an %s index has the dimensions of the index.", amname)));
	if (metric == VX_METRIC_COSINE)
	{
		double		norm = 0;

		for (int i = 0; i < dim; i++)
			norm += (double) out[i] * out[i];
		if (norm == 0)
			return false;
		norm = sqrt(norm);
		for (int i = 0; i < dim; i++)
			out[i] = (float) (out[i] / norm);
	}
	return true;
}

/* does the meta page's dimension count match the indexed column? (vxindex.h) */
bool
VxIndexDimsMatch(Relation index, int meta_dims)
{
	/* every index has the typmod: the build refused a column without it */
	return TupleDescAttr(RelationGetDescr(index), 0)->atttypmod == meta_dims;
}

/* a heap TID from an index page (vxindex.h) */
void
VxCheckHeapTid(Relation index, Relation heap, BlockNumber *heap_blocks, ItemPointer tid)
{
	BlockNumber blkno = ItemPointerGetBlockNumberNoCheck(tid);
	OffsetNumber offnum = ItemPointerGetOffsetNumberNoCheck(tid);

	/* other table access methods give TIDs their own meaning */
	if (heap == NULL || heap->rd_rel->relam != HEAP_TABLE_AM_OID)
		return;
	if (offnum >= FirstOffsetNumber && offnum <= MaxHeapTuplesPerPage)
	{
		if (*heap_blocks != InvalidBlockNumber && blkno < *heap_blocks)
			return;
		*heap_blocks = RelationGetNumberOfBlocks(heap);
		if (blkno < *heap_blocks)
			return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("index \"%s\" is corrupted: it names heap row (%u,%u), which table \"%s\" cannot hold",
					RelationGetRelationName(index), blkno, offnum, RelationGetRelationName(heap)),
			 errdetail("The table has %u blocks, and a block holds rows 1 to %d.",
					   RelationGetNumberOfBlocks(heap), (int) MaxHeapTuplesPerPage),
			 errhint("REINDEX the index.")));
}

/* a corrupt index page (vxindex.h) */
void
VxIndexCorrupt(Relation index, BlockNumber blkno, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("index \"%s\" is corrupted at block %u: %s",
					RelationGetRelationName(index), blkno, what),
			 errhint("REINDEX the index.")));
}

void
VxReturnUnordered(IndexScanDesc scan, BlockNumber *heap_blocks, ItemPointer tid)
{
	VxCheckHeapTid(scan->indexRelation, scan->heapRelation, heap_blocks, tid);
	scan->xs_heaptid = *tid;
	scan->xs_recheck = false;
	scan->xs_recheckorderby = false;
	if (scan->numberOfOrderBys > 0)
		scan->xs_orderbynulls[0] = true;
}

/*-------------------------------------------------------------------------
 *
 * ivfpqinsert.c
 *	  aminsert for IVF-PQ and IVFFlat: encode the row with the build's
 *	  centroids and codebooks (IVFFlat: its 8-bit codes, vxcodec.h) and
 *	  add (code, TID) to its list (ivfpq.h, LOCKING: the
 *	  list's insert page, extended at the chain's end with the directory
 *	  page updated in the same WAL record).  Each list page also sums the
 *	  quantization error of the rows added after the build, for the drift
 *	  check of vectorx_index_stats.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfpq.h"

static void
PutInPage(Page page, const IvfpqShape *shape, const uint8 *code, ItemPointer tid, float error)
{
	IvfpqPageOpaque op = IvfpqPageGetOpaque(page);

	IvfpqPutEntry(IvfpqPageData(page), &shape->meta, shape->code_bytes, op->count, code, tid);
	op->count++;
	op->inserted++;
	op->inserted_error += error;
}

void
IvfpqAddEntry(Relation index, const IvfpqShape *shape, int list, const uint8 *code,
			  ItemPointer tid, float error)
{
	const IvfpqMetaPageData *meta = &shape->meta;
	int			capacity = IvfpqPageCapacity(meta);
	int			slot;
	BlockNumber dirblk = IvfpqDirectoryBlock(meta, list, &slot);
	Buffer		dirbuf;
	BlockNumber blkno;
	BlockNumber nblocks = 0;
	uint32		steps = 0;
	VxPageWrite w;

	blkno = IvfpqReadDirectory(index, meta, list, NULL, &nblocks).insert;
	VX_WAIT_POINT("ivfpq_insert_page");

	if (!BlockNumberIsValid(blkno))
	{
		/* an empty list: create its first page under the directory lock */
		IvfpqListData *entry;
		Buffer		buf;

		dirbuf = ReadBuffer(index, dirblk);
		LockBuffer(dirbuf, BUFFER_LOCK_EXCLUSIVE);
		IvfpqCheckPage(index, dirbuf, IVFPQ_DIRECTORY);
		entry = &((IvfpqListData *) IvfpqPageData(BufferGetPage(dirbuf)))[slot];
		if (BlockNumberIsValid(entry->insert))
		{
			/* someone else just did */
			blkno = entry->insert;
			IvfpqCheckListBlock(index, meta, dirblk, blkno, &nblocks);
			UnlockReleaseBuffer(dirbuf);
		}
		else
		{
			Page		page;

			buf = VxNewBuffer(index);	/* lock order: page.h */
			VxPageWriteBegin(&w, index);
			page = VxPageWriteAdd(&w, buf, true);
			IvfpqInitPage(page, IVFPQ_LIST);
			PutInPage(page, shape, code, tid, error);
			entry = &((IvfpqListData *) IvfpqPageData(VxPageWriteAdd(&w, dirbuf, false)))[slot];
			entry->head = entry->insert = BufferGetBlockNumber(buf);
			VxPageWriteFinish(&w);	/* releases both buffers */
			return;
		}
	}

	for (;;)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		IvfpqPageOpaque op;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		IvfpqCheckListPage(index, meta, buf, &nblocks, ++steps);
		op = IvfpqPageGetOpaque(BufferGetPage(buf));
		if (op->count < capacity)
		{
			VxPageWriteBegin(&w, index);
			page = VxPageWriteAdd(&w, buf, false);
			PutInPage(page, shape, code, tid, error);
			VxPageWriteFinish(&w);
			return;
		}
		if (BlockNumberIsValid(op->next))
		{
			blkno = op->next;
			UnlockReleaseBuffer(buf);
			continue;
		}
		/* the chain's last page is full: add one (lock order: list pages, then directory) */
		{
			Buffer		newbuf = VxNewBuffer(index);	/* lock order: page.h */
			Page		newpage;
			IvfpqListData *entry;

			dirbuf = ReadBuffer(index, dirblk);
			LockBuffer(dirbuf, BUFFER_LOCK_EXCLUSIVE);
			IvfpqCheckPage(index, dirbuf, IVFPQ_DIRECTORY);
			VxPageWriteBegin(&w, index);
			page = VxPageWriteAdd(&w, buf, false);
			newpage = VxPageWriteAdd(&w, newbuf, true);
			IvfpqInitPage(newpage, IVFPQ_LIST);
			PutInPage(newpage, shape, code, tid, error);
			IvfpqPageGetOpaque(page)->next = BufferGetBlockNumber(newbuf);
			entry = &((IvfpqListData *) IvfpqPageData(VxPageWriteAdd(&w, dirbuf, false)))[slot];
			entry->insert = BufferGetBlockNumber(newbuf);
			VxPageWriteFinish(&w);	/* releases all three buffers */
			return;
		}
	}
}

bool
ivfpqinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
			Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
			IndexInfo *indexInfo)
{
	MemoryContext cxt,
				old;
	const IvfpqShape *shape;
	float	   *vec;
	uint8	   *code;
	int			list = 0;
	float		error = 0;

	if (isnull[0])
		return false;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "ivfpq insert", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	shape = IvfpqGetShape(index);
	vec = palloc(sizeof(float) * shape->meta.dims);
	code = palloc0(IvfpqEntryCodeLen(&shape->meta));
	if (VxPrepareVector(values[0], VxIndexElem(index), shape->meta.dims, (VxMetric) shape->meta.metric, vec,
						shape->flat ? "IVFFlat" : "IVF-PQ"))
	{
		if (shape->meta.trained)
			list = IvfpqNearest(IvfpqRoutingVector(&shape->codec, vec, palloc(sizeof(float) * shape->meta.dims)),
								shape->centroids, shape->centroid_norms, shape->meta.lists,
								shape->meta.dims, NULL);
		if (shape->flat)
			error = IvfpqEncodeFlat(shape, vec, code);
		else if (shape->meta.trained)
		{
			float	   *resid = palloc(sizeof(float) * shape->meta.dims);

			IvfpqResidual(shape, vec, list, resid);
			error = IvfpqEncode(shape, resid, code);
		}
		IvfpqAddEntry(index, shape, list, code, heap_tid, error);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return false;
}

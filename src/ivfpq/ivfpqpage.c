/*-------------------------------------------------------------------------
 *
 * ivfpqpage.c
 *	  IVF-PQ pages: the block layout of list pages (where entry i's codes
 *	  and TID live, in the fast-scan layout of distance.h, or an IVFFlat
 *	  entry's 8-bit codes), initialising a
 *	  page, the directory, and the guards every page read passes (ivfpq.h,
 *	  CORRUPTION).  Called by build, insert, scan, vacuum and the
 *	  statistics; ivfpq.h documents the layouts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/bufmgr.h"
#include "utils/rel.h"

#include "distance.h"
#include "ivfpq.h"

int
IvfpqBlockSize(int nbits)
{
	return nbits == IVFPQ_NBITS_FLAT ? 1 : nbits == 4 ? VX_PQ4_BLOCK : VX_PQ8_BLOCK;
}

/*
 * code bytes of one block: PQ codes in the fast-scan layout of distance.h;
 * IVFFlat, one entry's VxQuant and the vec_bytes of its codes (vxcodec.h:
 * a byte per dimension, or a bit column's bits; IvfpqFlatBytes)
 */
int
IvfpqCodeBytes(int m, int nbits, int vec_bytes)
{
	/* even, so that the TID after it is 2-byte aligned, as ItemPointerData needs */
	if (nbits == IVFPQ_NBITS_FLAT)
		return (int) sizeof(VxQuant) + (int) TYPEALIGN(2, vec_bytes);
	return nbits == 4 ? m * 16 : m * VX_PQ8_BLOCK;
}

/* a block's codes and TIDs; IVFFlat entries padded to keep VxQuant aligned */
int
IvfpqBlockBytes(int m, int nbits, int vec_bytes)
{
	int			bytes = IvfpqCodeBytes(m, nbits, vec_bytes) + IvfpqBlockSize(nbits) * (int) sizeof(ItemPointerData);

	return nbits == IVFPQ_NBITS_FLAT ? (int) TYPEALIGN(sizeof(float4), bytes) : bytes;
}

/* IVFFlat: the bytes of a vector's codes (bit columns, Hamming: their bits) */
int
IvfpqFlatBytes(int dims, int metric)
{
	return metric == VX_METRIC_HAMMING ? (dims + 7) / 8 : dims;
}

/* bytes of one entry's code as the build and inserts hand it over */
int
IvfpqEntryCodeLen(const IvfpqMetaPageData *meta)
{
	return meta->nbits == IVFPQ_NBITS_FLAT ?
		(int) sizeof(VxQuant) + IvfpqFlatBytes(meta->dims, meta->metric) : meta->m;
}

int
IvfpqPageCapacity(const IvfpqMetaPageData *meta)
{
	return meta->blocks_per_page * meta->block;
}

/* ---------------------------------------------------------------- entries */

static inline char *
BlockOf(char *data, const IvfpqMetaPageData *meta, int entry)
{
	return data + (Size) (entry / meta->block) * meta->block_bytes;
}

void
IvfpqPutEntry(char *data, const IvfpqMetaPageData *meta, int code_bytes, int entry,
			  const uint8 *code, ItemPointer tid)
{
	char	   *blk = BlockOf(data, meta, entry);
	int			slot = entry % meta->block;

	if (meta->nbits == IVFPQ_NBITS_FLAT)
	{
		int			len = IvfpqEntryCodeLen(meta);

		memcpy(blk, code, len);
		memset(blk + len, 0, code_bytes - len);	/* the padding */
	}
	else if (meta->nbits == 8)
	{
		for (int j = 0; j < meta->m; j++)
			((uint8 *) blk)[j * VX_PQ8_BLOCK + slot] = code[j];
	}
	else
	{
		for (int j = 0; j < meta->m; j++)
		{
			uint8	   *b = (uint8 *) blk + j * 16 + (slot & 15);

			if (slot < 16)
				*b = (*b & 0xF0) | (code[j] & 0x0F);
			else
				*b = (*b & 0x0F) | (uint8) (code[j] << 4);
		}
	}
	memcpy(blk + code_bytes + slot * sizeof(ItemPointerData), tid, sizeof(ItemPointerData));
}

ItemPointer
IvfpqEntryTid(char *data, const IvfpqMetaPageData *meta, int code_bytes, int entry)
{
	return (ItemPointer) (BlockOf(data, meta, entry) + code_bytes +
						  (entry % meta->block) * sizeof(ItemPointerData));
}

static void
GetCode(char *data, const IvfpqMetaPageData *meta, int entry, uint8 *code)
{
	char	   *blk = BlockOf(data, meta, entry);
	int			slot = entry % meta->block;

	for (int j = 0; j < meta->m; j++)
	{
		if (meta->nbits == 8)
			code[j] = ((uint8 *) blk)[j * VX_PQ8_BLOCK + slot];
		else
		{
			uint8		b = ((uint8 *) blk)[j * 16 + (slot & 15)];

			code[j] = slot < 16 ? (b & 0x0F) : (b >> 4);
		}
	}
}

void
IvfpqMoveEntry(char *data, const IvfpqMetaPageData *meta, int code_bytes, int from, int to)
{
	uint8		code[IVFPQ_MAX_M];
	ItemPointerData tid;

	/* an IVFFlat entry is its own block */
	if (meta->nbits == IVFPQ_NBITS_FLAT)
	{
		memmove(BlockOf(data, meta, to), BlockOf(data, meta, from), meta->block_bytes);
		return;
	}
	tid = *IvfpqEntryTid(data, meta, code_bytes, from);
	GetCode(data, meta, from, code);
	IvfpqPutEntry(data, meta, code_bytes, to, code, &tid);
}

/* ---------------------------------------------------------------- pages */

void
IvfpqInitPage(Page page, uint8 kind)
{
	IvfpqPageOpaque opaque;

	VxInitPage(page, &IvfpqPageFormat);
	opaque = IvfpqPageGetOpaque(page);
	opaque->next = InvalidBlockNumber;
	opaque->kind = kind;
	/* generic WAL keeps only what lies below pd_lower or above pd_upper */
	((PageHeader) page)->pd_lower = MAXALIGN(SizeOfPageHeaderData) + IVFPQ_DATA_SIZE;
}

BlockNumber
IvfpqDirectoryBlock(const IvfpqMetaPageData *meta, int list, int *slot)
{
	*slot = list % IVFPQ_LISTS_PER_PAGE;
	return meta->directory_start + list / IVFPQ_LISTS_PER_PAGE;
}

/* the directory entry of list (share-locks the directory page) */
IvfpqListData
IvfpqReadDirectory(Relation index, const IvfpqMetaPageData *meta, int list,
				   BufferAccessStrategy strategy, BlockNumber *nblocks)
{
	int			slot;
	BlockNumber dirblk = IvfpqDirectoryBlock(meta, list, &slot);
	Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, dirblk, RBM_NORMAL, strategy);
	IvfpqListData entry;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	IvfpqCheckPage(index, buf, IVFPQ_DIRECTORY);
	entry = ((IvfpqListData *) IvfpqPageData(BufferGetPage(buf)))[slot];
	UnlockReleaseBuffer(buf);
	IvfpqCheckListBlock(index, meta, dirblk, entry.head, nblocks);
	IvfpqCheckListBlock(index, meta, dirblk, entry.insert, nblocks);
	return entry;
}

/* ---------------------------------------------------------------- guards */

/* a page of this index, of the kind the caller expects */
void
IvfpqCheckPage(Relation index, Buffer buf, uint8 kind)
{
	VxCheckPage(index, buf, &IvfpqPageFormat);
	if (IvfpqPageGetOpaque(BufferGetPage(buf))->kind != kind)
		IvfpqCorrupt(index, BufferGetBlockNumber(buf), "a page of the wrong kind");
}

/*
 * A list page's link (or a directory entry) must be invalid or a block at
 * or past data_start within the index (C3); *nblocks is refreshed before
 * answering no, since inserts extend the index concurrently.
 */
bool
IvfpqListBlockValid(Relation index, const IvfpqMetaPageData *meta, BlockNumber blkno,
					BlockNumber *nblocks)
{
	if (!BlockNumberIsValid(blkno))
		return true;
	if (blkno >= meta->data_start && blkno < *nblocks)
		return true;
	*nblocks = RelationGetNumberOfBlocks(index);
	return blkno >= meta->data_start && blkno < *nblocks;
}

/* the same as a guard: fails naming the block holding the link */
void
IvfpqCheckListBlock(Relation index, const IvfpqMetaPageData *meta, BlockNumber from,
					BlockNumber blkno, BlockNumber *nblocks)
{
	if (!IvfpqListBlockValid(index, meta, blkno, nblocks))
		IvfpqCorrupt(index, from, "a list link points outside the list pages");
}

/*
 * A list page, share- or exclusive-locked: its kind, its entry count
 * within the page's capacity, its link; steps counts the pages walked
 * so far, and a chain longer than the index has pages must cycle.
 */
void
IvfpqCheckListPage(Relation index, const IvfpqMetaPageData *meta, Buffer buf,
				   BlockNumber *nblocks, uint32 steps)
{
	BlockNumber blkno = BufferGetBlockNumber(buf);
	IvfpqPageOpaque op;

	/* the special space only once the page is known to have ours (C1) */
	IvfpqCheckPage(index, buf, IVFPQ_LIST);
	op = IvfpqPageGetOpaque(BufferGetPage(buf));
	if (op->count > IvfpqPageCapacity(meta))
		IvfpqCorrupt(index, blkno, "a list page holds more entries than fit");
	IvfpqCheckListBlock(index, meta, blkno, op->next, nblocks);
	if (steps > *nblocks)
		IvfpqCorrupt(index, blkno, "a list's chain of pages cycles");
}

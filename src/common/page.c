/*-------------------------------------------------------------------------
 *
 * page.c
 *	  Page helpers both index access methods share (page.h): the checks
 *	  behind VxCheckPage and VxCheckMetaPage, reading the meta page, page
 *	  initialisation with the page id, extending the relation in the one
 *	  lock order, and writing an unlogged index's INIT fork.  Called by
 *	  the meta-page, page and build files of src/hnsw and src/ivfpq.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xloginsert.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"

#include "page.h"
#include "vxindex.h"

StaticAssertDecl(VX_PAGE_ID_HNSW != VX_PAGE_ID_IVFPQ, "the AMs' page ids must differ");
StaticAssertDecl(VX_PAGE_ID_HNSW > 0xFF83 && VX_PAGE_ID_IVFPQ > 0xFF83,
				 "page ids must differ from PostgreSQL's");
StaticAssertDecl(sizeof(VxMetaHead) == 8, "magic and version take 8 bytes");

/* the error of VxCheckPage, out of line */
void
VxPageNotOurs(Relation index, Buffer buf, const char *amname)
{
	VxIndexCorrupt(index, BufferGetBlockNumber(buf), psprintf("not an %s page", amname));
}

/*
 * The meta page's common part (page.h, META PAGE); buf is locked.
 * meta_size: the AM's meta struct, which must lie below pd_lower.
 */
void
VxCheckMetaPage(Relation index, Buffer buf, const VxPageFormat *fmt, Size meta_size)
{
	Page		page = BufferGetPage(buf);
	const VxMetaHead *head = (const VxMetaHead *) PageGetContents(page);
	Size		need = MAXALIGN(SizeOfPageHeaderData) + meta_size;

	if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(fmt->special_size))
		VxPageNotOurs(index, buf, fmt->amname);
	if (head->magic != fmt->magic || head->version != fmt->version)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not an %s index of this format",
						RelationGetRelationName(index), fmt->amname),
				 errdetail("Meta page has magic 0x%08X and version %u, expected 0x%08X and %u.",
						   head->magic, head->version, fmt->magic, fmt->version),
				 errhint("REINDEX the index.")));
	if (VxPageGetId(page) != fmt->page_id)
		VxPageNotOurs(index, buf, fmt->amname);
	if (((PageHeader) page)->pd_lower < need)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has a meta page of %u bytes, this version needs %zu",
						RelationGetRelationName(index), ((PageHeader) page)->pd_lower, need),
				 errhint("REINDEX the index.")));
}

/*
 * Copy the meta page's data (meta_size bytes) to out, under a shared
 * lock, after check (the AM's whole meta-page check) passed.
 */
void
VxReadMetaPage(Relation index, void (*check) (Relation index, Buffer buf), void *out,
			   Size meta_size)
{
	Buffer		buf = ReadBuffer(index, VX_META_BLKNO);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	check(index, buf);
	memcpy(out, PageGetContents(BufferGetPage(buf)), meta_size);
	UnlockReleaseBuffer(buf);
}

/* an empty page of this AM: the opaque struct zeroed but for the page id */
void
VxInitPage(Page page, const VxPageFormat *fmt)
{
	PageInit(page, BLCKSZ, fmt->special_size);
	VxPageGetId(page) = fmt->page_id;
}

/*
 * Append a page to the main fork; returns its buffer pinned and
 * exclusively locked, the page all zeros (the caller initialises it in
 * its first WAL record, as a full image).  Lock order: page.h.
 */
Buffer
VxNewBuffer(Relation index)
{
	Buffer		buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/*
 * The INIT fork of an unlogged index (ambuildempty): pages[i] becomes
 * block i.  Written through smgr, WAL-logged whole (an unlogged index's
 * INIT fork is logged like a permanent relation, so that recovery and
 * standbys can reset the main fork from it), then synced, since no
 * checkpoint knows of these writes.
 */
void
VxWriteInitFork(Relation index, Page *pages, int npages)
{
	for (int i = 0; i < npages; i++)
	{
		PageSetChecksumInplace(pages[i], i);
		smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, i, pages[i], true);
		log_newpage(&RelationGetSmgr(index)->smgr_rnode.node, INIT_FORKNUM, i, pages[i], true);
	}
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
}

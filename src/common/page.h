/*-------------------------------------------------------------------------
 *
 * page.h
 *	  Page conventions both index access methods share (page.c): the page
 *	  id in the last two bytes of the special space, the page and meta-page
 *	  checks, page initialisation, extending the relation, and the INIT
 *	  fork of an unlogged index.  Called by src/hnsw and src/ivfpq; their
 *	  headers hold the layouts, this one the rules every layout keeps.
 *
 * EVERY PAGE
 *	A standard page (PageInit) whose special space is exactly the AM's
 *	opaque struct, MAXALIGNed, ending in a uint16 page id, so that the
 *	last two bytes of every page name its AM (as PostgreSQL's own AMs do,
 *	for pg_filedump and for our checks).  VX_STATIC_ASSERT_SPECIAL holds
 *	each opaque struct to that.  The ids are distinct from each other and
 *	from PostgreSQL's (its AMs use 0xFF80-0xFF83).
 *	Every read checks page id and special size first (VxCheckPage), so a
 *	zeroed page or one of the other AM is never taken for ours.
 *
 * META PAGE
 *	Block 0 of both AMs.  Its data area starts with VxMetaHead (magic,
 *	format version), then the AM's fields; all of it lies below pd_lower,
 *	or generic WAL would zero it (wal.h, the hole).  VxCheckMetaPage
 *	checks, in this order, the special size, magic and version (so an
 *	index of an older format gets "not of this format", which says
 *	REINDEX), the page id, and pd_lower; the AM then checks its fields.
 *
 * EXTENDING THE RELATION (VxNewBuffer)
 *	Lock order: the relation extension lock, then the new buffer's
 *	content lock (exclusive), then the extension lock is released; the
 *	caller gets the new page locked.  The content lock is taken before the
 *	extension lock is released because the page exists, all zeros, from
 *	the moment the relation grows: a backend that then reads the
 *	relation's size (HNSW checks block numbers against it and refreshes
 *	it, IVF-PQ's link checks do the same) can read the new block, and
 *	must wait on its content lock until the extender has initialised it,
 *	not find a page that fails VxCheckPage.  PostgreSQL's bloom and
 *	nbtree extend in the same order.  A caller may hold content locks
 *	of other pages while it extends (HNSW the meta page, IVF-PQ the
 *	chain's last page): nobody waits for the extension lock while holding
 *	a lock the extender then needs, since the new page's content lock is
 *	the only one taken under it.  Unlike bloom and nbtree we take the
 *	extension lock also for a relation created in this transaction: it
 *	costs nothing next to the page write that follows.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_PAGE_H
#define VECTORX_PAGE_H

#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/rel.h"

/* page ids: the last two bytes of every page of our indexes */
#define VX_PAGE_ID_HNSW		0xFF91
#define VX_PAGE_ID_IVFPQ	0xFF92

/* both AMs keep their meta page in block 0 */
#define VX_META_BLKNO		0

#define VxPageGetId(page)	(*(uint16 *) ((char *) (page) + BLCKSZ - sizeof(uint16)))

/*
 * An opaque struct is the whole special space and ends in its page id:
 * its size is already MAXALIGNed and page_id is its last field.
 */
#define VX_STATIC_ASSERT_SPECIAL(type) \
	StaticAssertDecl(sizeof(type) == MAXALIGN(sizeof(type)) && \
					 offsetof(type, page_id) == sizeof(type) - sizeof(uint16), \
					 #type " must fill the special space and end in the page id")

/* what a page of one AM looks like, for the checks below */
typedef struct VxPageFormat
{
	const char *amname;			/* "HNSW", "IVF-PQ": in error messages */
	uint16		page_id;		/* VX_PAGE_ID_* */
	uint16		special_size;	/* sizeof the opaque struct */
	uint32		magic;			/* of the meta page */
	uint32		version;		/* format version in the meta page */
} VxPageFormat;

/* the first 8 bytes of both meta pages' data */
typedef struct VxMetaHead
{
	uint32		magic;
	uint32		version;
} VxMetaHead;

extern void VxPageNotOurs(Relation index, Buffer buf, const char *amname) pg_attribute_noreturn();

static inline bool
VxPageIsOurs(Page page, const VxPageFormat *fmt)
{
	return !PageIsNew(page) &&
		PageGetSpecialSize(page) == MAXALIGN(fmt->special_size) &&
		VxPageGetId(page) == fmt->page_id;
}

/* a page of this AM (raises ERRCODE_INDEX_CORRUPTED otherwise) */
static inline void
VxCheckPage(Relation index, Buffer buf, const VxPageFormat *fmt)
{
	if (unlikely(!VxPageIsOurs(BufferGetPage(buf), fmt)))
		VxPageNotOurs(index, buf, fmt->amname);
}

extern void VxCheckMetaPage(Relation index, Buffer buf, const VxPageFormat *fmt, Size meta_size);
extern void VxReadMetaPage(Relation index, void (*check) (Relation index, Buffer buf),
						   void *out, Size meta_size);
extern void VxInitPage(Page page, const VxPageFormat *fmt);
extern Buffer VxNewBuffer(Relation index);
extern void VxWriteInitFork(Relation index, Page *pages, int npages);

#endif							/* VECTORX_PAGE_H */

/*-------------------------------------------------------------------------
 *
 * wal.c
 *	  The generic-WAL wrapper of both index access methods and the bulk
 *	  logging of a finished build; wal.h says what one record covers.
 *	  Called by every file of src/hnsw and src/ivfpq that changes a page.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xloginsert.h"

#include "wal.h"

/*
 * The index whose build is writing in place (wal.h, THE BUILDS).  One per
 * backend: a backend builds one index at a time.
 */
static RelFileNode building_node;
static bool building = false;

/* an error during the build must not leave later writes unlogged */
static void
BuildWritesXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		building = false;
}

static void
BuildWritesSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
						   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		building = false;
}

void
VxBeginBuildWrites(Relation index)
{
	static bool registered = false;

	if (!registered)
	{
		RegisterXactCallback(BuildWritesXactCallback, NULL);
		RegisterSubXactCallback(BuildWritesSubXactCallback, NULL);
		registered = true;
	}
	building_node = index->rd_node;
	building = true;
}

/* leave the in-place mode; log every page now if log (and the index needs WAL) */
void
VxEndBuildWrites(Relation index, bool log)
{
	building = false;
	if (log)
		VxLogWholeIndex(index);
}

/* full images of every page of the main fork, at the end of a build */
void
VxLogWholeIndex(Relation index)
{
	if (RelationNeedsWAL(index))
		log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);
}

void
VxPageWriteBegin(VxPageWrite *w, Relation index)
{
	w->index = index;
	w->unlogged = building && RelFileNodeEquals(index->rd_node, building_node);
	w->state = w->unlogged ? NULL : GenericXLogStart(index);
	w->nbuffers = 0;
}

/* buf: pinned and exclusively locked; returns the page to change */
Page
VxPageWriteAdd(VxPageWrite *w, Buffer buf, bool fresh)
{
	Page		page;

	if (w->nbuffers == MAX_GENERIC_XLOG_PAGES)
		elog(ERROR, "too many pages in one WAL record of index \"%s\"",
			 RelationGetRelationName(w->index));
	if (w->unlogged)
		page = BufferGetPage(buf);
	else
		page = GenericXLogRegisterBuffer(w->state, buf, fresh ? GENERIC_XLOG_FULL_IMAGE : 0);
	w->buffers[w->nbuffers++] = buf;
	return page;
}

/* write the record (or, unlogged, mark dirty), then unlock and release every page */
void
VxPageWriteFinish(VxPageWrite *w)
{
	if (w->unlogged)
	{
		for (int i = 0; i < w->nbuffers; i++)
			MarkBufferDirty(w->buffers[i]);
	}
	else
		GenericXLogFinish(w->state);
	for (int i = 0; i < w->nbuffers; i++)
		UnlockReleaseBuffer(w->buffers[i]);
	w->nbuffers = 0;
}

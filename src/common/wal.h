/*-------------------------------------------------------------------------
 *
 * wal.h
 *	  The one WAL wrapper of both index access methods (wal.c): every
 *	  change to a page of an existing HNSW or IVF-PQ index goes through
 *	  VxPageWriteBegin / VxPageWriteAdd / VxPageWriteFinish, and the builds
 *	  log their pages in bulk.  The AMs' headers (hnsw.h and ivfpq.h, WAL)
 *	  say which pages each of their records holds and what a crash
 *	  between two records can leave; this file says what a record is.
 *
 * ONE RECORD
 *	Begin, then Add each page to change (its buffer pinned and locked
 *	exclusively by the caller, at most MAX_GENERIC_XLOG_PAGES = 4 pages),
 *	change the pages Add returned (never the buffers' own pages), and
 *	Finish: one generic WAL record (access/generic_xlog.h) that replays
 *	all of its pages or none, so a change of up to four pages is atomic.
 *	Finish also marks the buffers dirty and unlocks and releases them all.
 *	A change of more pages is a sequence of records; the AMs order them so
 *	that the index is valid after each one.
 *
 *	Full image or delta: VxPageWriteAdd(w, buf, fresh).  fresh = true logs
 *	the whole page (GENERIC_XLOG_FULL_IMAGE): for a page just initialised
 *	or taken over, whose old bytes mean nothing and would only make the
 *	delta larger.  fresh = false logs the bytes that differ from the page
 *	as it was at Add (generic WAL compares the two in fragments): the
 *	normal case, a few dozen bytes for a changed neighbour list or entry.
 *
 *	The hole: generic WAL treats the bytes between pd_lower and pd_upper
 *	as unused.  It keeps them out of the record and Finish zeroes them in
 *	the buffer itself, so every byte an AM keeps must lie below pd_lower
 *	(HNSW raises pd_lower as its stream fills a page; IVF-PQ sets it past
 *	the whole data area when it initialises a page) or in the special
 *	space above pd_upper.
 *
 * TEMPORARY AND UNLOGGED INDEXES
 *	For a relation that needs no WAL (temporary, or the main fork of an
 *	unlogged index; RelationNeedsWAL false) generic WAL applies the
 *	changes and marks the buffers dirty without writing a record: the same
 *	calls serve every relation.  An unlogged index's main fork is reset
 *	from its INIT fork after a crash; the INIT fork itself is always
 *	logged (VxWriteInitFork, page.h), so recovery and standbys have it.
 *
 * THE BUILDS
 *	A build writes no per-change WAL: nobody can see the index before the
 *	building transaction commits, and a crash before then drops it.  The
 *	pages are logged once, whole, at the end: IVF-PQ writes through shared
 *	buffers and logs every page with VxLogWholeIndex (log_newpage_range);
 *	HNSW writes its arena through smgr, logging batches with log_newpages
 *	as nbtree's sorted build does (hnswbuild.c).  HNSW's build also inserts
 *	the rows its memory could not hold with the same code as aminsert:
 *	between VxBeginBuildWrites and VxEndBuildWrites, Begin/Add/Finish on
 *	that index change pages in place without WAL (only marking them
 *	dirty), and VxEndBuildWrites logs the whole index once.  An error
 *	(abort of the transaction or subtransaction) leaves that mode, so a
 *	failed build never leaves later writes unlogged.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_WAL_H
#define VECTORX_WAL_H

#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

/* one record being assembled: Begin, up to 4 Adds, Finish */
typedef struct VxPageWrite
{
	Relation	index;
	bool		unlogged;		/* inside Vx{Begin,End}BuildWrites: in place, no WAL */
	GenericXLogState *state;	/* NULL when unlogged */
	Buffer		buffers[MAX_GENERIC_XLOG_PAGES];	/* released by Finish */
	int			nbuffers;		/* pages added so far */
} VxPageWrite;

extern void VxPageWriteBegin(VxPageWrite *w, Relation index);
extern Page VxPageWriteAdd(VxPageWrite *w, Buffer buf, bool fresh);
extern void VxPageWriteFinish(VxPageWrite *w);

extern void VxBeginBuildWrites(Relation index);
extern void VxEndBuildWrites(Relation index, bool log);
extern void VxLogWholeIndex(Relation index);

#endif							/* VECTORX_WAL_H */

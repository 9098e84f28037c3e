/*-------------------------------------------------------------------------
 *
 * waitpoint.c
 *	  The named pauses of waitpoint.h and the setting that arms them.
 *
 * THE POINTS (each where its backend holds no buffer content lock)
 *	hnsw_insert_neighbors	an insert has chosen its neighbours, before it
 *							allocates and publishes its element
 *	hnsw_insert_reserved	an insert has allocated (maybe reused) its
 *							record, RESERVED, before it writes it
 *	hnsw_prune_apply		a list change (an insert's back-link, vacuum's
 *							repair) computed the new list, before it
 *							applies it (hnsw.h, L5)
 *	hnsw_vacuum_repair		VACUUM flagged elements DELETED (V1) and waited
 *							for running inserts (L6), before it repairs (V2)
 *	hnsw_vacuum_free		VACUUM repaired, before it frees (V3)
 *	hnsw_scan_search		a scan read the entry point, before it searches
 *	ivfpq_insert_page		an insert read its list's insert page from the
 *							directory, before it locks that page
 *	ivfpq_vacuum_list		VACUUM is about to walk a list
 *	ivfpq_scan_page			a scan read a page of a list, before the next
 *	build_scanned			a serial CREATE INDEX (either access method)
 *							read the table, before it writes the index
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/guc.h"

#include "waitpoint.h"

char	   *vx_debug_wait_point = NULL;

/*
 * Wait while another session holds pg_advisory_lock(hashtext(point)), if
 * this backend's setting names point.
 */
void
VxWaitPointAt(const char *point)
{
	int64		key;
	LOCKTAG		tag;

	if (strcmp(vx_debug_wait_point, point) != 0)
		return;
	if (CritSectionCount > 0 || InterruptHoldoffCount > 0)
		elog(ERROR, "wait point \"%s\" reached while holding a lightweight lock", point);
	/* hashtext() of the name, widened as pg_advisory_lock(bigint) takes it */
	key = (int32) hash_bytes((const unsigned char *) point, strlen(point));
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (key >> 32), (uint32) key, 1);
	(void) LockAcquire(&tag, ShareLock, false, false);
	LockRelease(&tag, ShareLock, false);
}

void
VxWaitPointInit(void)
{
	DefineCustomStringVariable("vectorx.debug_wait_point",
							   "Stops index code at the named point while pg_advisory_lock(hashtext(name)) is held elsewhere.",
							   "For the isolation tests (src/common/waitpoint.h); empty (the default) stops nowhere.",
							   &vx_debug_wait_point,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);
}

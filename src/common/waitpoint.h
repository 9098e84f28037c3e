/*-------------------------------------------------------------------------
 *
 * waitpoint.h
 *	  Named pauses in the index code, for the isolation specs
 *	  (test/isolation): a race between two backends is made to happen
 *	  every time by stopping one of them at a chosen point.
 *
 *	A backend whose vectorx.debug_wait_point (superuser only) names a
 *	point stops there until no other session holds the advisory lock
 *	pg_advisory_lock(hashtext('<point>')): it takes and drops that lock
 *	in share mode.  The isolation tester sees the wait as a lock wait, so
 *	a spec runs
 *
 *	  ctl:  SELECT pg_advisory_lock(hashtext('hnsw_vacuum_free'));
 *	  vac:  SET vectorx.debug_wait_point = 'hnsw_vacuum_free'; VACUUM t;
 *	        (waits at the point)
 *	  s3:   the racing statement
 *	  ctl:  SELECT pg_advisory_unlock(hashtext('hnsw_vacuum_free'));
 *
 *	With the setting empty (the default) a point costs one test of a
 *	pointer.  A point is placed where its backend holds no buffer content
 *	lock and is in no critical section (VxWaitPoint raises an ERROR
 *	otherwise: a backend waiting on a heavyweight lock while it holds an
 *	LWLock could stall others without the deadlock detector seeing it).
 *	The points are listed in waitpoint.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_WAITPOINT_H
#define VECTORX_WAITPOINT_H

extern char *vx_debug_wait_point;

extern void VxWaitPointAt(const char *point);
extern void VxWaitPointInit(void);

#define VX_WAIT_POINT(point) \
	do { \
		if (unlikely(vx_debug_wait_point != NULL && vx_debug_wait_point[0] != '\0')) \
			VxWaitPointAt(point); \
	} while (0)

#endif							/* VECTORX_WAITPOINT_H */

/*-------------------------------------------------------------------------
 *
 * monitor.h
 *	  What vectorx tells a DBA about its indexes from inside the database
 *	  (monitor.c): vectorx_index_stats, vectorx_recall and its variants,
 *	  reading back the sampled query vectors, and who may call what.  The
 *	  access methods do not call into it: what they share with it lives
 *	  below both, in src/common (inspect.h, querysample.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_MONITOR_H
#define VECTORX_MONITOR_H

extern void VxMonitorInit(void);

#endif

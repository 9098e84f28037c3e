/*-------------------------------------------------------------------------
 *
 * indexkind.h
 *	  What each vectorx access method exports to the layers above it: one
 *	  VxIndexKind, the operations the monitor, the filter planner and the
 *	  checks need, so that none of them pokes at an access method's
 *	  internals or tells the two apart by hand.  Each access method defines
 *	  its instance in its own directory (hnswam.c: hnsw_index_kind,
 *	  ivfpqam.c: ivfpq_index_kind); the registry above them (src/registry.c) says
 *	  whether a relation, an index path or a scan is one of ours, and which.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VECTORX_INDEXKIND_H
#define VECTORX_INDEXKIND_H

#include <math.h>

#include "access/amapi.h"
#include "access/genam.h"

#include "inspect.h"
#include "scan.h"

/*
 * An ordered scan of the index as the filter planner costs it
 * (src/planner/filter.h, FILTER COSTS), in PostgreSQL cost units.  The
 * access method knows its own work per element; what a heap fetch or an
 * allow-list probe costs is the planner's.
 */
typedef struct VxScanModel
{
	int			dims;			/* vector dimensions (what an exact distance costs:
								 * bit columns count 64 bits as one) */
	double		first;			/* elements the first round visits (at most
								 * the table's rows) */
	double		fanout;			/* elements visited per further returned one */
	double		c_visit;		/* one element's approximate distance */
	bool		reranks;		/* candidates are re-ranked from the heap */
	double		rerank;			/* if so, how many the first round re-ranks */
	double		filter_exponent;	/* an allow-list admitting a fraction f
									 * multiplies the first round's visits by
									 * f^-filter_exponent: 1 when the search
									 * passes disallowed elements by (HNSW),
									 * 0.5 when it probes more lists (IVF-PQ) */
} VxScanModel;

/* the first round's visits under an allow-list admitting a fraction sb */
static inline double
VxFilteredVisits(const VxScanModel *model, double sb)
{
	/* the two exponents in use, exactly (pow() may round differently) */
	if (model->filter_exponent == 1.0)
		return model->first / sb;
	if (model->filter_exponent == 0.5)
		return model->first / sqrt(sb);
	return model->first / pow(sb, model->filter_exponent);
}

typedef struct VxIndexKind
{
	const char *handler;		/* its handler function: "hnswhandler" */

	/*
	 * Identity, as PostgreSQL's structures hold the access method's
	 * routine: a relcache entry's rd_indam->ambuild, an IndexOptInfo's
	 * amcostestimate.
	 */
	ambuild_function ambuild;
	amcostestimate_function amcostestimate;

	/* the rows of vectorx_index_stats (the caller opened the index) */
	void		(*stats) (Relation index, VxStatsSink *sink);

	/* the VxScanControl of a scan of this kind (scan.h), counts up to date */
	VxScanControl *(*scan_control) (IndexScanDesc scan);

	/*
	 * The filter planner's model of an ordered scan over `tuples` rows
	 * wanting `k` of them, under the current settings; the same figures the
	 * access method's amcostestimate works from.  The planner holds a lock
	 * on the index.
	 */
	void		(*scan_model) (Relation index, double tuples, double k, VxScanModel *model);
} VxIndexKind;

#endif							/* VECTORX_INDEXKIND_H */

/*-------------------------------------------------------------------------
 *
 * shard.h
 *	  Sharded k-NN on postgres_fdw: how vectorx runs
 *	    SELECT ... FROM items ORDER BY embedding <op> $1 LIMIT k
 *	  when items is a partitioned table whose partitions are postgres_fdw
 *	  foreign tables on shard servers.  The code is in shard.c.
 *
 * THE LAYOUT (standard DDL, written by hand or by a helper)
 *	The coordinator holds the partitioned table; each partition is a
 *	foreign table (FOREIGN DATA WRAPPER postgres_fdw) on a server whose
 *	options include extensions 'vectorx' (so that the distance operator
 *	may be shipped) and, for concurrent fan-out, async_capable 'true'.
 *	Each shard holds an ordinary table with its own vectorx index.
 *
 * WHAT POSTGRESQL 15 DOES ALONE
 *	It plans the query as Limit over a Merge Append of the foreign scans,
 *	each shipping "... ORDER BY embedding <op> q" with no LIMIT:
 *	  - postgres_fdw deparses a LIMIT only for a foreign table that is the
 *		query's whole FROM (add_foreign_final_paths in
 *		contrib/postgres_fdw/postgres_fdw.c: the final upper relation of a
 *		foreign relation), never for partitions under an Append;
 *	  - Merge Append has no asynchronous execution: only Append's children
 *		run asynchronously (create_append_plan and mark_async_capable_plan
 *		in src/backend/optimizer/plan/createplan.c, which consider async
 *		only for an Append without pathkeys), so the shards are opened one
 *		after another;
 *	  - every shard's cursor streams in batches of fetch_size rows, so a
 *		shard sends up to fetch_size rows where k would do.
 *
 * THE REWRITE (a planner_hook, after standard planning)
 *	For every Limit whose child is a Merge Append, with a count known when
 *	the query starts (a constant, or an expression of the query's
 *	parameters: prepared statements and generic plans) and no WITH TIES:
 *	  Limit (count, offset)                 Limit (count, offset)
 *	    Merge Append (sort keys)      ==>     Sort (the same keys)
 *	      Foreign Scan (ORDER BY d)             Append
 *	      child                                   [Async] Foreign Scan
 *	                                                (ORDER BY d LIMIT b)
 *	                                              Limit (b)
 *	                                                child
 *	with b = count + offset.  A postgres_fdw child that ships its ORDER BY
 *	and has no local filter gets "LIMIT b" appended to its remote SQL (b a
 *	number, or one more remote parameter evaluated when the scan starts)
 *	and runs asynchronously when its table's or server's async_capable
 *	option allows it and enable_async_append is on.  Every other child
 *	(a local partition, a foreign scan with a filter that cannot be
 *	shipped, or one that does not ship the ORDER BY) is wrapped in a local
 *	Limit b, which draws rows until b have passed its filter.
 *
 *	Why it is exact: every child yields its rows in the query's order, so
 *	the query's first b rows are among the union of each child's first b
 *	rows; the Sort orders that union by the distance computed on the
 *	coordinator and the Limit on top applies the offset and count.  The
 *	Sort also makes the answer independent of small differences between
 *	the shards' and the coordinator's floating-point kernels, which a Merge
 *	Append would trust.
 *
 *	Not rewritten: statements with row marks (FOR UPDATE/SHARE), counts
 *	that depend on the rows (a correlated subquery) or are volatile,
 *	LIMIT ALL, WITH TIES, and Merge Appends with no postgres_fdw child
 *	that could take the LIMIT.  vectorx.shard_pushdown = off leaves every
 *	plan as PostgreSQL made it.
 *
 * SHARDS DOWN OR SLOW
 *	postgres_fdw's errors name the server ("could not connect to server
 *	"shard2""); statement_timeout bounds a slow shard.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VX_SHARD_H
#define VX_SHARD_H

#include "utils/rel.h"

extern bool vx_shard_pushdown;
extern int	vx_shard_probes;

/* shard.c */
extern void VxShardInit(void);

/* shardroute.c */
extern void VxShardRouteInit(void);
extern char *VxShardRoutingOf(Relation rel, AttrNumber *attno);
extern Oid	VxExtensionSchema(void);

#endif							/* VX_SHARD_H */

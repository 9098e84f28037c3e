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
 *	the query starts (a constant, or an immutable expression of the query's
 *	parameters: prepared statements and generic plans), no WITH TIES, and
 *	a constant LIMIT + OFFSET of at most 100000 (SHARD_MAX_BOUND; past it
 *	the streaming Merge Append, which starts fast, is left alone):
 *	  Limit (count, offset)                 Limit (count, offset)
 *	    Merge Append (sort keys)      ==>     Sort (the same keys)
 *	      Foreign Scan (ORDER BY d)             Append
 *	      child                                   [Async] Foreign Scan
 *	                                                (ORDER BY d LIMIT b)
 *	                                              Limit (b)
 *	                                                child
 *	with b = count + offset (NULL, no limit, if that overflows).  A Limit
 *	directly over such a foreign scan (a partitioned table left with one
 *	partition: setrefs.c removes a one-child Merge Append) gets the remote
 *	LIMIT alone.  A
 *	postgres_fdw child that ships its ORDER BY
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
 *	coordinator and the Limit on top applies the offset and count.  (A
 *	shard orders by its own floating-point kernels; a row whose distance
 *	differs in the last bits between shard and coordinator may be cut by
 *	the remote LIMIT where the coordinator would have kept it, as a Merge
 *	Append would have trusted the remote order too.)
 *
 *	Not rewritten: statements with row marks (FOR UPDATE/SHARE), counts
 *	that depend on the rows (a correlated subquery) or are volatile,
 *	LIMIT ALL, WITH TIES, and Merge Appends with no postgres_fdw child
 *	that could take the LIMIT.  vectorx.shard_pushdown = off leaves the
 *	plans made from then on as PostgreSQL makes them (no pushdown, no
 *	cluster pruning); like enable_* settings it is read when a plan is
 *	made, so a cached generic plan keeps what it was made with.
 *
 *	The hook only runs in sessions that loaded vectorx before planning:
 *	a query whose only vectorx object is a column of foreign partitions
 *	(the query vector from a subquery, say) plans before anything loads
 *	the library.  The coordinator therefore lists vectorx in
 *	session_preload_libraries (or shared_preload_libraries).
 *
 * CLUSTER SHARDING (shardroute.c)
 *	Hash sharding sends every query to every shard.  Cluster sharding puts
 *	each row on the shard that owns its nearest coarse centroid, so that a
 *	query need only visit the shards owning the centroids nearest to it:
 *	  - a routing: cells centroids trained by vectorx_shard_train from a
 *		sample query's vectors (the IVF-PQ k-means; l2, or cosine on unit
 *		vectors), stored under a name in vectorx_shard_routing, never
 *		changed afterwards (a trigger refuses updates);
 *	  - the table: PARTITION BY LIST (vectorx_shard_cell(col, 'name')),
 *		each partition (foreign or local) listing the cells it owns; a
 *		DEFAULT partition owns every cell no other lists.  INSERT and COPY
 *		through the coordinator compute the key, so rows land on their
 *		shard by PostgreSQL's own tuple routing;
 *	  - the query: when the rewrite above meets a Limit over a Merge Append
 *		(or over a Sort over an Append) of such a table's partitions,
 *		ordered first by a distance between col and a query vector q of the
 *		type vector, it adds run-time pruning steps to the Append: for
 *		r = 1..nparts, key = vectorx_shard_probe(q, 'name', table, r),
 *		which returns a cell of the r-th nearest partition (a partition is
 *		as near as its nearest cell) or NULL past vectorx.shard_probes (0:
 *		no limit); the steps' union is what stays.  PostgreSQL evaluates
 *		them at executor start (q a constant or a parameter: EXPLAIN shows
 *		"Subplans Removed") or per rescan (q from an outer row or an
 *		InitPlan), and never opens a pruned shard: a shard that is down
 *		does not fail the queries that prune it;
 *	  - EXPLAIN (text format, not EXPLAIN EXECUTE: PostgreSQL 15 has no
 *		per-node hook, shard.c explains why) adds a line "Shard Routing"
 *		per pruned Append: the partitions nearest first with their
 *		distances to a constant q, contacted or pruned;
 *	  - vectorx_shard_route(table, q) says which partitions a query
 *		contacts and why (rank, distance to the nearest owned cell);
 *		vectorx_shard_balance counts rows per partition;
 *		vectorx_shard_move_cell moves one cell's rows and bound from one
 *		partition to another in one transaction (through the coordinator;
 *		postgres_fdw commits the shards one after another, not atomically).
 *	vectorx_shard_cell of a text constant is never shipped by postgres_fdw
 *	(a collatable argument not from a foreign column), so shards need not
 *	hold the routing; vectorx_shard_routing_sql copies it to one that
 *	wants to evaluate cells itself.
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
extern Oid	VxExtensionSchema(bool missing_ok);
struct Vector;
extern char *VxShardRouteExplain(Oid parent, const char *routing, const struct Vector *q);

#endif							/* VX_SHARD_H */

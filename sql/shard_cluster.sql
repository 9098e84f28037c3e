-- Cluster sharding on one server (src/planner/shard.h, CLUSTER SHARDING):
-- routings, the partition key vectorx_shard_cell, row routing on INSERT
-- and COPY, run-time pruning of a k-NN query to the vectorx.shard_probes
-- nearest partitions (local partitions here: the same steps serve foreign
-- ones, test/t/082_shard_cluster.pl), inspection, rebalancing, errors and
-- privileges.
SET jit = off;
SET client_min_messages = warning;

-- four well separated clusters of 200 points in 8 dimensions: cluster c
-- around c * 10 in every dimension, plus 5 in dimension c + 1
CREATE TABLE pts AS
SELECT g AS id, g % 4 AS cluster,
       ARRAY(SELECT (g % 4) * 10 + (CASE WHEN d = (g % 4) + 1 THEN 5 ELSE 0 END) + sin(g * d) FROM generate_series(1, 8) d)::vector(8) AS v
FROM generate_series(1, 800) g;

-- bad input
SELECT vectorx_shard_train('bad', 'SELECT v FROM pts', 4, 'hamming');
SELECT vectorx_shard_train('bad', 'SELECT v FROM pts', 0);
SELECT vectorx_shard_train('bad', 'SELECT v FROM pts', 5000);
SELECT vectorx_shard_train('bad', 'SELECT v FROM pts', 4, 'l2', 3);
SELECT vectorx_shard_train('bad', 'SELECT id FROM pts', 4);
SELECT vectorx_shard_train('bad', 'SELECT v FROM pts WHERE id < 3', 4);
SELECT vectorx_shard_train(NULL, 'SELECT v FROM pts', 4);
SELECT vectorx_shard_cell('[1,2]', 'no such routing');

-- train: every cluster its own cell
SELECT vectorx_shard_train('rt', 'SELECT v FROM pts', 4);
SELECT name, metric, dims, cells, sample_rows, sample_counts FROM vectorx_shard_routing;
SELECT count(DISTINCT vectorx_shard_cell(v, 'rt')) AS cells_used,
       count(DISTINCT (cluster, vectorx_shard_cell(v, 'rt'))) AS cluster_cell_pairs FROM pts;
SELECT vectorx_shard_cell('[1,2]', 'rt');
SELECT vectorx_shard_train('rt', 'SELECT v FROM pts', 4);
UPDATE vectorx_shard_routing SET cells = 5 WHERE name = 'rt';

-- a table partitioned by the routing; partitions named after the clusters
-- whose cells they hold, whatever numbers k-means gave the cells
CREATE FUNCTION cell_of(c int) RETURNS int LANGUAGE sql AS
	$$ SELECT vectorx_shard_cell(v, 'rt') FROM pts WHERE cluster = c LIMIT 1 $$;
CREATE TABLE ct (id int, cluster int, v vector(8)) PARTITION BY LIST (vectorx_shard_cell(v, 'rt'));
DO $$ BEGIN
	EXECUTE format('CREATE TABLE ct_01 PARTITION OF ct FOR VALUES IN (%s, %s)', cell_of(0), cell_of(1));
	EXECUTE format('CREATE TABLE ct_2 PARTITION OF ct FOR VALUES IN (%s)', cell_of(2));
	EXECUTE format('CREATE TABLE ct_3 PARTITION OF ct FOR VALUES IN (%s)', cell_of(3));
END $$;
INSERT INTO ct SELECT * FROM pts WHERE id <= 400;
COPY (SELECT * FROM pts WHERE id > 400) TO '/tmp/vx_shard_cluster.copy';
COPY ct FROM '/tmp/vx_shard_cluster.copy';
SELECT tableoid::regclass AS partition, string_agg(DISTINCT cluster::text, ',') AS clusters, count(*)
FROM ct GROUP BY 1 ORDER BY 1;
SELECT partition, cardinality(cells) AS ncells, "rows", round(share::numeric, 3) AS share
FROM vectorx_shard_balance('ct') ORDER BY partition;
CREATE INDEX ON ct USING hnsw (v);
ANALYZE ct;

-- k-NN: the partitions nearest to the query, vectorx.shard_probes of them.
-- The plan's lines, without the aliases (they follow the partitions' bound
-- order, which follows k-means' cell numbers), and a summary: the subplans
-- removed and the partitions scanned.
CREATE FUNCTION plan_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	l text;
BEGIN
	FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		-- the distances in a Shard Routing line depend on the SIMD kernel
		-- in their last digits; the ranks are what this test checks
		RETURN NEXT regexp_replace(regexp_replace(l, '( on \S+) \S+$', '\1'),
								   'distance [^)]+', 'distance d', 'g');
	END LOOP;
END $$;
CREATE FUNCTION scanned(q text) RETURNS text LANGUAGE sql AS $$
	SELECT format('removed %s, scanned %s',
		coalesce(max(substring(l FROM 'Subplans Removed: (\d+)')), '0'),
		string_agg(substring(l FROM 'Scan on (\S+)'), ',' ORDER BY substring(l FROM 'Scan on (\S+)')))
	FROM plan_of(q) l
$$;
SET vectorx.shard_probes = 1;
SELECT plan_of($$SELECT id FROM ct ORDER BY v <-> '[30,30,30,35,30,30,30,30]' LIMIT 5$$);
SELECT rank, partition, cardinality(cells) AS ncells, contacted
FROM vectorx_shard_route('ct', (SELECT v FROM pts WHERE id = 3)) ORDER BY rank;
SET vectorx.shard_probes = 2;
SELECT rank, partition, contacted FROM vectorx_shard_route('ct', (SELECT v FROM pts WHERE id = 3)) ORDER BY rank;
-- EXPLAIN says why: the "Shard Routing" line ranks the partitions for a
-- constant query vector, and says what decides for one known only when
-- the query runs (here from an InitPlan); the structured formats go
-- without it
SELECT l FROM plan_of($$SELECT id FROM ct ORDER BY v <-> '[30,30,30,35,30,30,30,30]' LIMIT 5$$) l WHERE l LIKE 'Shard Routing%';
SELECT l FROM plan_of($$SELECT id FROM ct ORDER BY v <-> (SELECT v FROM pts WHERE id = 3) LIMIT 5$$) l WHERE l LIKE 'Shard Routing%';
DO $$ DECLARE l text; BEGIN
	FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT id FROM ct ORDER BY v <-> $1 LIMIT 5'
		USING '[30,30,30,35,30,30,30,30]'::vector LOOP
		IF l LIKE 'Shard Routing%' THEN
			RAISE WARNING 'a bound parameter: %', regexp_replace(l, 'distance [^)]+', 'distance d', 'g');
		END IF;
	END LOOP;
END $$;
-- a pruning step from the user's own call of vectorx_shard_probe, its
-- routing from a subquery: EXPLAIN without a Shard Routing line (it read
-- the routing argument as a constant, and crashed the server)
SELECT count(*) > 0 AS explained, count(*) FILTER (WHERE l LIKE 'Shard Routing%') AS routing_lines
FROM plan_of($$SELECT id FROM ct WHERE vectorx_shard_cell(v, 'rt') =
	vectorx_shard_probe('[30,30,30,35,30,30,30,30]', (SELECT 'rt'), 'ct', 1)$$) l;
DO $$ DECLARE j json; BEGIN
	EXECUTE $q$EXPLAIN (FORMAT JSON) SELECT id FROM ct ORDER BY v <-> '[30,30,30,35,30,30,30,30]' LIMIT 5$q$ INTO j;
	RAISE WARNING 'JSON plan: %, with a Shard Routing line: %', json_typeof(j), j::text LIKE '%Shard Routing%';
END $$;
SET vectorx.shard_probes = 0;
SELECT scanned($$SELECT id FROM ct ORDER BY v <-> '[30,30,30,35,30,30,30,30]' LIMIT 5$$);
-- the answers: with one probe, those of the nearest cluster, here the exact ones
SET vectorx.shard_probes = 1;
SET hnsw.ef_search = 200;
SELECT q.id, (SELECT array_agg(id ORDER BY v <-> q.v, id) FROM (SELECT id, v FROM ct ORDER BY v <-> q.v LIMIT 5) s)
     = (SELECT array_agg(id ORDER BY v <-> q.v, id) FROM (SELECT id, v FROM pts ORDER BY v <-> q.v LIMIT 5) s) AS exact
FROM pts q WHERE q.id IN (1, 2, 3, 4, 101, 202, 303, 404) ORDER BY q.id;
-- a query between clusters 2 and 3: one probe reads one partition, two
-- read both
SELECT string_agg(DISTINCT cluster::text, ',') FROM (SELECT cluster FROM ct ORDER BY v <-> '[25,25,27.4,27.6,25,25,25,25]' LIMIT 300) s;
SET vectorx.shard_probes = 2;
SELECT string_agg(DISTINCT cluster::text, ',') FROM (SELECT cluster FROM ct ORDER BY v <-> '[25,25,27.4,27.6,25,25,25,25]' LIMIT 300) s;
-- not a k-NN query: nothing is pruned
SET vectorx.shard_probes = 1;
SELECT count(*) FROM (SELECT id FROM ct ORDER BY v <-> '[25,25,27.4,27.6,25,25,25,25]') s;
SELECT count(*) FROM (SELECT id FROM ct ORDER BY v <-> '[25,25,27.4,27.6,25,25,25,25]' LIMIT ALL) s;

-- generic plans: the probes in force when the statement runs
SET plan_cache_mode = force_generic_plan;
PREPARE knn(vector) AS SELECT id FROM ct ORDER BY v <-> $1 LIMIT 5;
SET vectorx.shard_probes = 1;
SELECT scanned($$EXECUTE knn('[30,30,30,35,30,30,30,30]')$$);
SET vectorx.shard_probes = 2;
SELECT scanned($$EXECUTE knn('[30,30,30,35,30,30,30,30]')$$);
SET vectorx.shard_probes = 1;
SELECT scanned($$EXECUTE knn('[0,0,0,0,0,0,0,0]')$$);
SET vectorx.shard_probes = 2;
EXECUTE knn('[30,30,30,35,30,30,30,30]');
DEALLOCATE knn;
RESET plan_cache_mode;
-- a query vector per outer row: pruning per rescan, answers as exact
SET vectorx.shard_probes = 1;
SELECT bool_and(r.ids = e.ids) AS all_exact, count(*) FROM pts q,
	LATERAL (SELECT array_agg(id ORDER BY d, id) AS ids FROM (SELECT id, v <-> q.v AS d FROM ct ORDER BY v <-> q.v LIMIT 3) s) r,
	LATERAL (SELECT array_agg(id ORDER BY d, id) AS ids FROM (SELECT id, v <-> q.v AS d FROM pts ORDER BY v <-> q.v LIMIT 3) s) e
WHERE q.id % 50 = 0;

-- rebalancing: move cluster 1's cell from ct_01 to ct_2
SELECT vectorx_shard_move_cell('ct', cell_of(1), 'ct_2') AS moved;
SELECT tableoid::regclass AS partition, string_agg(DISTINCT cluster::text, ',') AS clusters, count(*)
FROM ct GROUP BY 1 ORDER BY 1;
SELECT partition, cardinality(cells) AS ncells, "rows" FROM vectorx_shard_balance('ct') ORDER BY partition;
SELECT vectorx_shard_move_cell('ct', cell_of(0), 'ct_3');
SELECT vectorx_shard_move_cell('ct', 99, 'ct_3');
SELECT vectorx_shard_move_cell('ct', cell_of(2), 'pts');
SELECT vectorx_shard_move_cell('ct', cell_of(2), 'ct_2') AS moved;
INSERT INTO ct SELECT 1000 + id, cluster, v FROM pts WHERE id <= 8;
SELECT tableoid::regclass AS partition, string_agg(DISTINCT cluster::text, ',') AS clusters, count(*)
FROM ct WHERE id > 1000 GROUP BY 1 ORDER BY 1;

-- inspection of a table that is not routed
SELECT * FROM vectorx_shard_route('pts', '[1,2,3,4,5,6,7,8]');
SELECT * FROM vectorx_shard_route('ct', '[1,2]');

-- copying a routing to another server
SELECT left(vectorx_shard_routing_sql('rt'), 60);

-- privileges: anyone may route rows (the routing is readable), only a role
-- given INSERT on vectorx_shard_routing may train one
CREATE ROLE vx_shard_user;
GRANT ALL ON ct, ct_01, ct_2, ct_3, pts TO vx_shard_user;
SET ROLE vx_shard_user;
INSERT INTO ct SELECT 2000 + id, cluster, v FROM pts WHERE id <= 4;
SELECT count(*) FROM ct WHERE id > 2000;
SELECT vectorx_shard_train('mine', 'SELECT v FROM pts', 2);
RESET ROLE;
DROP TABLE ct, pts;
DROP FUNCTION cell_of, plan_of, scanned;
DROP ROLE vx_shard_user;
DELETE FROM vectorx_shard_routing;

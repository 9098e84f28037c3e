-- scan_no_direction: a query with no direction ties every row, and an
-- ORDER BY must not remove rows.  ORDER BY v <-> NULL (every distance is
-- NULL) and, under cosine, a zero query vector (every distance is NaN)
-- returned no rows through either index; a sequential scan returns every
-- row.  Now both index scans return every row the index holds (NULL
-- vectors, and zero vectors under cosine, are not indexed, as in
-- pgvector).  Issue "A true drop-in for pgvector", item 5.
SET client_min_messages = warning;
CREATE TABLE nd (id int, tenant int, v vector(8));
INSERT INTO nd SELECT i, i % 4,
  CASE WHEN i % 50 = 0 THEN NULL
       WHEN i % 50 = 1 THEN '[0,0,0,0,0,0,0,0]'
       ELSE (SELECT array_agg(sin(i * 7 + g) * 1.0)::vector FROM generate_series(1, 8) g) END
FROM generate_series(1, 500) i;
SELECT count(*) AS rows, count(v) AS with_vector,
       count(v) FILTER (WHERE v <> '[0,0,0,0,0,0,0,0]') AS nonzero FROM nd;
SET enable_seqscan = off;
SET hnsw.ef_search = 10;
SET ivfpq.probes = 1;
CREATE INDEX nd_l2 ON nd USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
EXPLAIN (COSTS OFF) SELECT id FROM nd ORDER BY v <-> (SELECT NULL::vector) LIMIT 1000;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM nd ORDER BY v <-> (SELECT NULL::vector) LIMIT 1000) s;
-- (a NULL constant folds: ORDER BY NULL sorts nothing, and a sequential
-- scan returns the rows with a NULL vector too)
EXPLAIN (COSTS OFF) SELECT id FROM nd ORDER BY v <-> NULL LIMIT 1000;
SELECT count(*) FROM (SELECT id FROM nd WHERE tenant = 1 ORDER BY v <-> (SELECT NULL::vector) LIMIT 1000) s;
SELECT count(*) FROM (SELECT id FROM nd ORDER BY v <-> (SELECT NULL::vector) LIMIT 7) s;
-- a prepared statement's generic plan, its parameter NULL
SET plan_cache_mode = force_generic_plan;
PREPARE q(vector) AS SELECT id FROM nd ORDER BY v <-> $1 LIMIT 1000;
EXPLAIN (COSTS OFF) EXECUTE q(NULL);
CREATE TEMP TABLE got AS EXECUTE q(NULL);
SELECT count(*), count(DISTINCT id) FROM got;
DROP TABLE got;
DEALLOCATE q;
RESET plan_cache_mode;
DROP INDEX nd_l2;
CREATE INDEX nd_cos ON nd USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 32);
EXPLAIN (COSTS OFF) SELECT id FROM nd ORDER BY v <=> '[0,0,0,0,0,0,0,0]' LIMIT 1000;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM nd ORDER BY v <=> '[0,0,0,0,0,0,0,0]' LIMIT 1000) s;
SELECT count(*) FROM (SELECT id FROM nd ORDER BY v <=> (SELECT NULL::vector) LIMIT 1000) s;
DROP INDEX nd_cos;
CREATE INDEX nd_pq ON nd USING ivfpq (v vector_l2_ops) WITH (lists = 4, m = 4);
EXPLAIN (COSTS OFF) SELECT id FROM nd ORDER BY v <-> (SELECT NULL::vector) LIMIT 1000;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM nd ORDER BY v <-> (SELECT NULL::vector) LIMIT 1000) s;
SELECT count(*) FROM (SELECT id FROM nd WHERE tenant = 1 ORDER BY v <-> (SELECT NULL::vector) LIMIT 1000) s;
DROP INDEX nd_pq;
CREATE INDEX nd_pqcos ON nd USING ivfpq (v vector_cosine_ops) WITH (lists = 4, m = 4);
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM nd ORDER BY v <=> '[0,0,0,0,0,0,0,0]' LIMIT 1000) s;
SELECT count(*) FROM (SELECT id FROM nd ORDER BY v <=> (SELECT NULL::vector) LIMIT 1000) s;
RESET enable_seqscan;
RESET hnsw.ef_search;
RESET ivfpq.probes;
-- a sequential scan also returns the rows the indexes do not hold
SELECT count(*) FROM (SELECT id FROM nd ORDER BY v <-> (SELECT NULL::vector) LIMIT 1000) s;
DROP TABLE nd;

-- filter: filtered k-NN (WHERE ... ORDER BY <op> LIMIT k) under every
-- strategy of vectorx.filter_strategy, against the exact answer.
SET hnsw.ef_search = 400;
SET ivfpq.probes = 16;
SET ivfpq.rerank = 400;

-- 10000 deterministic rows: cat (10%, a hash of id: independent of the
-- vector), grp (0.1%: 10 rows each), a bool, a text and a date column, a
-- column that is NULL for 1 row in 5
CREATE TABLE f (id int PRIMARY KEY, cat int, grp int, flag bool, tag text, d date,
                maybe int, v vector(8));
INSERT INTO f SELECT i, abs(hashint4(i)) % 10, i % 1000, i % 3 = 0, 't' || (i % 7), date '2026-01-01' + (i % 365),
                     CASE WHEN i % 5 = 0 THEN NULL ELSE i % 4 END,
                     ARRAY(SELECT (hashint4(i * 8 + j) % 1000) / 100.0
                           FROM generate_series(1, 8) j)::vector(8)
FROM generate_series(1, 10000) i;
CREATE INDEX f_cat ON f (cat);
CREATE INDEX f_grp ON f (grp);
CREATE INDEX f_d ON f (d);
ANALYZE f;
CREATE TABLE fq (qid int, v vector(8));
INSERT INTO fq SELECT i, ARRAY(SELECT (hashint4(-i * 8 - j) % 1000) / 100.0
                               FROM generate_series(1, 8) j)::vector(8)
FROM generate_series(1, 5) i;

-- for every query: the ids the strategy returns vs the exact ones (ties
-- broken by id on both sides); returns mismatching queries and rows seen
CREATE FUNCTION filtered_check(strategy text, cond text, op text, k int DEFAULT 10,
                               OUT mismatches int, OUT rows_returned int)
LANGUAGE plpgsql AS $$
DECLARE q record; a int[]; b int[];
BEGIN
  mismatches := 0; rows_returned := 0;
  FOR q IN SELECT * FROM fq ORDER BY qid LOOP
    PERFORM set_config('vectorx.filter_strategy', strategy, true);
    EXECUTE format('SELECT array_agg(id ORDER BY dist, id) FROM (SELECT id, v %s $1 AS dist FROM f WHERE %s ORDER BY v %s $1 LIMIT %s) s',
                   op, cond, op, k) INTO a USING q.v;
    PERFORM set_config('vectorx.filter_strategy', 'off', true);
    SET LOCAL enable_indexscan = off;
    EXECUTE format('SELECT array_agg(id ORDER BY dist, id) FROM (SELECT id, v %s $1 AS dist FROM f WHERE %s ORDER BY v %s $1, id LIMIT %s) s',
                   op, cond, op, k) INTO b USING q.v;
    SET LOCAL enable_indexscan = on;
    IF a IS DISTINCT FROM b THEN mismatches := mismatches + 1; END IF;
    rows_returned := rows_returned + coalesce(array_length(a, 1), 0);
  END LOOP;
END $$;

-- the plan's VectorX lines and node names only (no costs, no counts that
-- depend on the graph)
CREATE FUNCTION plan_shape(query text, with_analyze bool DEFAULT false) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE format('EXPLAIN (COSTS OFF%s) %s',
                             CASE WHEN with_analyze THEN ', ANALYZE, TIMING OFF, SUMMARY OFF' ELSE '' END, query) LOOP
    line := regexp_replace(line, '\(actual rows=\d+ loops=\d+\)', '');
    IF line ~ 'Index Elements Visited|Heap Blocks|Rows Removed|Memory:|Sort Method' THEN CONTINUE; END IF;
    RETURN NEXT rtrim(line);
  END LOOP;
END $$;

CREATE TABLE filters (fid int, cond text);
INSERT INTO filters VALUES
  (1, 'cat = 3'),                         -- 10%, indexed
  (2, 'grp = 7'),                         -- 0.1%: exactly 10 rows
  (3, 'grp IN (7, 8, 9)'),                -- IN list
  (4, 'cat = 1 OR grp = 5'),              -- OR of two indexes
  (5, 'maybe IS NULL'),                   -- NULLs in the filter column
  (6, 'maybe = 2 AND cat < 5'),           -- NULLs, two columns
  (7, 'tag = ''t3'' AND flag'),           -- no index on the filter
  (8, 'd BETWEEN date ''2026-03-01'' AND date ''2026-03-04'''),  -- date range
  (9, 'cat = 42'),                        -- nothing matches
  (10, 'id > 100');                       -- weak

CREATE TABLE strategies (s text);
INSERT INTO strategies VALUES ('auto'), ('prefilter'), ('inscan'), ('postfilter');

-- HNSW, L2: every strategy, every filter, exact
CREATE INDEX f_hnsw ON f USING hnsw (v vector_l2_ops);
SELECT s, fid, (filtered_check(s, cond, '<->')).*
FROM strategies, filters ORDER BY fid, s;

-- the other operator classes (auto and inscan)
DROP INDEX f_hnsw;
CREATE INDEX f_hnsw_cos ON f USING hnsw (v vector_cosine_ops);
SELECT s, fid, (filtered_check(s, cond, '<=>')).*
FROM strategies, filters WHERE s IN ('auto', 'inscan') AND fid IN (1, 2, 4) ORDER BY fid, s;
DROP INDEX f_hnsw_cos;
CREATE INDEX f_hnsw_ip ON f USING hnsw (v vector_ip_ops);
SELECT s, fid, (filtered_check(s, cond, '<#>')).*
FROM strategies, filters WHERE s IN ('auto', 'inscan') AND fid IN (1, 2, 4) ORDER BY fid, s;
DROP INDEX f_hnsw_ip;
CREATE INDEX f_hnsw_l1 ON f USING hnsw (v vector_l1_ops);
SELECT s, fid, (filtered_check(s, cond, '<+>')).*
FROM strategies, filters WHERE s IN ('auto', 'inscan') AND fid IN (1, 2, 4) ORDER BY fid, s;
DROP INDEX f_hnsw_l1;

-- plan shapes: selective, medium and weak filters choose differently
CREATE INDEX f_hnsw ON f USING hnsw (v vector_l2_ops);
SELECT plan_shape('SELECT id FROM f WHERE grp = 7 ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 10');
SELECT plan_shape('SELECT id FROM f WHERE id > 100 ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 10');
SET vectorx.filter_strategy = inscan;
SELECT plan_shape('SELECT id FROM f WHERE cat = 3 ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 10', true);
-- no index on the filter: inscan cannot build an allow-list and says so
SELECT plan_shape('SELECT id FROM f WHERE tag = ''t1'' ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 10');
SET vectorx.filter_strategy = postfilter;
SELECT plan_shape('SELECT id FROM f WHERE grp = 7 ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 10');
SET vectorx.filter_strategy = off;
SELECT plan_shape('SELECT id FROM f WHERE id > 100 ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 10');
RESET vectorx.filter_strategy;
-- no filter, no ORDER BY, or no index order: not ours
SELECT plan_shape('SELECT id FROM f ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 10');
SELECT plan_shape('SELECT id FROM f WHERE grp = 7 ORDER BY id LIMIT 10');

-- k rows whenever k rows match: 30 of the 30 rows of grp IN (1, 2, 3)
SELECT s, (filtered_check(s, 'grp IN (1, 2, 3)', '<->', 30)).*
FROM strategies ORDER BY s;

-- one query planned under a strategy (each EXECUTE is planned anew)
CREATE FUNCTION ids_with(strategy text, query text) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  PERFORM set_config('vectorx.filter_strategy', strategy, true);
  EXECUTE query INTO r;
  RETURN r;
END $$;

-- prepared statements: a generic plan chooses its strategy when it runs
PREPARE knn(int, vector) AS SELECT id FROM f WHERE grp = $1 ORDER BY v <-> $2 LIMIT 10;
SET plan_cache_mode = force_generic_plan;
SELECT plan_shape('EXECUTE knn(7, ''[1,2,3,4,5,6,7,8]'')', true);
PREPARE knn_cat(int, vector) AS SELECT id FROM f WHERE cat = $1 ORDER BY v <-> $2 LIMIT 10;
SELECT plan_shape('EXECUTE knn_cat(3, ''[1,2,3,4,5,6,7,8]'')', true);
PREPARE knn_weak(int, vector) AS SELECT id FROM f WHERE cat >= $1 ORDER BY v <-> $2 LIMIT 10;
SELECT plan_shape('EXECUTE knn_weak(1, ''[1,2,3,4,5,6,7,8]'')', true);
-- estimated weak (an inequality with a parameter: a third of the rows),
-- in fact 20 rows: the probe runs out and the allow-list decides
PREPARE knn_rare(int, vector) AS SELECT id FROM f WHERE grp >= $1 ORDER BY v <-> $2 LIMIT 10;
SELECT plan_shape('EXECUTE knn_rare(998, ''[1,2,3,4,5,6,7,8]'')', true);
-- and returns the exact answer whichever it takes (PL/pgSQL's statements
-- are prepared: generic plans here), from 10 to 5000 matching rows
DO $$
DECLARE a int[]; b int[]; bad int := 0; g int; strategies text[] := '{}'; line text;
BEGIN
  FOR g IN SELECT generate_series(0, 999, 37) LOOP
    SELECT array_agg(id) INTO a FROM (SELECT id FROM f WHERE grp = g ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10) s;
    SET LOCAL vectorx.filter_strategy = off;
    SET LOCAL enable_indexscan = off;
    SELECT array_agg(id) INTO b FROM (SELECT id FROM f WHERE grp = g ORDER BY v <-> '[1,2,3,4,5,6,7,8]', id LIMIT 10) s;
    SET LOCAL vectorx.filter_strategy = auto;
    SET LOCAL enable_indexscan = on;
    IF a IS DISTINCT FROM b THEN bad := bad + 1; END IF;
  END LOOP;
  FOR g IN SELECT generate_series(500, 999, 7) LOOP
    SELECT array_agg(id) INTO a FROM (SELECT id FROM f WHERE grp >= g ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10) s;
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE knn_rare(' || g || ', ''[1,2,3,4,5,6,7,8]'')' LOOP
      IF line ~ 'Chosen Strategy' THEN
        line := regexp_replace(line, '^\s*Chosen Strategy: ', '');
        IF NOT line = ANY (strategies) THEN strategies := strategies || line; END IF;
      END IF;
    END LOOP;
    SET LOCAL vectorx.filter_strategy = off;
    SET LOCAL enable_indexscan = off;
    SELECT array_agg(id) INTO b FROM (SELECT id FROM f WHERE grp >= g ORDER BY v <-> '[1,2,3,4,5,6,7,8]', id LIMIT 10) s;
    SET LOCAL vectorx.filter_strategy = auto;
    SET LOCAL enable_indexscan = on;
    IF a IS DISTINCT FROM b THEN bad := bad + 1; END IF;
  END LOOP;
  RAISE NOTICE 'generic plan mismatches: %', bad;
  RAISE NOTICE 'strategies taken: %', (SELECT array_agg(x ORDER BY x) FROM unnest(strategies) x);
END $$;
RESET plan_cache_mode;
DEALLOCATE ALL;

-- row-level security: no row the policy hides comes back
CREATE ROLE vx_filter_reader;
GRANT SELECT ON f, strategies TO vx_filter_reader;
ALTER TABLE f ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_cat2 ON f FOR SELECT TO vx_filter_reader USING (cat = 2);
SET ROLE vx_filter_reader;
SELECT s, array_length(c, 1) AS rows, 2 = ALL (c) AS only_visible_rows
FROM strategies, LATERAL ids_with(s, 'SELECT array_agg(cat) FROM (SELECT cat FROM f WHERE grp < 500
                                       ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 10) r') c
ORDER BY s;
-- with no WHERE clause at all, the policy is the filter
SELECT s, array_length(c, 1) AS rows, 2 = ALL (c) AS only_visible_rows
FROM strategies, LATERAL ids_with(s, 'SELECT array_agg(cat) FROM (SELECT cat FROM f
                                       ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 10) r') c
ORDER BY s;
RESET ROLE;
DROP POLICY only_cat2 ON f;
ALTER TABLE f DISABLE ROW LEVEL SECURITY;
REVOKE SELECT ON f, strategies FROM vx_filter_reader;
DROP ROLE vx_filter_reader;

-- joins: the vector table on the outer side of a LIMIT
CREATE TABLE cats (cat int PRIMARY KEY, name text);
INSERT INTO cats SELECT c, 'cat ' || c FROM generate_series(0, 9) c;
ANALYZE cats;
SELECT s, ids_with(s, 'SELECT array_agg(id) FROM (SELECT f.id FROM f JOIN cats c USING (cat)
                        WHERE f.grp IN (7, 8) AND c.name <> ''cat 0''
                        ORDER BY f.v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 5) s') =
          ids_with('off', 'SELECT array_agg(id) FROM (SELECT id FROM f WHERE grp IN (7, 8) AND cat <> 0
                        ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'', id LIMIT 5) s') AS join_exact
FROM strategies ORDER BY s;
SELECT plan_shape('SELECT f.id, c.name FROM f JOIN cats c USING (cat) WHERE f.grp IN (7, 8)
                   ORDER BY f.v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 5');

-- partitioned tables: each partition chooses for itself
CREATE TABLE fp (id int, cat int, grp int, v vector(8)) PARTITION BY RANGE (id);
CREATE TABLE fp1 PARTITION OF fp FOR VALUES FROM (1) TO (5001);
CREATE TABLE fp2 PARTITION OF fp FOR VALUES FROM (5001) TO (10001);
INSERT INTO fp SELECT id, cat, grp, v FROM f;
CREATE INDEX ON fp (grp);
CREATE INDEX ON fp USING hnsw (v vector_l2_ops);
ANALYZE fp;
SELECT plan_shape('SELECT id FROM fp WHERE grp = 7 ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 10');
SELECT (SELECT array_agg(id) FROM (SELECT id FROM fp WHERE grp IN (7, 8) AND id % 2 = 0
          ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10) s) =
       (SELECT array_agg(id) FROM (SELECT id FROM f WHERE grp IN (7, 8) AND id % 2 = 0
          ORDER BY v <-> '[1,2,3,4,5,6,7,8]', id LIMIT 10) s) AS partitioned_exact;
DROP TABLE fp;

-- a filter whose rows lie away from the query (statistics cannot tell):
-- postfilter finds few of them near it and takes its way out
ALTER TABLE f ADD COLUMN side bool;
UPDATE f SET side = (v::real[])[1] > 9.0;
VACUUM ANALYZE f;
CREATE INDEX f_side ON f (side);
SELECT plan_shape('SELECT id FROM f WHERE side ORDER BY v <-> ''[0,0,0,0,0,0,0,0]'' LIMIT 10', true);
SELECT ids_with('auto', 'SELECT array_agg(id) FROM (SELECT id FROM f WHERE side
                  ORDER BY v <-> ''[0,0,0,0,0,0,0,0]'' LIMIT 10) s') =
       ids_with('off', 'SELECT array_agg(id) FROM (SELECT id FROM f WHERE side
                  ORDER BY v <-> ''[0,0,0,0,0,0,0,0]'', id LIMIT 10) s') AS way_out_exact;
-- near the query the same filter is cheap: postfilter keeps going
SELECT plan_shape('SELECT id FROM f WHERE side ORDER BY v <-> ''[9.9,5,5,5,5,5,5,5]'' LIMIT 10', true);

-- IVF-PQ: every strategy, exact with every list probed and a re-rank
-- window that covers the table
DROP INDEX f_hnsw;
CREATE INDEX f_ivf ON f USING ivfpq (v vector_l2_ops) WITH (lists = 16, m = 4);
SET ivfpq.rerank = 10000;
SELECT s, fid, (filtered_check(s, cond, '<->')).*
FROM strategies, filters ORDER BY fid, s;
SET vectorx.filter_strategy = inscan;
SELECT plan_shape('SELECT id FROM f WHERE cat = 3 ORDER BY v <-> ''[1,2,3,4,5,6,7,8]'' LIMIT 10', true);
RESET vectorx.filter_strategy;
DROP INDEX f_ivf;
CREATE INDEX f_ivf_cos ON f USING ivfpq (v vector_cosine_ops) WITH (lists = 16, m = 4);
SELECT s, fid, (filtered_check(s, cond, '<=>')).*
FROM strategies, filters WHERE s IN ('auto', 'inscan', 'postfilter') AND fid IN (1, 2, 4) ORDER BY fid, s;
DROP INDEX f_ivf_cos;
CREATE INDEX f_ivf_ip ON f USING ivfpq (v vector_ip_ops) WITH (lists = 16, m = 4);
SELECT s, fid, (filtered_check(s, cond, '<#>')).*
FROM strategies, filters WHERE s IN ('auto', 'inscan', 'postfilter') AND fid IN (1, 2, 4) ORDER BY fid, s;
DROP INDEX f_ivf_ip;

-- bad settings
SET vectorx.filter_strategy = sometimes;

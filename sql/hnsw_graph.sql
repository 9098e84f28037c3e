-- hnsw_graph: the HNSW graph's quality and reachability.
--   * every live element is reachable from the entry point (invariant I6):
--     a scan the executor drains returns every row, for every m, through
--     rounds of DELETE, VACUUM and INSERT; vectorx_hnsw_check fails when
--     one is not, and VACUUM reconnects it
--   * recall of each operator class against an exact scan, at LIMIT 20 with
--     the default m, ef_construction and ef_search, on low-dimensional data
--     (3-d, each coordinate random() * random()): l2, ip and l1

-- exact top-k of each query against the index's, as a fraction found
CREATE FUNCTION graph_recall(tbl text, qtbl text, op text, k int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE q record; exact bigint[]; approx bigint[]; hit int := 0; total int := 0;
BEGIN
  FOR q IN EXECUTE format('SELECT v FROM %I ORDER BY qid', qtbl) LOOP
    -- "v op q + 0" matches no index: a sequential scan and a sort
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY (v %s $1) + 0, id LIMIT %s) s',
                   tbl, op, k) INTO exact USING q.v;
    SET LOCAL enable_seqscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY v %s $1 LIMIT %s) s',
                   tbl, op, k) INTO approx USING q.v;
    SET LOCAL enable_seqscan = on;
    hit := hit + (SELECT count(*) FROM unnest(approx) a WHERE a = ANY (exact));
    total := total + k;
  END LOOP;
  RETURN hit::float8 / total;
END $$;

-- rows an index scan without LIMIT returns (the executor drains it)
CREATE FUNCTION graph_scan_rows(tbl text, q vector) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SET LOCAL enable_seqscan = off;
  SET LOCAL enable_bitmapscan = off;
  -- every element the search reaches: relaxed order returns each one it
  -- finds (strict order, the default, skips those it finds too late)
  SET LOCAL hnsw.iterative_scan = relaxed_order;
  EXECUTE format('SELECT count(*) FROM (SELECT id FROM %I ORDER BY v <-> $1) s', tbl) INTO n USING q;
  RETURN n;
END $$;

-- I6 with m = 2 (level-0 lists of 4) on 130 dimensions, through churn
SELECT setseed(0.25);
CREATE TABLE gm (id serial PRIMARY KEY, v vector(130)) WITH (autovacuum_enabled = false);
INSERT INTO gm (v) SELECT (SELECT array_agg(random())::vector(130)
                           FROM generate_series(1, 130) WHERE g IS NOT NULL)
FROM generate_series(1, 1000) g;
CREATE INDEX gm_idx ON gm USING hnsw (v vector_l2_ops) WITH (m = 2);
SELECT ok, unreachable FROM vectorx_hnsw_check('gm_idx');
-- rounds of DELETE, VACUUM and INSERT
DELETE FROM gm WHERE random() < 0.6;
VACUUM gm;
INSERT INTO gm (v) SELECT (SELECT array_agg(random())::vector(130)
                           FROM generate_series(1, 130) WHERE g IS NOT NULL)
FROM generate_series(1, 50) g;
DELETE FROM gm WHERE random() < 0.6;
VACUUM gm;
INSERT INTO gm (v) SELECT (SELECT array_agg(random())::vector(130)
                           FROM generate_series(1, 130) WHERE g IS NOT NULL)
FROM generate_series(1, 50) g;
DELETE FROM gm WHERE random() < 0.6;
VACUUM gm;
INSERT INTO gm (v) SELECT (SELECT array_agg(random())::vector(130)
                           FROM generate_series(1, 130) WHERE g IS NOT NULL)
FROM generate_series(1, 50) g;
DELETE FROM gm WHERE random() < 0.6;
VACUUM gm;
INSERT INTO gm (v) SELECT (SELECT array_agg(random())::vector(130)
                           FROM generate_series(1, 130) WHERE g IS NOT NULL)
FROM generate_series(1, 50) g;
VACUUM gm;
SELECT count(*) AS rows_left FROM gm;
-- inserts whose back-links prune 4-entry lists can cut elements off until
-- the next VACUUM; the check's verdict must say so whenever it happens
INSERT INTO gm (v) SELECT (SELECT array_agg(random() * 0.1)::vector(130)
                           FROM generate_series(1, 130) WHERE g IS NOT NULL)
FROM generate_series(1, 200) g;
SELECT ok = (unreachable = 0) AS verdict_matches_reachability FROM vectorx_hnsw_check('gm_idx');
VACUUM gm;
-- after VACUUM every element is reachable and a drained scan returns every row
SELECT ok, unreachable, problems FROM vectorx_hnsw_check('gm_idx');
SELECT graph_scan_rows('gm', (SELECT v FROM gm ORDER BY id LIMIT 1)) = (SELECT count(*) FROM gm)
  AS scan_returns_every_row;

-- I6 for every legal m right after a build
CREATE TABLE gms (id int PRIMARY KEY, v vector(16));
INSERT INTO gms SELECT g, (SELECT array_agg(random())::vector(16)
                           FROM generate_series(1, 16) WHERE g IS NOT NULL)
FROM generate_series(1, 400) g;
DO $$
DECLARE m int; c record; rows bigint;
BEGIN
  FOREACH m IN ARRAY ARRAY[2, 3, 4, 8, 16] LOOP
    EXECUTE format('CREATE INDEX gms_idx ON gms USING hnsw (v) WITH (m = %s)', m);
    SELECT * INTO c FROM vectorx_hnsw_check('gms_idx');
    rows := graph_scan_rows('gms', '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]');
    RAISE NOTICE 'm = %: ok %, unreachable %, scan rows %', m, c.ok, c.unreachable, rows;
    DROP INDEX gms_idx;
  END LOOP;
END $$;

-- recall at LIMIT 20 per operator class, 10000 low-dimensional vectors
SELECT setseed(0.5);
CREATE TABLE glo (id int PRIMARY KEY, v vector(3));
INSERT INTO glo SELECT g, ARRAY[random() * random(), random() * random(), random() * random()]
FROM generate_series(1, 10000) g;
CREATE TABLE glo_q (qid int, v vector(3));
INSERT INTO glo_q SELECT g, ARRAY[random() * random(), random() * random(), random() * random()]
FROM generate_series(1, 20) g;
SET max_parallel_maintenance_workers = 0;
CREATE INDEX glo_idx ON glo USING hnsw (v vector_l2_ops);
SELECT graph_recall('glo', 'glo_q', '<->', 20) >= 0.99 AS l2_recall_ok;
DROP INDEX glo_idx;
CREATE INDEX glo_idx ON glo USING hnsw (v vector_ip_ops);
SELECT graph_recall('glo', 'glo_q', '<#>', 20) >= 0.97 AS ip_recall_ok;
SELECT ok, unreachable FROM vectorx_hnsw_check('glo_idx');
DROP INDEX glo_idx;
CREATE INDEX glo_idx ON glo USING hnsw (v vector_l1_ops);
SELECT graph_recall('glo', 'glo_q', '<+>', 20) >= 0.99 AS l1_recall_ok;
DROP INDEX glo_idx;
RESET max_parallel_maintenance_workers;

DROP TABLE gm, gms, glo, glo_q;
DROP FUNCTION graph_recall(text, text, text, int), graph_scan_rows(text, vector);

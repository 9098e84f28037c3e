-- bench/scan_order_cost.sql: what strict order costs an ordered index scan.
--
-- 20000 random 128-dimensional vectors, 200 queries; prints the mean
-- milliseconds per query for HNSW at LIMIT 10 and LIMIT 100 (strict order,
-- relaxed order, ef_search 100) and IVF-PQ at LIMIT 10 and 100.  Run it in
-- a fresh database with vectorx installed, once per build to compare
-- (install one build, run, install the other, run; alternate twice: the
-- machine is noisy), e.g.
--   psql -X -d postgres -c 'DROP DATABASE IF EXISTS sc' -c 'CREATE DATABASE sc'
--   psql -X -d sc -f bench/scan_order_cost.sql
-- Figures of the last run are in the README (ORDER BY is a promise).
CREATE EXTENSION IF NOT EXISTS vectorx;
SELECT setseed(0.3);
CREATE TABLE p (id int, v vector(128));
INSERT INTO p SELECT i, (SELECT array_agg(random()) FROM generate_series(1,128) WHERE i > 0)::real[] FROM generate_series(1,20000) i;
CREATE TABLE pq AS SELECT i, (SELECT array_agg(random()) FROM generate_series(1,128) WHERE i > 0)::real[]::vector(128) AS q FROM generate_series(1,200) i;
SET maintenance_work_mem = '512MB';
CREATE INDEX p_h ON p USING hnsw (v);
CREATE FUNCTION bench(lim int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; r record; n int := 0;
BEGIN
  t0 := clock_timestamp();
  FOR r IN SELECT q FROM pq LOOP
    PERFORM count(*) FROM (SELECT id FROM p ORDER BY v <-> r.q LIMIT lim) s;
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000 / 200;
END $$;
SET enable_seqscan = off;
SELECT bench(10) warm;
SELECT 'hnsw10' k, bench(10) ms UNION ALL SELECT 'hnsw10', bench(10) UNION ALL SELECT 'hnsw100', bench(100) UNION ALL SELECT 'hnsw100', bench(100);
SET hnsw.iterative_scan = relaxed_order;
SELECT 'hnsw100relaxed' k, bench(100) ms;
RESET hnsw.iterative_scan;
SET hnsw.ef_search = 100;
SELECT 'hnsw100ef100' k, bench(100) ms;
RESET hnsw.ef_search;
DROP INDEX p_h;
CREATE INDEX p_i ON p USING ivfpq (v) WITH (lists = 100);
SELECT bench(10) warm;
SELECT 'ivf10' k, bench(10) ms UNION ALL SELECT 'ivf10', bench(10) UNION ALL SELECT 'ivf100', bench(100) UNION ALL SELECT 'ivf100', bench(100);

-- hardening_memory: memory follows the work done, not a user-supplied
-- number, and per-index caches do not outlive their index.

-- 1. Caches keyed by relfilenode (HNSW buffer hints, IVF-PQ shapes) are
-- freed once TRUNCATE or REINDEX replaced the relfilenode: a session that
-- does so in a loop keeps a bounded amount of memory.
-- EXPLAIN ANALYZE lines without the row counts
CREATE FUNCTION plan_lines(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF, ANALYZE, TIMING OFF, SUMMARY OFF) ' || query LOOP
    RETURN NEXT rtrim(regexp_replace(line, '\(actual rows=\d+ loops=\d+\)', ''));
  END LOOP;
END $$;
CREATE TABLE mh (id int, v vector(64));
CREATE INDEX mh_idx ON mh USING hnsw (v vector_l2_ops);
CREATE TABLE mi (id int, v vector(64));
CREATE INDEX mi_idx ON mi USING ivfpq (v vector_l2_ops) WITH (lists = 4, m = 8);
CREATE FUNCTION mem_vec(i int) RETURNS vector LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY(SELECT round((sin(i * 0.37 + j * 1.7) * 2)::numeric, 3)
               FROM generate_series(1, 64) j)::vector(64) $$;
-- each round: a new relfilenode, filled and scanned through the index
CREATE PROCEDURE mem_churn_hnsw(n int) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..n LOOP
    TRUNCATE mh;
    INSERT INTO mh SELECT g, mem_vec(g) FROM generate_series(1, 20) g;
    PERFORM id FROM mh ORDER BY v <-> mem_vec(0) LIMIT 3;
    COMMIT;
  END LOOP;
END $$;
CREATE PROCEDURE mem_churn_ivfpq(n int) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..n LOOP
    TRUNCATE mi;
    INSERT INTO mi SELECT g, mem_vec(g) FROM generate_series(1, 300) g;
    REINDEX INDEX mi_idx;
    PERFORM id FROM mi ORDER BY v <-> mem_vec(0) LIMIT 3;
    COMMIT;
  END LOOP;
END $$;
CREATE TABLE mem_seen (what text, bytes bigint);
CREATE PROCEDURE mem_note(what text) LANGUAGE sql AS $$
  INSERT INTO mem_seen SELECT what, sum(total_bytes) FROM pg_backend_memory_contexts $$;
-- TRUNCATE rebuilds the ivfpq index empty, which says so each time
SET client_min_messages = warning;
SET enable_seqscan = off;
-- the plans prove the loops scan through the indexes
SELECT line FROM plan_lines('SELECT id FROM mh ORDER BY v <-> mem_vec(0) LIMIT 3') line
WHERE line ~ 'Index Scan';
SELECT line FROM plan_lines('SELECT id FROM mi ORDER BY v <-> mem_vec(0) LIMIT 3') line
WHERE line ~ 'Index Scan';
-- warm up (plans, catalog caches), then measure 30 more rounds of each
CALL mem_churn_hnsw(3);
CALL mem_note('hnsw before');
CALL mem_churn_hnsw(30);
CALL mem_note('hnsw after');
CALL mem_churn_ivfpq(3);
CALL mem_note('ivfpq before');
CALL mem_churn_ivfpq(30);
CALL mem_note('ivfpq after');
RESET enable_seqscan;
RESET client_min_messages;
-- before the fix each round kept 256 kB of hints or 140 kB of shape
SELECT a.what, b.bytes - a.bytes < 512 * 1024 AS bounded
FROM mem_seen a JOIN mem_seen b ON b.what = replace(a.what, 'before', 'after')
WHERE a.what LIKE '% before' ORDER BY 1;
-- the cache still works: repeated scans in one session agree
SET enable_seqscan = off;
SELECT array_agg(id) FROM (SELECT id FROM mi ORDER BY v <-> mem_vec(0) LIMIT 3) s;
SELECT array_agg(id) FROM (SELECT id FROM mi ORDER BY v <-> mem_vec(0) LIMIT 3) s;
RESET enable_seqscan;
DROP PROCEDURE mem_churn_hnsw(int), mem_churn_ivfpq(int), mem_note(text);
DROP TABLE mh, mi, mem_seen;

-- 2. Filtered search buffers grow with the rows actually returned, not
-- with the LIMIT: a LIMIT far above the matching rows allocates nothing
-- in proportion to it.
CREATE TABLE fm (id int PRIMARY KEY, cat int, v vector(8));
INSERT INTO fm SELECT i, i % 10, ARRAY(SELECT (hashint4(i * 8 + j) % 1000) / 100.0
                                       FROM generate_series(1, 8) j)::vector(8)
FROM generate_series(1, 20000) i;
CREATE INDEX fm_cat ON fm (cat);
CREATE INDEX fm_v ON fm USING hnsw (v vector_l2_ops);
ANALYZE fm;
-- prefilter keeps the k nearest itself (Prefilter Keeps): k = the LIMIT
SET vectorx.filter_strategy = prefilter;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM (SELECT id FROM fm WHERE cat = 7 ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 100000000) s;
SELECT count(*) FROM (SELECT id FROM fm WHERE cat = 7 ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 100000000) s;
-- and in order: the first rows are the exact nearest
SELECT array_agg(id) FROM (SELECT id FROM (SELECT id FROM fm WHERE cat = 7
  ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 100000000) s LIMIT 5) t;
SET vectorx.filter_strategy = off;
SELECT array_agg(id) FROM (SELECT id FROM fm WHERE cat = 7
  ORDER BY v <-> '[1,2,3,4,5,6,7,8]', id LIMIT 5) t;
RESET vectorx.filter_strategy;

-- 3. The allow-list keeps within work_mem: past it, inscan falls back to
-- postfilter and EXPLAIN ANALYZE says so; the rows are still the exact ones
-- (hnsw.ef_search covers them here).
SET work_mem = '64kB';
SET vectorx.filter_strategy = inscan;
SELECT line FROM plan_lines($$SELECT id FROM fm WHERE cat < 3 ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5$$) line
WHERE line !~ 'Index Elements Visited|Rows Removed';
SELECT array_agg(id) FROM (SELECT id FROM fm WHERE cat < 3 ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5) s;
SET vectorx.filter_strategy = off;
SELECT array_agg(id) FROM (SELECT id FROM fm WHERE cat < 3 ORDER BY v <-> '[1,2,3,4,5,6,7,8]', id LIMIT 5) s;
-- with room, the allow-list is built and used
RESET work_mem;
SET vectorx.filter_strategy = inscan;
SELECT line FROM plan_lines($$SELECT id FROM fm WHERE cat < 3 ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5$$) line
WHERE line ~ 'Strategy|Allow-List';
SELECT array_agg(id) FROM (SELECT id FROM fm WHERE cat < 3 ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 5) s;
RESET vectorx.filter_strategy;
DROP FUNCTION plan_lines(text);
DROP TABLE fm;
DROP FUNCTION mem_vec(int);

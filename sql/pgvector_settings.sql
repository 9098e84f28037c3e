-- pgvector_settings: the settings pgvector users set, with pgvector's
-- names, ranges and meanings (issue "A true drop-in for pgvector", item 4).
-- Set before the library is loaded (a new session's first statement, as
-- applications do on connect), a value survives the load.
\c
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.scan_mem_multiplier = 2;
SET hnsw.max_scan_tuples = 30000;
SET hnsw.ef_search = 100;
SELECT '[1,2]'::vector <-> '[2,2]';  -- loads the library
SHOW hnsw.iterative_scan;
SHOW hnsw.scan_mem_multiplier;
SHOW hnsw.max_scan_tuples;
SHOW hnsw.ef_search;
RESET ALL;
-- pgvector's ranges: ef_search 1..1000, scan_mem_multiplier 1..1000,
-- max_scan_tuples 1..INT_MAX, iterative_scan off | strict_order | relaxed_order
SET hnsw.ef_search = 1000;
SET hnsw.ef_search = 1001;
SET hnsw.scan_mem_multiplier = 1000;
SET hnsw.scan_mem_multiplier = 0.5;
SET hnsw.max_scan_tuples = 2147483647;
SET hnsw.max_scan_tuples = 0;
SET hnsw.iterative_scan = off;
SET hnsw.iterative_scan = sometimes;
RESET ALL;
-- hnsw.scan_mem_multiplier bounds a scan that keeps searching: with
-- work_mem at its minimum the search stops after its first round, so a
-- filter that keeps only a few rows finds fewer of them
CREATE TABLE sm (id int, v vector(4));
INSERT INTO sm SELECT i, ARRAY[sin(i), cos(i), sin(i * 3), cos(i * 5)] FROM generate_series(1, 3000) i;
CREATE INDEX sm_v ON sm USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
SET enable_seqscan = off;
SET hnsw.ef_search = 10;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) AS found FROM (SELECT id FROM sm WHERE id % 100 = 0 ORDER BY v <-> '[0,0,0,0]' LIMIT 30) s;
SET work_mem = '64kB';
SELECT count(*) < 30 AS stopped_early FROM (SELECT id FROM sm WHERE id % 100 = 0 ORDER BY v <-> '[0,0,0,0]' LIMIT 30) s;
SET hnsw.scan_mem_multiplier = 1000;
SELECT count(*) AS found FROM (SELECT id FROM sm WHERE id % 100 = 0 ORDER BY v <-> '[0,0,0,0]' LIMIT 30) s;
RESET ALL;
-- the limit bounds what the rounds after the first add: the first round's
-- own state (a visited set sized for ef_search * m * 4 ids: 2 MB here) is
-- what ef_search asks for, and counting it stopped a scan at ef_search
-- 1000 after its first round (found in review on another table, m 64: 39
-- of 200 rows at ef_search 1000, 136 at 200: more effort, fewer rows)
CREATE TABLE sm2 (id int, v vector(4));
INSERT INTO sm2 SELECT i, ARRAY[sin(i), cos(i), sin(i * 3), cos(i * 5)] FROM generate_series(1, 20000) i;
CREATE INDEX sm2_v ON sm2 USING hnsw (v vector_l2_ops) WITH (m = 32, ef_construction = 64);
SET enable_seqscan = off;
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.ef_search = 1000;
SET work_mem = '1MB';
SELECT count(*) AS found FROM (SELECT id FROM sm2 WHERE id % 50 = 0 ORDER BY v <-> '[0,0,0,0]' LIMIT 200) s;
RESET ALL;
DROP TABLE sm, sm2;

-- hnsw: the HNSW access method on small data, against brute force.
SET hnsw.ef_search = 400;

-- 500 deterministic 8-dimension vectors
CREATE TABLE h (id int PRIMARY KEY, v vector(8)) WITH (autovacuum_enabled = false);
INSERT INTO h SELECT i, ARRAY(SELECT round((sin(i * 0.37 + j * 1.7) * 10)::numeric, 3)
                              FROM generate_series(1, 8) j)::vector(8)
FROM generate_series(1, 500) i;
CREATE TABLE hq (qid int, v vector(8));
INSERT INTO hq SELECT i, ARRAY(SELECT round((cos(i * 0.91 + j * 0.3) * 9)::numeric, 3)
                               FROM generate_series(1, 8) j)::vector(8)
FROM generate_series(1, 20) i;

-- top-10 of every query, through the index and by a sequential scan
CREATE FUNCTION knn_mismatches(op text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE q record; a int[]; b int[]; bad bigint := 0;
BEGIN
  FOR q IN SELECT * FROM hq ORDER BY qid LOOP
    SET LOCAL enable_seqscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM h ORDER BY v %s $1 LIMIT 10) s', op)
      INTO a USING q.v;
    SET LOCAL enable_seqscan = on;
    SET LOCAL enable_indexscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM h ORDER BY v %s $1, id LIMIT 10) s', op)
      INTO b USING q.v;
    SET LOCAL enable_indexscan = on;
    IF a IS DISTINCT FROM b THEN bad := bad + 1; END IF;
  END LOOP;
  RETURN bad;
END $$;

CREATE INDEX h_l2 ON h USING hnsw (v vector_l2_ops);
SELECT knn_mismatches('<->') AS l2_mismatches;
DROP INDEX h_l2;
CREATE INDEX h_ip ON h USING hnsw (v vector_ip_ops) WITH (m = 8, ef_construction = 32);
SELECT knn_mismatches('<#>') AS ip_mismatches;
DROP INDEX h_ip;
CREATE INDEX h_cos ON h USING hnsw (v vector_cosine_ops);
SELECT knn_mismatches('<=>') AS cosine_mismatches;
DROP INDEX h_cos;
CREATE INDEX h_l1 ON h USING hnsw (v vector_l1_ops) WITH (m = 24, ef_construction = 100);
SELECT knn_mismatches('<+>') AS l1_mismatches;

-- the plan, and the distances the index reports
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM h ORDER BY v <+> '[1,2,3,4,5,6,7,8]' LIMIT 5;
SELECT id, round((v <+> '[1,2,3,4,5,6,7,8]')::numeric, 3) AS d
FROM h ORDER BY v <+> '[1,2,3,4,5,6,7,8]' LIMIT 3;
RESET enable_seqscan;
DROP INDEX h_l1;

-- inserts after the build are found, and the structure stays valid
CREATE INDEX h_l2 ON h USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
INSERT INTO h SELECT i, ARRAY(SELECT round((sin(i * 0.37 + j * 1.7) * 10)::numeric, 3)
                              FROM generate_series(1, 8) j)::vector(8)
FROM generate_series(501, 800) i;
SELECT knn_mismatches('<->') AS l2_mismatches_after_inserts;
SELECT ok, elements, heap_tids, bad_links, problems FROM vectorx_hnsw_check('h_l2');

-- deletes, vacuum (repair, reuse), re-inserts
DELETE FROM h WHERE id % 3 = 0;
VACUUM h;
SELECT ok, elements, deleted, free > 0 AS has_free, links_to_deleted, bad_links, problems
FROM vectorx_hnsw_check('h_l2');
SELECT knn_mismatches('<->') AS l2_mismatches_after_vacuum;
CREATE TEMP TABLE free_before AS SELECT free FROM vectorx_hnsw_check('h_l2');
INSERT INTO h SELECT i, ARRAY(SELECT round((sin(i * 0.37 + j * 1.7) * 10)::numeric, 3)
                              FROM generate_series(1, 8) j)::vector(8)
FROM generate_series(801, 900) i;
-- the new elements took freed space: the free count dropped by 100
SELECT ok, (SELECT free FROM free_before) - free AS reused, bad_links, problems
FROM vectorx_hnsw_check('h_l2');
SELECT knn_mismatches('<->') AS l2_mismatches_after_reuse;

-- streaming: more rows than ef_search, and a filter that rejects most rows
SET hnsw.ef_search = 10;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM h ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 200) s;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM h WHERE id % 50 = 1 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5) s;
-- the bound on visited elements ends a scan early
SET hnsw.max_scan_tuples = 30;
SELECT count(*) < 200 AS bounded FROM (SELECT id FROM h ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 200) s;
RESET hnsw.max_scan_tuples;
RESET enable_seqscan;
SET hnsw.ef_search = 400;

-- NULLs are not indexed; duplicates share elements and are all returned
CREATE TABLE hd (id int, v vector(3));
INSERT INTO hd SELECT i, '[1,1,1]' FROM generate_series(1, 10) i;
INSERT INTO hd VALUES (11, NULL), (12, '[5,5,5]'), (13, NULL);
CREATE INDEX hd_idx ON hd USING hnsw (v);
SET enable_seqscan = off;
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM hd ORDER BY v <-> '[1,1,1]' LIMIT 20) s;
INSERT INTO hd SELECT i, '[1,1,1]' FROM generate_series(14, 20) i;
SELECT count(*) FROM (SELECT id FROM hd ORDER BY v <-> '[1,1,1]' LIMIT 30) s;
SELECT ok, elements, heap_tids FROM vectorx_hnsw_check('hd_idx');
RESET enable_seqscan;

-- an empty index, then its first rows
CREATE TABLE he (id int, v vector(2));
CREATE INDEX he_idx ON he USING hnsw (v vector_cosine_ops);
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM he ORDER BY v <=> '[1,0]' LIMIT 5) s;
INSERT INTO he VALUES (1, '[1,0]'), (2, '[0,1]'), (3, '[0,0]'), (4, '[-1,0]');
-- zero vectors have no direction: not indexed; a zero query ties every row, so
-- the scan returns every row the index holds (scan_no_direction)
SELECT array_agg(id) FROM (SELECT id FROM he ORDER BY v <=> '[1,0.1]' LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM he ORDER BY v <=> '[0,0]' LIMIT 5) s;
RESET enable_seqscan;
SELECT ok, elements, entry_point IS NOT NULL AS has_entry FROM vectorx_hnsw_check('he_idx');

-- vectors over several pages (4096 dimensions = 16 KB)
CREATE TABLE hbig (id int, v vector(4096));
INSERT INTO hbig SELECT i, array_fill((i % 7)::real, ARRAY[4096]) FROM generate_series(1, 30) i;
CREATE INDEX hbig_idx ON hbig USING hnsw (v);
INSERT INTO hbig SELECT i, array_fill((i % 7 + 0.5)::real, ARRAY[4096]) FROM generate_series(31, 40) i;
SET enable_seqscan = off;
SELECT id % 7 AS cls, round((v <-> array_fill(3.4::real, ARRAY[4096])::vector)::numeric, 2) AS d
FROM hbig ORDER BY v <-> array_fill(3.4::real, ARRAY[4096])::vector LIMIT 3;
RESET enable_seqscan;
SELECT ok, elements, heap_tids, problems FROM vectorx_hnsw_check('hbig_idx');

-- Exact order from 8-bit codes (hnsw.h, VECTORS): the index hands the
-- executor lower bounds and the executor re-checks.  Vectors that quantize
-- badly (a few huge components among small ones, offsets, scales from 1e-2
-- to 1e4) and near-duplicates that share codes but not values, every
-- operator class: the answers equal brute force, distances come out
-- non-decreasing, and no bound ever exceeds an exact distance (the
-- executor would raise "index returned tuples in wrong order").
SELECT setseed(0.42);
CREATE TABLE hb (id int PRIMARY KEY, v vector(64));
INSERT INTO hb SELECT i, ARRAY(SELECT CASE WHEN random() < 0.05 THEN (random() - 0.5) * 1e4
                                          ELSE (random() - 0.3) * 10 ^ (i % 5 - 2) END
                               FROM generate_series(1, 64))::vector(64)
FROM generate_series(1, 600) i;
INSERT INTO hb SELECT 1000 + id, v + array_fill(1e-4::real, ARRAY[64])::vector FROM hb WHERE id <= 100;
CREATE TABLE hbq (qid int, v vector(64));
INSERT INTO hbq SELECT i, ARRAY(SELECT (random() - 0.4) * 10 ^ (i % 5 - 2) FROM generate_series(1, 64))::vector(64)
FROM generate_series(1, 15) i;
INSERT INTO hbq SELECT 100 + id, v FROM hb WHERE id IN (3, 1003, 250);
CREATE FUNCTION knn_bound_check(op text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE q record; a int[]; b int[]; d float8[]; bad int := 0; unordered int := 0;
BEGIN
  FOR q IN SELECT * FROM hbq ORDER BY qid LOOP
    SET LOCAL enable_seqscan = off;
    EXECUTE format('SELECT array_agg(id), array_agg(d) FROM (SELECT id, v %s $1 AS d FROM hb ORDER BY v %s $1 LIMIT 30) s', op, op)
      INTO a, d USING q.v;
    SET LOCAL enable_seqscan = on;
    SET LOCAL enable_indexscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM hb ORDER BY v %s $1, id LIMIT 30) s', op)
      INTO b USING q.v;
    SET LOCAL enable_indexscan = on;
    -- equal distances may come in either order: compare as sets, and the order by distance
    IF (SELECT array_agg(x ORDER BY x) FROM unnest(a) x) IS DISTINCT FROM
       (SELECT array_agg(x ORDER BY x) FROM unnest(b) x) THEN bad := bad + 1; END IF;
    FOR i IN 2 .. coalesce(array_length(d, 1), 0) LOOP
      IF d[i] < d[i - 1] THEN unordered := unordered + 1; END IF;
    END LOOP;
  END LOOP;
  RETURN format('%s mismatches, %s out of order', bad, unordered);
END $$;
SET hnsw.ef_search = 200;
CREATE INDEX hb_idx ON hb USING hnsw (v vector_l2_ops);
SELECT knn_bound_check('<->') AS l2;
DROP INDEX hb_idx;
CREATE INDEX hb_idx ON hb USING hnsw (v vector_ip_ops);
SELECT knn_bound_check('<#>') AS ip;
DROP INDEX hb_idx;
CREATE INDEX hb_idx ON hb USING hnsw (v vector_cosine_ops);
SELECT knn_bound_check('<=>') AS cosine;
DROP INDEX hb_idx;
CREATE INDEX hb_idx ON hb USING hnsw (v vector_l1_ops);
SELECT knn_bound_check('<+>') AS l1;
-- the same through rows inserted after the build (the insert path quantizes them)
TRUNCATE hb;
INSERT INTO hb SELECT i, ARRAY(SELECT (random() - 0.5) * 10 ^ (i % 5 - 1) FROM generate_series(1, 64))::vector(64)
FROM generate_series(1, 400) i;
SELECT knn_bound_check('<+>') AS l1_inserted;
DROP TABLE hb, hbq;
DROP FUNCTION knn_bound_check(text);
SET hnsw.ef_search = 400;

-- errors
\set VERBOSITY terse
CREATE INDEX ON h USING hnsw (v) WITH (m = 1);
CREATE INDEX ON h USING hnsw (v) WITH (m = 101);
CREATE INDEX ON h USING hnsw (v) WITH (ef_construction = 3);
CREATE INDEX ON h USING hnsw (v) WITH (m = 16, ef_construction = 20);
CREATE INDEX ON h USING hnsw (v) WITH (lists = 5);
CREATE TABLE hfree (v vector);
CREATE INDEX ON hfree USING hnsw (v);
CREATE INDEX ON hbig USING hnsw ((v || v));
SET enable_seqscan = off;
SELECT id FROM h ORDER BY v <-> '[1,2,3]' LIMIT 1;
RESET enable_seqscan;
SELECT * FROM vectorx_hnsw_check('h_pkey');
SET hnsw.ef_search = 0;
\set VERBOSITY default

-- every hnsw operator class passes amvalidate, and a wrong one does not
SELECT opcname, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'hnsw' ORDER BY opcname;
CREATE OPERATOR CLASS bad_ops FOR TYPE vector USING hnsw AS
  OPERATOR 1 < (vector, vector), FUNCTION 1 vector_dims(vector);
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'bad_ops';
DROP OPERATOR CLASS bad_ops USING hnsw;

-- a build that does not fit maintenance_work_mem continues on disk, with a NOTICE
CREATE TABLE hm (id int, v vector(256));
INSERT INTO hm SELECT i, ARRAY(SELECT round((sin(i * 0.11 + j * 0.9) * 5)::numeric, 2)
                               FROM generate_series(1, 256) j)::vector(256)
FROM generate_series(1, 3000) i;
SET maintenance_work_mem = '1MB';
SET max_parallel_maintenance_workers = 0;
CREATE INDEX hm_idx ON hm USING hnsw (v) WITH (m = 8, ef_construction = 32);
RESET maintenance_work_mem;
RESET max_parallel_maintenance_workers;
SELECT ok, elements, heap_tids, bad_links, unreachable FROM vectorx_hnsw_check('hm_idx');
SET enable_seqscan = off;
-- every row finds itself (distance 0) through the index
SELECT count(*) AS self_found FROM hm
WHERE (SELECT h2.v <-> hm.v FROM hm h2 ORDER BY h2.v <-> hm.v LIMIT 1) = 0;
RESET enable_seqscan;
DROP TABLE hm;

-- rows far smaller than their vectors (compressed: 3000 dimensions, 20
-- non-zero) make the table's size undercount them; a serial build grows its
-- arena instead of going on disk when maintenance_work_mem has room (it
-- used to give the NOTICE above after 128 of these 1500 rows)
CREATE TABLE hz (id int, v vector(3000));
INSERT INTO hz SELECT i, ARRAY(SELECT CASE WHEN (j * 7 + i) % 150 = 0 THEN (i % 13) + j * 0.01 ELSE 0 END
                               FROM generate_series(1, 3000) j)::vector(3000)
FROM generate_series(1, 1500) i;
SELECT pg_relation_size('hz') < 1500 * 3000 AS compressed;
SET max_parallel_maintenance_workers = 0;
CREATE INDEX hz_idx ON hz USING hnsw (v) WITH (m = 8, ef_construction = 32);
RESET max_parallel_maintenance_workers;
SELECT ok, elements, heap_tids, unreachable FROM vectorx_hnsw_check('hz_idx');
DROP TABLE hz;

DROP TABLE h, hq, hd, he, hbig, hfree;
DROP FUNCTION knn_mismatches(text);
RESET hnsw.ef_search;

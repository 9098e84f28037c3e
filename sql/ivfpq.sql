-- ivfpq: the IVF-PQ access method on small data, against brute force.

-- 1000 deterministic 16-dimension vectors in a few clusters, 20 queries
CREATE TABLE iv (id int PRIMARY KEY, v vector(16)) WITH (autovacuum_enabled = false);
INSERT INTO iv SELECT i, ARRAY(SELECT round(((i % 7) * 3 + sin(i * 0.37 + j * 1.7) * 2)::numeric, 3)
                               FROM generate_series(1, 16) j)::vector(16)
FROM generate_series(1, 1000) i;
CREATE TABLE ivq (qid int, v vector(16));
INSERT INTO ivq SELECT i, ARRAY(SELECT round(((i % 7) * 3 + cos(i * 0.91 + j * 0.3) * 2)::numeric, 3)
                                FROM generate_series(1, 16) j)::vector(16)
FROM generate_series(1, 20) i;

-- top-10 of every query, through the index and by a sequential scan
CREATE FUNCTION ivf_mismatches(op text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE q record; a int[]; b int[]; bad bigint := 0;
BEGIN
  FOR q IN SELECT * FROM ivq ORDER BY qid LOOP
    SET LOCAL enable_seqscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM iv ORDER BY v %s $1 LIMIT 10) s', op)
      INTO a USING q.v;
    SET LOCAL enable_seqscan = on;
    SET LOCAL enable_indexscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM iv ORDER BY v %s $1, id LIMIT 10) s', op)
      INTO b USING q.v;
    SET LOCAL enable_indexscan = on;
    -- equal distances may come in either order
    IF (SELECT array_agg(x ORDER BY x) FROM unnest(a) x) IS DISTINCT FROM
       (SELECT array_agg(x ORDER BY x) FROM unnest(b) x) THEN bad := bad + 1; END IF;
  END LOOP;
  RETURN bad;
END $$;

-- every list probed and the re-rank window covering the table: exact
SET ivfpq.probes = 100;
SET ivfpq.rerank = 2000;
CREATE INDEX iv_l2 ON iv USING ivfpq (v vector_l2_ops) WITH (lists = 10, m = 4);
SELECT ivf_mismatches('<->') AS l2_mismatches;
DROP INDEX iv_l2;
CREATE INDEX iv_ip ON iv USING ivfpq (v vector_ip_ops) WITH (lists = 10, m = 8, nbits = 4);
SELECT ivf_mismatches('<#>') AS ip_mismatches;
DROP INDEX iv_ip;
CREATE INDEX iv_cos ON iv USING ivfpq (v vector_cosine_ops) WITH (lists = 10, m = 5);
SELECT ivf_mismatches('<=>') AS cosine_mismatches;
DROP INDEX iv_cos;

-- the plan, the distances, statistics
CREATE INDEX iv_l2 ON iv USING ivfpq (v vector_l2_ops) WITH (lists = 10, m = 4);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' LIMIT 5;
SELECT id, round((v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]')::numeric, 3) AS d
FROM iv ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' LIMIT 3;
RESET enable_seqscan;
SELECT stat, value FROM vectorx_index_stats('iv_l2')
WHERE stat IN ('dimensions', 'lists', 'm', 'nbits', 'trained', 'entries', 'training_rows', 'build_rows')
ORDER BY stat;
SELECT value > 0 AS has_error FROM vectorx_index_stats('iv_l2') WHERE stat = 'quantization_error';
-- vectorx_ivfpq_check (ivfpqcheck.c): the invariants of ivfpq.h hold after
-- the build, with every row in one entry
SELECT ok, lists, list_pages >= lists AS pages_per_list, entries, heap_tids, new_pages, problems
FROM vectorx_ivfpq_check('iv_l2');
SELECT c.entries = s.value AS same_as_stats, c.pages = p.value AS same_pages
FROM vectorx_ivfpq_check('iv_l2') c, vectorx_index_stats('iv_l2') s, vectorx_index_stats('iv_l2') p
WHERE s.stat = 'entries' AND p.stat = 'pages';

-- inserts after the build are found; deletes and vacuum keep it exact
INSERT INTO iv SELECT i, ARRAY(SELECT round(((i % 5) * 3 + sin(i * 0.53 + j) * 2)::numeric, 3)
                               FROM generate_series(1, 16) j)::vector(16)
FROM generate_series(1001, 1300) i;
SELECT ivf_mismatches('<->') AS l2_mismatches_after_inserts;
SELECT stat, value FROM vectorx_index_stats('iv_l2') WHERE stat IN ('entries', 'inserted_rows') ORDER BY stat;
SELECT ok, entries, heap_tids, problems FROM vectorx_ivfpq_check('iv_l2');
DELETE FROM iv WHERE id % 4 = 0;
VACUUM iv;
SELECT stat, value FROM vectorx_index_stats('iv_l2') WHERE stat IN ('entries') ORDER BY stat;
SELECT ok, entries, heap_tids, heap_tids = (SELECT count(*) FROM iv) AS every_row, problems
FROM vectorx_ivfpq_check('iv_l2');
SELECT ivf_mismatches('<->') AS l2_mismatches_after_vacuum;
-- freed slots are reused before a list grows: vacuum moves each list's
-- insert point back to its first page with room.  One list of 640 entries
-- on two full pages of 320 (m = 16): the third deleted and vacuumed, the
-- same rows inserted again fill the holes of both pages; appended after
-- the last one's holes they would need a new page.
CREATE TABLE ivd (id int, v vector(16)) WITH (autovacuum_enabled = false);
INSERT INTO ivd SELECT id, v FROM iv ORDER BY id LIMIT 640;
CREATE INDEX ivd_idx ON ivd USING ivfpq (v vector_l2_ops) WITH (lists = 1, m = 16);
SELECT stat, value FROM vectorx_index_stats('ivd_idx') WHERE stat IN ('codes_per_page', 'list_pages', 'entries') ORDER BY stat;
CREATE TEMP TABLE gone AS SELECT * FROM ivd WHERE id % 3 = 0;
DELETE FROM ivd WHERE id % 3 = 0;
VACUUM ivd;
SELECT ok, lists, empty_lists, list_pages, max_chain, entries, heap_tids, problems
FROM vectorx_ivfpq_check('ivd_idx');
INSERT INTO ivd SELECT * FROM gone;
SELECT stat, value FROM vectorx_index_stats('ivd_idx') WHERE stat IN ('list_pages', 'entries') ORDER BY stat;
SELECT ok, list_pages, max_chain, entries, heap_tids, problems FROM vectorx_ivfpq_check('ivd_idx');
DROP TABLE ivd;

-- streaming: a filter that rejects most rows still gets LIMIT rows,
-- from further windows and further lists
SET ivfpq.probes = 1;
SET ivfpq.rerank = 10;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM iv WHERE id % 50 = 1 ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 15) s;
-- strict order (the default): rows in nondecreasing exact distance past
-- every window and list; a row found after a farther one is skipped, so
-- with one list per batch and windows of 10 most but not all rows come back
CREATE FUNCTION iv_order(lim int, OUT rows bigint, OUT uniq bigint, OUT ordered bool) AS $$
  SELECT count(*), count(DISTINCT id), coalesce(bool_and(d >= prev), true)
  FROM (SELECT id, d, lag(d, 1, '-Infinity') OVER (ORDER BY n) AS prev
        FROM (SELECT id, v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' AS d, row_number() OVER () AS n
              FROM (SELECT id, v FROM iv ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT lim) s) s2) s3
$$ LANGUAGE sql;
SELECT rows, rows = uniq AS once, ordered FROM iv_order(2000);
-- the issue's reproducer: re-rank windows of 5, 20 probes, LIMIT 300
SET ivfpq.rerank = 5;
SET ivfpq.probes = 20;
SELECT rows, rows = uniq AS once, ordered FROM iv_order(300);
SET ivfpq.rerank = 10;
SET ivfpq.probes = 1;
-- the settings are read once, when the scan starts: a cursor keeps its
-- re-rank window and probes across a SET
BEGIN;
DECLARE c CURSOR FOR SELECT id FROM iv ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]';
FETCH 1 FROM c;
SET LOCAL ivfpq.rerank = 100000;
SET LOCAL ivfpq.probes = 1000;
MOVE 500 FROM c;
COMMIT;
-- relaxed order: every row once, each window in order but not across
SET ivfpq.iterative_scan = relaxed_order;
SELECT rows, uniq, ordered FROM iv_order(2000);
-- without re-rank (relaxed order only): PQ order, approximate distances
SET ivfpq.rerank = 0;
SELECT rows, uniq FROM iv_order(2000);
-- under strict order a re-rank of 0 re-ranks windows of the default size
SET ivfpq.iterative_scan = strict_order;
SELECT rows, ordered FROM iv_order(2000);
-- off: the first ivfpq.probes lists only, in exact order
SET ivfpq.iterative_scan = off;
SET ivfpq.rerank = 10;
SELECT rows < 200 AS one_list, rows = uniq AS once, ordered FROM iv_order(2000);
RESET ivfpq.iterative_scan;
SET ivfpq.iterative_scan = 'bogus';
RESET enable_seqscan;
SET ivfpq.probes = 100;
SET ivfpq.rerank = 2000;
DROP INDEX iv_l2;

-- NULLs are not indexed; a table with fewer rows than lists; an empty table
CREATE TABLE ivt (id int, v vector(4));
INSERT INTO ivt VALUES (1, '[1,0,0,0]'), (2, '[0,1,0,0]'), (3, NULL), (4, '[0,0,1,0]');
CREATE INDEX ivt_idx ON ivt USING ivfpq (v) WITH (lists = 50, m = 2);
SET enable_seqscan = off;
SELECT array_agg(id) FROM (SELECT id FROM ivt ORDER BY v <-> '[0.9,0.1,0,0]' LIMIT 10) s;
RESET enable_seqscan;
SELECT stat, value FROM vectorx_index_stats('ivt_idx') WHERE stat IN ('lists', 'entries') ORDER BY stat;
SELECT ok, lists, empty_lists, entries, heap_tids, problems FROM vectorx_ivfpq_check('ivt_idx');
CREATE TABLE ive (id int, v vector(4));
CREATE INDEX ive_idx ON ive USING ivfpq (v vector_cosine_ops);
-- untrained: a meta page, a directory page, one empty list
SELECT * FROM vectorx_ivfpq_check('ive_idx');
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM ive ORDER BY v <=> '[1,0,0,0]' LIMIT 5) s;
INSERT INTO ive VALUES (1, '[1,0,0,0]'), (2, '[0,1,0,0]'), (3, '[0,0,0,0]'), (4, '[-1,0,0,0]');
-- an untrained index searches exactly; a zero vector has no direction: not
-- indexed, and a zero query returns every row the index holds
SELECT array_agg(id) FROM (SELECT id FROM ive ORDER BY v <=> '[1,0.1,0,0]' LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM ive ORDER BY v <=> '[0,0,0,0]' LIMIT 5) s;
RESET enable_seqscan;
SELECT stat, value FROM vectorx_index_stats('ive_idx') WHERE stat IN ('trained', 'entries', 'rebuild_suggested') ORDER BY stat;
SELECT ok, lists, empty_lists, list_pages, entries, heap_tids, problems FROM vectorx_ivfpq_check('ive_idx');
-- ... past its first re-rank window too: it once returned the best of the
-- first ivfpq.rerank entries it met (found by
-- test/isolation/specs/ivfpq_races.spec)
INSERT INTO ive SELECT g, ARRAY[cos(g), sin(g), g % 7, 1] FROM generate_series(5, 300) g;
SET ivfpq.rerank = 10;
SET enable_seqscan = off;
SELECT count(*) AS rows, count(*) FILTER (WHERE a.id = (SELECT b.id FROM ive b ORDER BY b.v <=> a.v LIMIT 1)) AS found_by_own_vector
  FROM ive a WHERE a.id >= 5;
RESET enable_seqscan;
SET ivfpq.rerank = 2000;

-- recall measured inside the database
CREATE INDEX iv_l2 ON iv USING ivfpq (v vector_l2_ops) WITH (lists = 10, m = 4);
SELECT recall, queries FROM vectorx_recall('iv_l2', 50, 10);
SET ivfpq.probes = 1;
SET ivfpq.rerank = 10;
SELECT recall < 1 AS narrow_misses FROM vectorx_recall('iv_l2', 200, 10);
SET ivfpq.probes = 100;
SET ivfpq.rerank = 2000;

-- errors
\set VERBOSITY terse
CREATE INDEX ON iv USING ivfpq (v) WITH (nbits = 5);
CREATE INDEX ON iv USING ivfpq (v) WITH (nbits = 16);
CREATE INDEX ON iv USING ivfpq (v) WITH (m = 17);
CREATE INDEX ON iv USING ivfpq (v) WITH (lists = -1);
CREATE INDEX ON iv USING ivfpq (v) WITH (lists = 100000);
CREATE INDEX ON iv USING ivfpq (v) WITH (ef_construction = 10);
CREATE INDEX ON iv USING ivfpq (v vector_l1_ops);
CREATE TABLE ivfree (v vector);
CREATE INDEX ON ivfree USING ivfpq (v);
CREATE INDEX ON iv USING ivfpq (((v + v)::vector(16)));
CREATE TABLE ivwide (v vector(2000));
CREATE INDEX ON ivwide USING ivfpq (v) WITH (m = 200);
SET enable_seqscan = off;
SELECT id FROM iv ORDER BY v <-> '[1,2,3]' LIMIT 1;
RESET enable_seqscan;
SET ivfpq.probes = 0;
SET ivfpq.rerank = -1;
\set VERBOSITY default

-- vectorx_ivfpq_check: another access method's index or a table is refused
-- (42809, with a hint), NULL gives a row of NULLs as vectorx_hnsw_check, and
-- only the table's owner and pg_stat_scan_tables may run it (42501)
CREATE FUNCTION ivf_check_error(idx regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; hint text;
BEGIN
  PERFORM vectorx_ivfpq_check(idx);
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
  RETURN st || ': ' || msg || ' HINT: ' || hint;
END $$;
CREATE INDEX ivt_hnsw ON ivt USING hnsw (v);
SELECT ivf_check_error('ivt_hnsw');
SELECT ivf_check_error('iv_pkey');
SELECT ivf_check_error('iv');
SELECT ivf_check_error('iv_l2');
SELECT vectorx_ivfpq_check('ivt_hnsw');
SELECT * FROM vectorx_ivfpq_check(NULL);
SELECT (SELECT count(*) FROM vectorx_hnsw_check(NULL)) AS hnsw_rows,
	(SELECT count(*) FROM vectorx_ivfpq_check(NULL)) AS ivfpq_rows,
	(SELECT ok IS NULL AND problems IS NULL FROM vectorx_hnsw_check(NULL)) AS hnsw_null,
	(SELECT ok IS NULL AND problems IS NULL FROM vectorx_ivfpq_check(NULL)) AS ivfpq_null;
CREATE ROLE regress_vx_ivc_nopriv;
CREATE ROLE regress_vx_ivc_granted;
CREATE ROLE regress_vx_ivc_scan IN ROLE pg_stat_scan_tables;
SELECT has_function_privilege('regress_vx_ivc_nopriv', 'vectorx_ivfpq_check(regclass)', 'EXECUTE') AS public,
	has_function_privilege('pg_stat_scan_tables', 'vectorx_ivfpq_check(regclass)', 'EXECUTE') AS stat_scan_tables;
SET ROLE regress_vx_ivc_nopriv;
SELECT ok FROM vectorx_ivfpq_check('iv_l2');
RESET ROLE;
GRANT EXECUTE ON FUNCTION vectorx_ivfpq_check(regclass) TO regress_vx_ivc_granted;
SET ROLE regress_vx_ivc_granted;
SELECT ok FROM vectorx_ivfpq_check('iv_l2');
RESET ROLE;
ALTER TABLE ivt OWNER TO regress_vx_ivc_granted;
SET ROLE regress_vx_ivc_granted;
SELECT ok, entries FROM vectorx_ivfpq_check('ivt_idx');
RESET ROLE;
ALTER TABLE ivt OWNER TO CURRENT_USER;
SET ROLE regress_vx_ivc_scan;
SELECT ok, entries FROM vectorx_ivfpq_check('iv_l2');
RESET ROLE;
DROP OWNED BY regress_vx_ivc_granted;
DROP ROLE regress_vx_ivc_nopriv, regress_vx_ivc_granted, regress_vx_ivc_scan;
DROP FUNCTION ivf_check_error(regclass);

-- every ivfpq operator class passes amvalidate
SELECT opcname, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'ivfpq' ORDER BY opcname;

DROP TABLE iv, ivq, ivt, ive, ivfree, ivwide;
DROP FUNCTION ivf_mismatches(text);
RESET ivfpq.probes;
RESET ivfpq.rerank;

-- ORDER BY through a vectorx index is a promise: rows come back in
-- nondecreasing exact distance for every LIMIT, setting, operator class
-- and filter strategy, and the settings a scan uses are read once, when it
-- starts.  Each block below reproduces a defect found in review.
SELECT setseed(0.12);

-- is a query's output in nondecreasing distance?  (rows, ordered)
CREATE FUNCTION ordered(q text, OUT n bigint, OUT ok bool) AS $$
BEGIN
  EXECUTE format('SELECT count(*), coalesce(bool_and(d >= prev), true) FROM
    (SELECT d, lag(d, 1, ''-Infinity''::float8) OVER (ORDER BY rn) AS prev
     FROM (SELECT d, row_number() OVER () AS rn FROM (%s) s) s2) s3', q) INTO n, ok;
END $$ LANGUAGE plpgsql;

-- 1. Settings read twice: a cursor's scan sized its arrays by ef_search = 1
-- in its first round, then read 1000 in later rounds (SIGSEGV); the same
-- through set_config() in the select list (memory corruption).
CREATE TABLE t3 (id int, v vector(3));
INSERT INTO t3 SELECT i, ARRAY[random(), random(), random()]::real[] FROM generate_series(1, 20000) i;
CREATE INDEX t3_v ON t3 USING hnsw (v vector_l2_ops);
SET enable_seqscan = off;
BEGIN;
SET LOCAL hnsw.ef_search = 1;
DECLARE c CURSOR FOR SELECT id FROM t3 ORDER BY v <-> '[.5,.5,.5]';
FETCH 1 FROM c \g /dev/null
SET LOCAL hnsw.ef_search = 1000;
MOVE 500 FROM c;
SET LOCAL hnsw.ef_search = 1;
SET LOCAL hnsw.iterative_scan = off;
MOVE 500 FROM c;
COMMIT;
SET hnsw.ef_search = 1;
SELECT count(*) FROM (SELECT id, set_config('hnsw.ef_search', '1000', true)
  FROM t3 ORDER BY v <-> '[.5,.5,.5]' LIMIT 500) s;
SELECT current_setting('hnsw.ef_search');
RESET hnsw.ef_search;
-- an index scan over the same table, restarted by a nested loop with a
-- different ef_search each time (every rescan reads the settings afresh)
SELECT count(*) FROM generate_series(1, 3) g,
  LATERAL (SELECT id, set_config('hnsw.ef_search', (g * 300)::text, true)
           FROM t3 ORDER BY v <-> ARRAY[g / 4.0, .5, .5]::real[]::vector LIMIT 100) s;
RESET hnsw.ef_search;
DROP TABLE t3;

-- 2. ORDER BY broken past the first round: 2-dimensional rows, LIMIT 50 and
-- more, default settings, every operator class.
CREATE TABLE t2 (id int, v vector(2));
INSERT INTO t2 SELECT i, ARRAY[random() - 0.3, random() - 0.3]::real[] FROM generate_series(1, 3000) i;
CREATE TEMP TABLE q2 AS SELECT g AS qid, ARRAY[random() - 0.3, random() - 0.3]::real[]::vector(2) AS q FROM generate_series(1, 10) g;
CREATE FUNCTION order_report(op text, lim int, OUT bad bigint, OUT short bigint) AS $$
  SELECT count(*) FILTER (WHERE NOT (o).ok), count(*) FILTER (WHERE (o).n < lim)
  FROM (SELECT ordered(format('SELECT v %s %L::vector AS d FROM t2 ORDER BY v %s %L::vector LIMIT %s',
                              op, q::text, op, q::text, lim)) AS o FROM q2) s
$$ LANGUAGE sql;
CREATE INDEX t2_l2 ON t2 USING hnsw (v vector_l2_ops);
SELECT lim, (order_report('<->', lim)).* FROM unnest(ARRAY[10, 50, 100, 300]) lim;
-- the whole table: in order (rows found too late may be skipped)
SELECT bad FROM order_report('<->', 3000);
-- a full scan with the defaults: every row, in order
SELECT n >= 2950 AS nearly_all, ok FROM ordered('SELECT v <-> ''[.1,.1]'' AS d FROM t2 ORDER BY v <-> ''[.1,.1]''');
DROP INDEX t2_l2;
CREATE INDEX t2_ip ON t2 USING hnsw (v vector_ip_ops);
SELECT lim, (order_report('<#>', lim)).* FROM unnest(ARRAY[10, 50, 300]) lim;
DROP INDEX t2_ip;
CREATE INDEX t2_cos ON t2 USING hnsw (v vector_cosine_ops);
SELECT lim, (order_report('<=>', lim)).* FROM unnest(ARRAY[10, 50, 300]) lim;
DROP INDEX t2_cos;
CREATE INDEX t2_l1 ON t2 USING hnsw (v vector_l1_ops);
SELECT lim, (order_report('<+>', lim)).* FROM unnest(ARRAY[10, 50, 300]) lim;
-- small ef_search: many rounds
SET hnsw.ef_search = 5;
SELECT lim, (order_report('<+>', lim)).* FROM unnest(ARRAY[50, 300]) lim;
RESET hnsw.ef_search;
DROP INDEX t2_l1;
CREATE INDEX t2_l2 ON t2 USING hnsw (v vector_l2_ops) WITH (m = 2, ef_construction = 4);
SELECT lim, (order_report('<->', lim)).bad FROM unnest(ARRAY[50, 300]) lim;
-- a full scan in strict order: in order, but this graph (m = 2,
-- ef_construction 4) is poor and its search finds many rows only after
-- farther ones: those are skipped (README, ORDER BY is a promise)
SELECT n > 0 AS some_rows, ok FROM ordered('SELECT v <-> ''[.1,.1]'' AS d FROM t2 ORDER BY v <-> ''[.1,.1]''');
-- relaxed order is opt-in: every row, each round in order, not across
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) = 10 AS every_query_out_of_order FROM q2,
  LATERAL ordered(format('SELECT v <-> %L::vector AS d FROM t2 ORDER BY v <-> %L::vector LIMIT 300', q, q)) o
  WHERE NOT o.ok;
-- off: one round of ef_search candidates, as pgvector
SET hnsw.iterative_scan = off;
SELECT n, ok FROM ordered('SELECT v <-> ''[.1,.1]'' AS d FROM t2 ORDER BY v <-> ''[.1,.1]''');
SET hnsw.iterative_scan = bogus;
RESET hnsw.iterative_scan;
DROP INDEX t2_l2;

-- IVF-PQ past its re-rank window: ivfpq.rerank = 5, probes 20, LIMIT 300
CREATE INDEX t2_ivf ON t2 USING ivfpq (v vector_l2_ops) WITH (lists = 20);
SET ivfpq.rerank = 5;
SET ivfpq.probes = 20;
SELECT lim, (order_report('<->', lim)).* FROM unnest(ARRAY[10, 50, 300]) lim;
SELECT bad FROM order_report('<->', 3000);
RESET ivfpq.rerank;
RESET ivfpq.probes;
SELECT n >= 2950 AS nearly_all, ok FROM ordered('SELECT v <-> ''[.1,.1]'' AS d FROM t2 ORDER BY v <-> ''[.1,.1]''');
SET ivfpq.rerank = 5;
SET ivfpq.probes = 1;
SELECT lim, (order_report('<->', lim)).* FROM unnest(ARRAY[50, 300]) lim;
RESET ivfpq.rerank;
RESET ivfpq.probes;
DROP INDEX t2_ivf;
CREATE INDEX t2_ivf ON t2 USING ivfpq (v vector_ip_ops) WITH (lists = 20);
SET ivfpq.rerank = 5;
SELECT lim, (order_report('<#>', lim)).* FROM unnest(ARRAY[10, 300]) lim;
RESET ivfpq.rerank;
DROP INDEX t2_ivf;
RESET enable_seqscan;

-- 3. k rows whenever k match, with the LIMIT known: an index scan that
-- ends early (m = 2, a visit budget, inner product) must not cut the
-- answer short.  Before, auto returned 127 of 506 matching rows here.
CREATE TABLE kf (id int, cat int, v vector(8));
INSERT INTO kf SELECT i, CASE WHEN i % 20 = 0 THEN 1 ELSE i % 7 + 2 END,
  ARRAY(SELECT random() * random() FROM generate_series(1, 8))::real[] FROM generate_series(1, 10000) i;
CREATE INDEX kf_v ON kf USING hnsw (v vector_ip_ops) WITH (m = 2, ef_construction = 4);
CREATE INDEX kf_cat ON kf (cat);
ANALYZE kf;
CREATE FUNCTION krows(lim int, cat_ int, OUT got bigint, OUT want bigint, OUT exact bool) AS $$
DECLARE
  qv vector := '[1,1,1,1,1,1,1,1]';
  a int[];
  b int[];
BEGIN
  EXECUTE format('SELECT array_agg(id ORDER BY rn) FROM (SELECT id, row_number() OVER () rn FROM
     (SELECT id FROM kf WHERE cat = %s ORDER BY v <#> %L LIMIT %s) s) s2', cat_, qv, lim) INTO a;
  SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, v <#> %L AS d FROM kf WHERE cat = %s
     ORDER BY d LIMIT %s) s', qv, cat_, lim) INTO b;
  got := coalesce(cardinality(a), 0);
  want := coalesce(cardinality(b), 0);
  -- the same rows (ties in distance may come in either order)
  exact := got = want AND (SELECT count(*) FROM unnest(a) x WHERE x = ANY (b)) = want;
END $$ LANGUAGE plpgsql;
SET hnsw.max_scan_tuples = 300;
SELECT s AS strategy, (krows(5000, 1)).* FROM unnest(ARRAY['auto', 'postfilter', 'inscan', 'prefilter']) s,
  LATERAL set_config('vectorx.filter_strategy', s, false) x;
SELECT s AS strategy, (krows(50, 1)).* FROM unnest(ARRAY['auto', 'postfilter', 'inscan']) s,
  LATERAL set_config('vectorx.filter_strategy', s, false) x;
-- EXPLAIN says when the index scan fell short and the node answered exactly
-- (counts that depend on the graph's shape masked as N)
CREATE FUNCTION explain_masked(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    RETURN NEXT regexp_replace(line, '(ended after|Filter:|rows=)( ?)[0-9]+', '\1\2N', 'g');
  END LOOP;
END $$;
SET vectorx.filter_strategy = postfilter;
SELECT explain_masked('SELECT id FROM kf WHERE cat = 1 ORDER BY v <#> ''[1,1,1,1,1,1,1,1]'' LIMIT 5000');
RESET vectorx.filter_strategy;
RESET hnsw.max_scan_tuples;
-- a LIMIT far beyond the rows: memory grows with the rows returned
SET vectorx.filter_strategy = postfilter;
SELECT count(*) FROM (SELECT id FROM kf WHERE cat = 1 ORDER BY v <#> '[1,1,1,1,1,1,1,1]' LIMIT 100000000) s;
RESET vectorx.filter_strategy;
DROP TABLE kf, t2;
DROP FUNCTION ordered, order_report, krows, explain_masked;

-- ivfflat: pgvector's IVF index (src/ivfpq/ivfpq.h, IVFFLAT).  Lists hold
-- 8-bit codes; the executor re-checks exact distances, so a scan returns
-- the exact nearest rows of the lists it probes, in exact order.  Answers
-- against brute force, the settings, inserts, vacuum, the empty build,
-- expression indexes, halfvec, and bad input.
SET extra_float_digits = 0;
SET jit = off;	-- the brute-force scans below cost as disabled plans: no JIT for them

CREATE TABLE ivf (id int PRIMARY KEY, tenant int, v vector(16));
INSERT INTO ivf SELECT i, i % 10,
	(SELECT array_agg(sin(i * 0.7 + j * 1.3) * 10 + cos(i * j * 0.013) * (i % 7)) FROM generate_series(1, 16) j)::vector
	FROM generate_series(1, 3000) i;
CREATE INDEX ivf_l2 ON ivf USING ivfflat (v vector_l2_ops) WITH (lists = 20);
SELECT ok, lists, entries, heap_tids, problems FROM vectorx_ivfpq_check('ivf_l2');
SELECT stat, value FROM vectorx_index_stats('ivf_l2') WHERE stat IN ('lists', 'code_bytes', 'entries', 'codes_per_page');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ivf ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 10;

-- probing every list is exact: ids, order and distances of brute force
CREATE FUNCTION ivf_mismatches(op text, k int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint := 0;
	q record;
	got text;
	want text;
BEGIN
	FOR q IN SELECT id, v FROM ivf WHERE id % 97 = 0 ORDER BY id LOOP
		EXECUTE format('SELECT string_agg(id || '':'' || d, '','') FROM (SELECT id, v %s $1 AS d FROM ivf ORDER BY v %s $1, id LIMIT %s) s',
					   op, op, k) INTO got USING q.v;
		EXECUTE format('SELECT string_agg(id || '':'' || d, '','' ORDER BY d, id) FROM (SELECT id, (v %s $1) + 0 AS d FROM ivf ORDER BY 2, 1 LIMIT %s) s',
					   op, k) INTO want USING q.v;
		IF got IS DISTINCT FROM want THEN
			n := n + 1;
			RAISE NOTICE 'query %: % instead of %', q.id, got, want;
		END IF;
	END LOOP;
	RETURN n;
END $$;
SET ivfflat.probes = 20;
SELECT ivf_mismatches('<->', 10) AS l2_10, ivf_mismatches('<->', 100) AS l2_100;

-- one list: fewer true neighbours, but in exact order with exact distances
SET ivfflat.probes = 1;
SET ivfflat.iterative_scan = off;
SELECT count(*) <= 50 AS at_most_a_list, bool_and(d >= prev) AS ordered,
	bool_and(d = (SELECT (v <-> (SELECT v FROM ivf WHERE id = 500)) + 0 FROM ivf x WHERE x.id = s.id)) AS exact
	FROM (SELECT id, d, lag(d, 1, 0.0) OVER (ORDER BY n) AS prev FROM (
		SELECT id, v <-> (SELECT v FROM ivf WHERE id = 500) AS d, row_number() OVER () AS n
		FROM (SELECT id, v FROM ivf ORDER BY v <-> (SELECT v FROM ivf WHERE id = 500) LIMIT 50) a) b) s;
-- recall of the nearest 10 over 31 queries, one list and three
SELECT round(avg(hits) / 10, 2) >= 0.7 AS probes_1_finds_most FROM (
	SELECT (SELECT count(*) FROM (SELECT id FROM ivf ORDER BY v <-> q.v LIMIT 10) a
		WHERE a.id IN (SELECT id FROM ivf ORDER BY (v <-> q.v) + 0 LIMIT 10)) AS hits
	FROM ivf q WHERE q.id % 97 = 0) r;
SET ivfflat.probes = 3;
SELECT round(avg(hits) / 10, 2) >= 0.9 AS probes_3_finds_more FROM (
	SELECT (SELECT count(*) FROM (SELECT id FROM ivf ORDER BY v <-> q.v LIMIT 10) a
		WHERE a.id IN (SELECT id FROM ivf ORDER BY (v <-> q.v) + 0 LIMIT 10)) AS hits
	FROM ivf q WHERE q.id % 97 = 0) r;

-- iterative scans: a filter that one list cannot satisfy
SET ivfflat.probes = 1;
SELECT count(*) < 10 AS off_returns_fewer FROM (SELECT id FROM ivf WHERE id % 50 = 3 ORDER BY v <-> (SELECT v FROM ivf WHERE id = 7) LIMIT 10) s;
SET ivfflat.iterative_scan = strict_order;
SET vectorx.filter_strategy = inscan;
SELECT count(*), bool_and(d >= prev) AS ordered FROM (
	SELECT d, lag(d, 1, 0.0) OVER (ORDER BY n) AS prev FROM (
		SELECT v <-> (SELECT v FROM ivf WHERE id = 7) AS d, row_number() OVER () AS n FROM (
			SELECT v FROM ivf WHERE tenant = 3 ORDER BY v <-> (SELECT v FROM ivf WHERE id = 7) LIMIT 100) a) b) s;
RESET vectorx.filter_strategy;
-- without the filter planner: the index scan keeps going, in order
SET vectorx.filter_strategy = off;
SELECT count(*), bool_and(d >= prev) AS ordered FROM (
	SELECT d, lag(d, 1, 0.0) OVER (ORDER BY n) AS prev FROM (
		SELECT v <-> (SELECT v FROM ivf WHERE id = 7) AS d, row_number() OVER () AS n FROM (
			SELECT v FROM ivf WHERE tenant = 3 ORDER BY v <-> (SELECT v FROM ivf WHERE id = 7) LIMIT 100) a) b) s;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM ivf WHERE tenant = 3 ORDER BY v <-> (SELECT v FROM ivf WHERE id = 7) LIMIT 100) s;
SET ivfflat.max_probes = 2;
SELECT count(*) < 100 AS max_probes_caps FROM (SELECT id FROM ivf WHERE tenant = 3 ORDER BY v <-> (SELECT v FROM ivf WHERE id = 7) LIMIT 100) s;
RESET ivfflat.max_probes;
RESET vectorx.filter_strategy;
RESET ivfflat.iterative_scan;
-- a full drain in strict order returns nearly every row (those found after
-- a farther one was handed out are skipped), in order
SET ivfflat.probes = 1;
SELECT count(*) >= 2700 AS nearly_all, bool_and(d >= prev) AS ordered FROM (
	SELECT d, lag(d, 1, 0.0) OVER (ORDER BY n) AS prev FROM (
		SELECT v <-> (SELECT v FROM ivf WHERE id = 7) AS d, row_number() OVER () AS n FROM (
			SELECT v FROM ivf ORDER BY v <-> (SELECT v FROM ivf WHERE id = 7)) a) b) s;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM ivf ORDER BY v <-> (SELECT v FROM ivf WHERE id = 7)) s;
RESET ivfflat.iterative_scan;
-- ORDER BY a NULL query keeps every row
SELECT count(*) FROM (SELECT id FROM ivf ORDER BY v <-> NULL::vector) s;

-- inner product and cosine, every list probed: exact
SET ivfflat.probes = 20;
CREATE INDEX ivf_ip ON ivf USING ivfflat (v vector_ip_ops) WITH (lists = 20);
CREATE INDEX ivf_cos ON ivf USING ivfflat (v vector_cosine_ops) WITH (lists = 20);
SELECT ivf_mismatches('<#>', 10) AS ip, ivf_mismatches('<=>', 10) AS cosine;
DROP INDEX ivf_ip, ivf_cos;

-- inserts after the build, deletes, VACUUM
INSERT INTO ivf SELECT i, i % 10,
	(SELECT array_agg(cos(i * 0.3 + j) * 12) FROM generate_series(1, 16) j)::vector
	FROM generate_series(3001, 3600) i;
SELECT ivf_mismatches('<->', 10) AS after_inserts;
DELETE FROM ivf WHERE id % 4 = 0;
VACUUM ivf;
SELECT ok, entries, heap_tids, problems FROM vectorx_ivfpq_check('ivf_l2');
SELECT ivf_mismatches('<->', 10) AS after_vacuum;

-- halfvec, and an expression index
CREATE INDEX ivf_half ON ivf USING ivfflat ((v::halfvec(16)) halfvec_l2_ops) WITH (lists = 10);
EXPLAIN (COSTS OFF) SELECT id FROM ivf ORDER BY v::halfvec(16) <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]'::halfvec LIMIT 5;
SET ivfflat.probes = 10;
SELECT array_agg(id) = (SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, (v::halfvec(16) <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]'::halfvec) + 0 AS d
		FROM ivf ORDER BY 2, 1 LIMIT 5) e) AS exact
	FROM (SELECT id FROM ivf ORDER BY v::halfvec(16) <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]'::halfvec, id LIMIT 5) s;
DROP INDEX ivf_half;

-- built on an empty table: one list, scanned whole, still exact
CREATE TABLE ivf_empty (id int, v vector(3));
CREATE INDEX ivf_empty_idx ON ivf_empty USING ivfflat (v);
INSERT INTO ivf_empty SELECT i, ARRAY[i, i % 7, -i]::vector FROM generate_series(1, 200) i;
SELECT array_agg(id) FROM (SELECT id FROM ivf_empty ORDER BY v <-> '[50,1,-50]' LIMIT 4) s;
SELECT ok, lists, entries FROM vectorx_ivfpq_check('ivf_empty_idx');
DROP TABLE ivf_empty;

-- settings and options: pgvector's ranges; IVF-PQ's options are not ivfflat's
SET ivfflat.probes = 0;
SET ivfflat.iterative_scan = sideways;
SET ivfflat.max_probes = 0;
CREATE INDEX ON ivf USING ivfflat (v) WITH (lists = 0);
CREATE INDEX ON ivf USING ivfflat (v) WITH (lists = 40000);
CREATE INDEX ON ivf USING ivfflat (v) WITH (m = 8);
-- no L1, no bit, not too many dimensions
CREATE OPERATOR CLASS ivf_l1_ops FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops, FUNCTION 1 l1_distance(vector, vector);
CREATE INDEX ON ivf USING ivfflat (v ivf_l1_ops);
DROP OPERATOR CLASS ivf_l1_ops USING ivfflat;
CREATE TABLE ivf_wide (v vector(8001));
CREATE INDEX ON ivf_wide USING ivfflat (v);
DROP TABLE ivf_wide;

RESET ivfflat.probes;
RESET enable_seqscan;
DROP FUNCTION ivf_mismatches(text, int);
DROP TABLE ivf;

-- a partial index (one per tenant, a common pgvector pattern) trains its
-- lists on the rows it holds: tenant 1's vectors lie far from the others',
-- and lists trained on every row would leave most of its lists empty
CREATE TABLE ivf_part (id int PRIMARY KEY, tenant int, v vector(4));
INSERT INTO ivf_part SELECT i, CASE WHEN i % 10 = 0 THEN 1 ELSE 2 END,
	CASE WHEN i % 10 = 0 THEN ARRAY[100 + sin(i), 100 + cos(i), 100 + sin(2 * i), 100 + cos(3 * i)]
		ELSE ARRAY[-100 + sin(i) * 50, -100 + cos(i) * 50, sin(i * 7) * 50, cos(i * 5) * 50] END::vector
	FROM generate_series(1, 5000) i;
CREATE INDEX ivf_part_1 ON ivf_part USING ivfflat (v) WITH (lists = 8) WHERE tenant = 1;
SELECT stat, value FROM vectorx_index_stats('ivf_part_1')
	WHERE stat IN ('entries', 'training_rows', 'list_length_min');
SELECT ok, lists, empty_lists FROM vectorx_ivfpq_check('ivf_part_1');
SET enable_seqscan = off;
SET ivfflat.probes = 8;
SELECT array_agg(id) = (SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, (v <-> '[100,100,100,100]') + 0 AS d
		FROM ivf_part WHERE tenant = 1 ORDER BY 2, 1 LIMIT 5) e) AS exact
	FROM (SELECT id FROM ivf_part WHERE tenant = 1 ORDER BY v <-> '[100,100,100,100]', id LIMIT 5) s;
RESET ivfflat.probes;
RESET enable_seqscan;
DROP TABLE ivf_part;

-- bit columns, pgvector's bit_hamming_ops: lists route by the bits as 0/1
-- vectors; the entries hold the bits, so distances are exact
CREATE TABLE ivf_bits (id int PRIMARY KEY, b bit(100));
INSERT INTO ivf_bits SELECT i, (('x' || md5(i::text))::bit(128)::text)::bit(100)
	& (('x' || md5((i % 37)::text))::bit(128)::text)::bit(100) FROM generate_series(1, 3000) i;
CREATE INDEX ivf_bits_h ON ivf_bits USING ivfflat (b bit_hamming_ops) WITH (lists = 10);
SELECT ok, lists, entries, problems FROM vectorx_ivfpq_check('ivf_bits_h');
SELECT stat, value FROM vectorx_index_stats('ivf_bits_h') WHERE stat = 'code_bytes';
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_bits ORDER BY b <~> B'1'::bit(100) LIMIT 10;
-- every list probed: the exact k nearest distances
SET ivfflat.probes = 10;
SELECT bool_and((SELECT array_agg(d) FROM (SELECT b <~> q.b AS d FROM ivf_bits ORDER BY b <~> q.b LIMIT 10) s) =
		(SELECT array_agg(d ORDER BY d) FROM (SELECT (b <~> q.b) + 0 AS d FROM ivf_bits ORDER BY 1 LIMIT 10) s)) AS exact
	FROM ivf_bits q WHERE q.id % 100 = 7;
-- fewer lists: in order; a drain nearly every row (strict order)
SET ivfflat.probes = 2;
SELECT count(*), bool_and(d >= prev) AS ordered FROM (
	SELECT d, lag(d, 1, 0.0) OVER (ORDER BY n) AS prev FROM (
		SELECT b <~> (SELECT b FROM ivf_bits WHERE id = 77) AS d, row_number() OVER () AS n FROM (
			SELECT b FROM ivf_bits ORDER BY b <~> (SELECT b FROM ivf_bits WHERE id = 77) LIMIT 200) a) c) e;
SELECT count(*) >= 2700 AS nearly_all FROM (SELECT id FROM ivf_bits ORDER BY b <~> (SELECT b FROM ivf_bits WHERE id = 77)) s;
INSERT INTO ivf_bits SELECT i, (('x' || md5(i::text))::bit(128)::text)::bit(100) FROM generate_series(3001, 3300) i;
DELETE FROM ivf_bits WHERE id % 5 = 0;
VACUUM ivf_bits;
SELECT ok, entries, problems FROM vectorx_ivfpq_check('ivf_bits_h');
SET ivfflat.probes = 10;
SELECT bool_and((SELECT array_agg(d) FROM (SELECT b <~> q.b AS d FROM ivf_bits ORDER BY b <~> q.b LIMIT 10) s) =
		(SELECT array_agg(d ORDER BY d) FROM (SELECT (b <~> q.b) + 0 AS d FROM ivf_bits ORDER BY 1 LIMIT 10) s)) AS exact
	FROM ivf_bits q WHERE q.id % 100 = 7;
-- bad input: another length, Jaccard, IVF-PQ, too long
SELECT id FROM ivf_bits ORDER BY b <~> B'101' LIMIT 1;
CREATE OPERATOR CLASS ivf_jaccard_ops FOR TYPE bit USING ivfflat AS
	OPERATOR 1 <%> (bit, bit) FOR ORDER BY float_ops, FUNCTION 1 jaccard_distance(bit, bit);
CREATE INDEX ON ivf_bits USING ivfflat (b ivf_jaccard_ops);
DROP OPERATOR CLASS ivf_jaccard_ops USING ivfflat;
CREATE TABLE ivf_bits_wide (b bit(64001));
CREATE INDEX ON ivf_bits_wide USING ivfflat (b bit_hamming_ops);
DROP TABLE ivf_bits_wide, ivf_bits;
RESET ivfflat.probes;
RESET enable_seqscan;

-- hnsw_bit: HNSW on bit columns, pgvector's bit_hamming_ops and
-- bit_jaccard_ops (src/hnsw/hnsw.h, VECTORS: the bits are the codes).
-- Index answers against brute force, the exact order handed to the
-- executor, inserts, vacuum, long strings across pages, expression
-- indexes over binary_quantize with a re-rank, and bad input.
SET extra_float_digits = 0;
SET jit = off;	-- the brute-force scans below cost as disabled plans: no JIT for them

-- 1200 rows of 128 bits, about a quarter set, from md5: deterministic
CREATE TABLE bits (id int PRIMARY KEY, v bit(128));
INSERT INTO bits SELECT i, ('x' || md5(i::text))::bit(128) & ('x' || md5((i * 7)::text))::bit(128)
	FROM generate_series(1, 1000) i;
INSERT INTO bits VALUES (1001, B'0'::bit(128)), (1002, B'0'::bit(128));	-- no bit set
CREATE INDEX bits_ham ON bits USING hnsw (v bit_hamming_ops) WITH (m = 8, ef_construction = 64);
CREATE INDEX bits_jac ON bits USING hnsw (v bit_jaccard_ops) WITH (m = 8, ef_construction = 64);
SELECT ok, elements, unreachable, problems FROM vectorx_hnsw_check('bits_ham');
SELECT ok, elements, unreachable, problems FROM vectorx_hnsw_check('bits_jac');

SET enable_seqscan = off;
SET hnsw.ef_search = 200;
EXPLAIN (COSTS OFF) SELECT id FROM bits ORDER BY v <~> B'1'::bit(128) LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM bits ORDER BY v <%> B'1'::bit(128) LIMIT 10;

-- tie-aware recall: the share of the index's k distances within brute
-- force's k-th (ties make row sets ambiguous, distances are not); and the
-- queries whose k distances differ from brute force's at all.  40 queries.
CREATE FUNCTION bits_recall(op text, k int, OUT recall numeric, OUT inexact int) LANGUAGE plpgsql AS $$
DECLARE
	q record;
	got float8[];
	want float8[];
	hits int := 0;
	total int := 0;
BEGIN
	inexact := 0;
	FOR q IN SELECT id, v FROM bits WHERE id % 25 = 0 OR id > 1000 ORDER BY id LOOP
		EXECUTE format('SELECT array_agg(d) FROM (SELECT v %s $1 AS d FROM bits ORDER BY v %s $1 LIMIT %s) s', op, op, k)
			INTO got USING q.v;
		EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT (v %s $1) + 0 AS d FROM bits ORDER BY 1 LIMIT %s) s', op, k)
			INTO want USING q.v;
		hits := hits + (SELECT count(*) FROM unnest(got) d WHERE d <= want[k]);
		total := total + k;
		IF got IS DISTINCT FROM want THEN
			inexact := inexact + 1;
		END IF;
	END LOOP;
	recall := round(hits::numeric / total, 2);
END $$;
-- ef_search 1000 over 1002 rows: exact
SET hnsw.ef_search = 1000;
SELECT * FROM bits_recall('<~>', 10) h, bits_recall('<%>', 10) j;
SELECT * FROM bits_recall('<~>', 100) h, bits_recall('<%>', 100) j;
-- uniform random bits are the hardest case for a graph (every distance
-- near every other); ef_search 40 still finds most
SET hnsw.ef_search = 40;
SELECT h.recall >= 0.8 AS hamming_ok, j.recall >= 0.8 AS jaccard_ok
	FROM bits_recall('<~>', 10) h, bits_recall('<%>', 10) j;
SET hnsw.ef_search = 200;

-- rows come in exact order with exact distances (the executor re-checks)
SELECT bool_and(d >= prev) AS ordered, count(*) FROM (
	SELECT d, lag(d, 1, 0.0) OVER (ORDER BY n) AS prev FROM (
		SELECT v <%> (SELECT v FROM bits WHERE id = 3) AS d, row_number() OVER () AS n
		FROM (SELECT v FROM bits ORDER BY v <%> (SELECT v FROM bits WHERE id = 3) LIMIT 300) s) t) u;
-- nothing set: Jaccard 1 to every row, as the function says
SELECT id, v <%> B'0'::bit(128) AS d FROM bits ORDER BY v <%> B'0'::bit(128), id LIMIT 3;
SELECT id, v <~> B'0'::bit(128) AS d FROM bits ORDER BY v <~> B'0'::bit(128) LIMIT 2;
-- ORDER BY a NULL query keeps every row
SELECT count(*) FROM (SELECT id FROM bits ORDER BY v <~> NULL::bit(128)) s;

-- inserts after the build, then deletes and VACUUM
INSERT INTO bits SELECT i, ('x' || md5(i::text))::bit(128) | ('x' || md5((i * 3)::text))::bit(128)
	FROM generate_series(2001, 2300) i;
SET hnsw.ef_search = 1000;
SELECT * FROM bits_recall('<~>', 10) h, bits_recall('<%>', 10) j;
DELETE FROM bits WHERE id % 3 = 0;
VACUUM bits;
SELECT ok, elements, deleted, unreachable, problems FROM vectorx_hnsw_check('bits_ham');
SELECT ok, elements, deleted, unreachable, problems FROM vectorx_hnsw_check('bits_jac');
SELECT * FROM bits_recall('<~>', 10) h, bits_recall('<%>', 10) j;
SET hnsw.ef_search = 200;

-- bad input: a query of another length, values of another length in a
-- bit varying(n) column, no length, too long, IVF-PQ
SELECT id FROM bits ORDER BY v <~> B'101' LIMIT 1;
CREATE TABLE varbits (v bit varying(8));
INSERT INTO varbits VALUES (B'10101010'), (B'101');
CREATE INDEX ON varbits USING hnsw (v bit_hamming_ops);
CREATE TABLE varbits2 (v bit varying);
CREATE INDEX ON varbits2 USING hnsw (v bit_hamming_ops);
CREATE TABLE longbits (v bit(128001));
CREATE INDEX ON longbits USING hnsw (v bit_hamming_ops);
CREATE OPERATOR CLASS bit_wrong_ops FOR TYPE bit USING ivfpq AS
	OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops, FUNCTION 1 hamming_distance(bit, bit);
CREATE INDEX ON bits USING ivfpq (v bit_wrong_ops);
DROP OPERATOR CLASS bit_wrong_ops USING ivfpq;
DROP TABLE varbits, varbits2, longbits;

-- long strings: elements of 2500 and 16000 code bytes cross pages; pgvector
-- indexes up to 64000 bits
CREATE TABLE wide (id int PRIMARY KEY, v bit(20000));
INSERT INTO wide SELECT i, (SELECT string_agg(('x' || md5((i * 1000 + j)::text))::bit(128)::text, '')
	FROM generate_series(1, 157) j)::bit(20000) FROM generate_series(1, 60) i;
CREATE INDEX wide_ham ON wide USING hnsw (v bit_hamming_ops) WITH (m = 4);
SELECT ok, elements, problems FROM vectorx_hnsw_check('wide_ham');
SELECT array_agg(id) = (SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, (v <~> (SELECT v FROM wide WHERE id = 5)) + 0 AS d
		FROM wide ORDER BY 2, 1 LIMIT 5) e) AS exact
	FROM (SELECT id FROM wide ORDER BY v <~> (SELECT v FROM wide WHERE id = 5) LIMIT 5) s;
CREATE TABLE widest (id int PRIMARY KEY, v bit(128000));
INSERT INTO widest SELECT i, (SELECT string_agg(('x' || md5((i * 1000 + j)::text))::bit(128)::text, '')
	FROM generate_series(1, 1000) j)::bit(128000) FROM generate_series(1, 12) i;
CREATE INDEX widest_jac ON widest USING hnsw (v bit_jaccard_ops);
SELECT ok, elements, problems FROM vectorx_hnsw_check('widest_jac');
SELECT id FROM widest ORDER BY v <%> (SELECT v FROM widest WHERE id = 9) LIMIT 1;
DROP TABLE wide, widest;

-- pgvector's two-phase pattern: an expression index over binary_quantize,
-- candidates by Hamming distance, re-ranked by the exact distance
CREATE TABLE emb (id int PRIMARY KEY, e vector(16));
INSERT INTO emb SELECT i, (SELECT array_agg(sin(i * 0.37 + j * 1.3) + cos(i * j * 0.11)) FROM generate_series(1, 16) j)::vector
	FROM generate_series(1, 800) i;
CREATE INDEX emb_bq ON emb USING hnsw ((binary_quantize(e)::bit(16)) bit_hamming_ops);
EXPLAIN (COSTS OFF) SELECT id FROM emb ORDER BY binary_quantize(e)::bit(16) <~> binary_quantize('[1,-1,1,-1,1,-1,1,-1,1,-1,1,-1,1,-1,1,-1]'::vector) LIMIT 40;
WITH q AS (SELECT e FROM emb WHERE id = 77),
	cand AS (SELECT id, e FROM emb ORDER BY binary_quantize(e)::bit(16) <~> binary_quantize((SELECT e FROM q)) LIMIT 100),
	reranked AS (SELECT id FROM cand ORDER BY e <-> (SELECT e FROM q) LIMIT 5)
SELECT array_agg(id) FROM reranked;
SELECT count(*) FROM (SELECT binary_quantize(e)::bit(16) <~> binary_quantize((SELECT e FROM emb WHERE id = 77)) AS d
	FROM emb ORDER BY binary_quantize(e)::bit(16) <~> binary_quantize((SELECT e FROM emb WHERE id = 77)) LIMIT 100) s
	WHERE d <= (SELECT max(d) FROM (SELECT (binary_quantize(e)::bit(16) <~> binary_quantize((SELECT e FROM emb WHERE id = 77))) + 0 AS d
		FROM emb ORDER BY 1 LIMIT 100) x);
DROP TABLE emb;

-- recall monitoring asks a bit index with its own rows; vector queries are refused
SET hnsw.ef_search = 1000;
SELECT recall, queries FROM vectorx_recall('bits_ham', 20, 10);
SELECT * FROM vectorx_recall_queries('bits_ham', ARRAY['[1,2]'::vector], 10);

RESET enable_seqscan;
RESET hnsw.ef_search;
DROP FUNCTION bits_recall(text, int);
DROP TABLE bits;

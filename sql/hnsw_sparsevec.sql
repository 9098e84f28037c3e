-- hnsw_sparsevec: HNSW on sparsevec columns, pgvector's sparsevec_l2_ops,
-- sparsevec_ip_ops, sparsevec_cosine_ops and sparsevec_l1_ops
-- (src/common/vxcodec.h, SPARSE CODES: an element keeps up to nnz of a
-- vector's non-zero elements, the rest is error the executor's re-check
-- absorbs).  pgvector's own cases, answers against brute force with
-- vectors above the capacity, elements across pages, inserts, vacuum,
-- NULL and zero queries, and bad input.
SET extra_float_digits = 0;
SET jit = off;	-- the brute-force scans below cost as disabled plans: no JIT for them

-- pgvector's cases: the empty vector is indexed (L2), NULL is not
CREATE TABLE t (val sparsevec(3));
INSERT INTO t (val) VALUES ('{}/3'), ('{1:1,2:2,3:3}/3'), ('{1:1,2:1,3:1}/3'), (NULL);
CREATE INDEX t_l2 ON t USING hnsw (val sparsevec_l2_ops);
INSERT INTO t (val) VALUES ('{1:1,2:2,3:4}/3');
SET enable_seqscan = off;
SELECT * FROM t ORDER BY val <-> '{1:3,2:3,3:3}/3';
SELECT count(*) FROM (SELECT * FROM t ORDER BY val <-> (SELECT NULL::sparsevec)) t2;
DROP INDEX t_l2;
CREATE INDEX t_ip ON t USING hnsw (val sparsevec_ip_ops);
SELECT * FROM t ORDER BY val <#> '{1:3,2:3,3:3}/3';
DROP INDEX t_ip;
-- cosine: the empty vector has no direction and is not indexed; a zero
-- query ties every row and returns every indexed one
CREATE INDEX t_cos ON t USING hnsw (val sparsevec_cosine_ops);
SELECT * FROM t ORDER BY val <=> '{1:3,2:3,3:3}/3';
SELECT count(*) FROM (SELECT * FROM t ORDER BY val <=> '{}/3') t2;
DROP INDEX t_cos;
CREATE INDEX t_l1 ON t USING hnsw (val sparsevec_l1_ops);
SELECT * FROM t ORDER BY val <+> '{1:3,2:3,3:3}/3';
EXPLAIN (COSTS OFF) SELECT * FROM t ORDER BY val <+> '{1:3,2:3,3:3}/3' LIMIT 2;
DROP TABLE t;
RESET enable_seqscan;

-- A deterministic sparse vector of topic seed % 20: about 30 of the
-- topic's 40 terms with weights near the topic's (vectors of a topic are
-- neighbours), and n small noise terms anywhere among the first 3000 of
-- dims dimensions.  (Vectors of independent random terms have no neighbours:
-- every vector is about as far from every other, and the nearest are the
-- shortest, which defeats any graph, hnswlib's as well.)
CREATE FUNCTION sv(seed int, n int, dims int) RETURNS sparsevec LANGUAGE sql IMMUTABLE AS $$
	SELECT format('{%s}/%s', string_agg(format('%s:%s', k, v), ',' ORDER BY k), dims)::sparsevec
	FROM (SELECT DISTINCT ON (k) k, v FROM (
		SELECT 1 + (seed % 20) * 40 + j AS k,
			round(1 + (j % 5) * 0.5 + ((abs(hashint4(seed * 7919 + j)) % 200) - 100) / 250.0, 3) AS v
		FROM generate_series(0, 39) j WHERE abs(hashint4(seed * 131 + j)) % 4 <> 0
		UNION ALL
		SELECT 1 + abs(hashint4(seed * 1009 + j)) % 3000,
			round(((abs(hashint4(seed * 31 + j * 7)) % 600) - 300) / 1000.0 + 0.0005, 4)
		FROM generate_series(1, n) j) s ORDER BY k, v) t
$$;

-- 600 rows of 100000 dimensions, about 20 to 50 non-zeros, and three
-- empty ones; the capacity the build takes from the rows keeps every
-- element of every vector
CREATE TABLE docs (id int PRIMARY KEY, v sparsevec(100000));
INSERT INTO docs SELECT i, sv(i, (i * 37) % 13, 100000) FROM generate_series(1, 600) i;
INSERT INTO docs VALUES (601, '{}/100000'), (602, '{}/100000'), (603, '{}/100000');
CREATE INDEX docs_l2 ON docs USING hnsw (v sparsevec_l2_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX docs_ip ON docs USING hnsw (v sparsevec_ip_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX docs_cos ON docs USING hnsw (v sparsevec_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX docs_l1 ON docs USING hnsw (v sparsevec_l1_ops) WITH (m = 16, ef_construction = 64);
SELECT ok, elements, unreachable, problems FROM vectorx_hnsw_check('docs_l2');
SELECT ok, elements, unreachable, problems FROM vectorx_hnsw_check('docs_l1');
-- the empty vectors are not in the cosine index
SELECT (SELECT elements FROM vectorx_hnsw_check('docs_ip')) - (SELECT elements FROM vectorx_hnsw_check('docs_cos')) AS empty_rows;
SELECT stat, value FROM vectorx_index_stats('docs_l2') WHERE stat IN ('dimensions', 'nnz', 'elements', 'heap_tids');

-- recall against brute force, by distances (the index's k distances that
-- are among brute force's k, counted as multisets: ties make row sets
-- ambiguous, distances are not), and the queries whose k distances differ
-- from brute force's at all.  30 queries, half of them rows.  The index's
-- distances are the exact ones (the executor re-checks), and in order.
CREATE FUNCTION docs_recall(op text, k int, OUT recall numeric, OUT inexact int, OUT unordered int)
LANGUAGE plpgsql AS $$
DECLARE
	q record;
	got float8[];
	want float8[];
	hits int := 0;
	total int := 0;
BEGIN
	inexact := 0;
	unordered := 0;
	FOR q IN SELECT id, v FROM docs WHERE id % 40 = 7
		UNION ALL SELECT -i, sv(5000 + i, 5, 100000) FROM generate_series(1, 15) i ORDER BY id LOOP
		SET LOCAL enable_seqscan = off;
		EXECUTE format('SELECT array_agg(d) FROM (SELECT v %s $1 AS d FROM docs ORDER BY v %s $1 LIMIT %s) s', op, op, k)
			INTO got USING q.v;
		SET LOCAL enable_seqscan = on;
		SET LOCAL enable_indexscan = off;
		EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (SELECT v %s $1 AS d FROM docs ORDER BY 1 LIMIT %s) s', op, k)
			INTO want USING q.v;
		SET LOCAL enable_indexscan = on;
		hits := hits + (SELECT count(*)
			FROM (SELECT d, row_number() OVER (PARTITION BY d) FROM unnest(got) d) a
			JOIN (SELECT d, row_number() OVER (PARTITION BY d) FROM unnest(want) d) b USING (d, row_number));
		total := total + k;
		IF got IS DISTINCT FROM want THEN
			inexact := inexact + 1;
		END IF;
		IF got IS DISTINCT FROM (SELECT array_agg(d ORDER BY d) FROM unnest(got) d) THEN
			unordered := unordered + 1;
		END IF;
	END LOOP;
	recall := round(hits::numeric / total, 3);
END $$;
-- rows find themselves first at ef_search 40, all but at most 2% (under
-- L2 and L1 the first rows of one topic, 17 to 177, are missed: the
-- graph's doing, not the sparse codes'; a vector index of the same rows
-- misses 36)
SET hnsw.ef_search = 40;
SET enable_seqscan = off;
SELECT count(*) FILTER (WHERE (SELECT d.v <-> q.v FROM docs d ORDER BY d.v <-> q.v LIMIT 1) <> 0) <= 12 AS l2_ok,
	count(*) FILTER (WHERE (SELECT d.v <+> q.v FROM docs d ORDER BY d.v <+> q.v LIMIT 1) <> 0) <= 12 AS l1_ok,
	count(*) FILTER (WHERE (SELECT d.v <=> q.v FROM docs d ORDER BY d.v <=> q.v LIMIT 1) > 1e-6) <= 12 AS cosine_ok
	FROM docs q WHERE q.id <= 600;
RESET enable_seqscan;
-- ef_search 1000 over 603 rows: the search reaches every element, and the
-- answers are exact
SET hnsw.ef_search = 1000;
SELECT 'l2' AS op, * FROM docs_recall('<->', 10) UNION ALL
SELECT 'ip', * FROM docs_recall('<#>', 10) UNION ALL
SELECT 'cosine', * FROM docs_recall('<=>', 10) UNION ALL
SELECT 'l1', * FROM docs_recall('<+>', 10);
SET hnsw.ef_search = 40;
SELECT 'l2' AS op, recall >= 0.8 AS ok, unordered FROM docs_recall('<->', 10) UNION ALL
SELECT 'ip', recall >= 0.8, unordered FROM docs_recall('<#>', 10) UNION ALL
SELECT 'cosine', recall >= 0.8, unordered FROM docs_recall('<=>', 10) UNION ALL
SELECT 'l1', recall >= 0.8, unordered FROM docs_recall('<+>', 10);

-- capacity 24: most rows keep only their 24 largest elements, the rest
-- is error (their lower bounds are looser); answers stay exact and in
-- order, and the search still finds them
DROP INDEX docs_l2, docs_ip, docs_cos, docs_l1;
SELECT count(*) AS above_capacity FROM docs WHERE (v::text ~ ',') AND
	array_length(string_to_array(split_part(v::text, '}', 1), ','), 1) > 24;
CREATE INDEX docs_l2 ON docs USING hnsw (v sparsevec_l2_ops) WITH (m = 16, ef_construction = 64, nnz = 24);
CREATE INDEX docs_ip ON docs USING hnsw (v sparsevec_ip_ops) WITH (m = 16, ef_construction = 64, nnz = 24);
SELECT stat, value FROM vectorx_index_stats('docs_ip') WHERE stat = 'nnz';
SELECT ok, elements, unreachable, problems FROM vectorx_hnsw_check('docs_ip');
SET hnsw.ef_search = 1000;
SELECT 'l2' AS op, * FROM docs_recall('<->', 10) UNION ALL
SELECT 'ip', * FROM docs_recall('<#>', 10);
SET hnsw.ef_search = 40;
SELECT 'l2' AS op, recall >= 0.75 AS ok, unordered FROM docs_recall('<->', 10) UNION ALL
SELECT 'ip', recall >= 0.75, unordered FROM docs_recall('<#>', 10);

-- inserts (above the capacity too), deletes and VACUUM
INSERT INTO docs SELECT i, sv(i, (i * 37) % 13 + 10, 100000) FROM generate_series(604, 800) i;
DELETE FROM docs WHERE id % 3 = 0;
VACUUM docs;
SELECT ok, elements, deleted, unreachable, problems FROM vectorx_hnsw_check('docs_l2');
SELECT ok, elements, deleted, unreachable, problems FROM vectorx_hnsw_check('docs_ip');
SET hnsw.ef_search = 1000;
SELECT 'l2' AS op, * FROM docs_recall('<->', 10) UNION ALL
SELECT 'ip', * FROM docs_recall('<#>', 10);

-- recall monitoring asks with the index's own rows
SELECT recall >= 0.95 AS ok, queries FROM vectorx_recall('docs_ip', 20, 10);

-- elements across pages: capacity 3000 (15004 bytes of codes), vectors of
-- up to 3000 non-zeros in a billion dimensions, read piece by piece
CREATE TABLE wide (id int PRIMARY KEY, v sparsevec(1000000000));
INSERT INTO wide SELECT i, format('{%s}/1000000000', (SELECT string_agg(format('%s:%s', 1 + j * 333331 + (i % 7) * 11, ((i * j) % 17) - 8.5), ',' ORDER BY j)
	FROM generate_series(0, 2000 + (i * 97) % 1000) j))::sparsevec FROM generate_series(1, 120) i;
CREATE INDEX wide_l2 ON wide USING hnsw (v sparsevec_l2_ops) WITH (m = 8, nnz = 3000);
CREATE INDEX wide_cos ON wide USING hnsw (v sparsevec_cosine_ops) WITH (m = 8, nnz = 1000);
SELECT ok, elements, problems FROM vectorx_hnsw_check('wide_l2');
SELECT stat, value FROM vectorx_index_stats('wide_l2') WHERE stat IN ('nnz', 'bytes_per_vector');
SET enable_seqscan = off;
SELECT array_agg(id) AS l2 FROM (SELECT id FROM wide ORDER BY v <-> (SELECT v FROM wide WHERE id = 5) LIMIT 5) s;
SELECT array_agg(id) AS cosine FROM (SELECT id FROM wide ORDER BY v <=> (SELECT v FROM wide WHERE id = 5) LIMIT 5) s;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT array_agg(id) AS l2 FROM (SELECT id FROM wide ORDER BY v <-> (SELECT v FROM wide WHERE id = 5), id LIMIT 5) s;
SELECT array_agg(id) AS cosine FROM (SELECT id FROM wide ORDER BY v <=> (SELECT v FROM wide WHERE id = 5), id LIMIT 5) s;
RESET enable_indexscan;

-- bad input
CREATE TABLE nodims (v sparsevec);
CREATE INDEX ON nodims USING hnsw (v sparsevec_l2_ops);
CREATE TABLE dense (v vector(3));
CREATE INDEX ON dense USING hnsw (v vector_l2_ops) WITH (nnz = 10);
CREATE INDEX ON docs USING hnsw (v sparsevec_l2_ops) WITH (nnz = 16001);
CREATE INDEX ON docs USING ivfflat (v sparsevec_l2_ops);
INSERT INTO docs VALUES (99999, '{1:1}/5');
SELECT * FROM vectorx_recall_queries('docs_l2', ARRAY['[1,2,3]'::vector], 10);
DROP TABLE nodims, dense, docs, wide;
DROP FUNCTION sv, docs_recall;

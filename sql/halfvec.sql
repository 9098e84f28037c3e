-- halfvec: pgvector's half-precision vector type (src/halfvec.h).
-- Text and binary formats, limits, casts, operators, functions,
-- aggregates and the HNSW and IVF-PQ operator classes.
SET extra_float_digits = 0;

-- text I/O: pgvector's format; values round to nearest even binary16
SELECT '[1,2.5,-3]'::halfvec;
SELECT '  [ 1 , 2 ]  '::halfvec;
SELECT '[1.0009765625,1.00048828125,1.00146484375]'::halfvec;	-- exact, tie to even, tie to even
SELECT '[65504,-65504,65519.99,6e-8,2.9e-8,1e-10]'::halfvec;	-- the range, subnormals, underflow to 0
SELECT '[0.1]'::halfvec::text, '[0.1]'::halfvec::vector::text;	-- what is stored
SELECT '[1,2,3]'::halfvec(3);
SELECT '[65520]'::halfvec;
SELECT '[-1e5]'::halfvec;
SELECT '[NaN]'::halfvec;
SELECT '[Infinity]'::halfvec;
SELECT '[]'::halfvec;
SELECT '[1,2'::halfvec;
SELECT '1,2]'::halfvec;
SELECT '[1,,2]'::halfvec;
SELECT '[1,2] x'::halfvec;
SELECT '[1,2]'::halfvec(3);
SELECT '[1]'::halfvec(0);
SELECT '[1]'::halfvec(16001);
SELECT '[1]'::halfvec(1, 2);
SELECT vector_dims(array_fill(1, ARRAY[16000])::halfvec);
SELECT array_fill(1, ARRAY[16001])::halfvec;
SELECT ('[' || repeat('1,', 16000) || '1]')::halfvec;

-- binary I/O: pgvector's wire format (int16 dim, int16 0, big-endian binary16)
SELECT halfvec_send('[1,-2,0.5]');
CREATE TABLE hbin (v halfvec(3));
INSERT INTO hbin VALUES ('[1,2,3]'), ('[-0.5,0,65504]'), ('[6e-8,-0,0.1]');
COPY hbin TO '/tmp/vectorx_halfvec.bin' (FORMAT binary);
CREATE TABLE hbin2 (v halfvec(3));
COPY hbin2 FROM '/tmp/vectorx_halfvec.bin' (FORMAT binary);
SELECT * FROM hbin2;
CREATE TABLE hbin4 (v halfvec(4));
COPY hbin4 FROM '/tmp/vectorx_halfvec.bin' (FORMAT binary);
DROP TABLE hbin, hbin2, hbin4;

-- casts
SELECT ARRAY[1,2,3]::halfvec, ARRAY[1.5,2.5]::real[]::halfvec,
       ARRAY[0.1,0.2]::double precision[]::halfvec, ARRAY[1.25,3]::numeric[]::halfvec;
SELECT ARRAY[1,2,3]::halfvec(2);
SELECT ARRAY[70000]::halfvec;
SELECT ARRAY[65519.99::float8]::halfvec;
SELECT ARRAY['NaN']::real[]::halfvec;
SELECT ARRAY[[1,2],[3,4]]::halfvec;
SELECT ARRAY[1,NULL]::halfvec;
SELECT ARRAY[]::integer[]::halfvec;
SELECT ARRAY['a']::text[]::halfvec;
SELECT ARRAY[1e300, NULL]::float8[]::halfvec;	-- the first bad element is reported
SELECT ARRAY[1e300, NULL]::float8[]::vector;
SELECT ARRAY[NULL, 1e300]::float8[]::vector;
SELECT '[1,2.5]'::halfvec::real[];
SELECT '[0.1,3]'::vector::halfvec, '[0.1,3]'::halfvec::vector;
SELECT '[1e5]'::vector::halfvec;
SELECT '[1,2]'::vector::halfvec(3);
CREATE TABLE hcast (h halfvec(2), v vector(2));
INSERT INTO hcast (h) VALUES ('[1,2]'::vector);		-- vector -> halfvec is implicit
INSERT INTO hcast (v) SELECT h FROM hcast;			-- halfvec -> vector on assignment
INSERT INTO hcast (h) VALUES (ARRAY[3,4]);
SELECT * FROM hcast ORDER BY h, v;
DROP TABLE hcast;

-- distances: those of the vectors cast from the halfvecs, the same kernels
SELECT l2_distance('[1,2,3]'::halfvec, '[4,6,8]'), '[1,2,3]'::halfvec <-> '[4,6,8]',
       inner_product('[1,2,3]'::halfvec, '[4,6,8]'), '[1,2,3]'::halfvec <#> '[4,6,8]',
       cosine_distance('[1,2,3]'::halfvec, '[4,6,8]'), '[1,2,3]'::halfvec <=> '[4,6,8]',
       l1_distance('[1,2,3]'::halfvec, '[4,6,8]'), '[1,2,3]'::halfvec <+> '[4,6,8]';
SELECT count(*) FILTER (WHERE h1 <-> h2 <> v1 <-> v2) AS l2_differ,
       count(*) FILTER (WHERE h1 <#> h2 <> v1 <#> v2) AS ip_differ,
       count(*) FILTER (WHERE h1 <=> h2 <> v1 <=> v2) AS cos_differ,
       count(*) FILTER (WHERE h1 <+> h2 <> v1 <+> v2) AS l1_differ,
       count(*) AS pairs
FROM (SELECT h1, h2, h1::vector v1, h2::vector v2 FROM
      (SELECT ARRAY(SELECT sin(g * k) * 100 FROM generate_series(1, d) k)::halfvec h1,
              ARRAY(SELECT cos(g + k) FROM generate_series(1, d) k)::halfvec h2
       FROM generate_series(1, 40) g, (VALUES (1), (7), (16), (33), (300)) dd(d)) s) t;
SELECT '[1,2]'::halfvec <-> '[1,2,3]';
SELECT '[0,0]'::halfvec <=> '[1,2]';		-- NaN, as for vector

-- functions
SELECT vector_dims('[1,2,3]'::halfvec), l2_norm('[3,4]'::halfvec), l2_normalize('[3,4]'::halfvec),
       l2_normalize('[0,0]'::halfvec), subvector('[1,2,3,4,5]'::halfvec, 2, 3), subvector('[1,2,3]'::halfvec, -1, 3);
SELECT subvector('[1,2,3]'::halfvec, 4, 1);
SELECT subvector('[1,2,3]'::halfvec, 1, -1);
SELECT binary_quantize('[1,-2,0,3,-0,0.001]'::halfvec), binary_quantize('[1,-2,0,3,-0,0.001]'::halfvec) = binary_quantize('[1,-2,0,3,-0,0.001]'::vector);

-- arithmetic: in float4, rounded to binary16; leaving its range is an error
SELECT '[1,2]'::halfvec + '[0.5,3]', '[1,2]'::halfvec - '[0.5,3]', '[1,2]'::halfvec * '[0.5,3]',
       '[1,2]'::halfvec || '[3]'::halfvec;
SELECT '[60000]'::halfvec + '[60000]';
SELECT '[-60000]'::halfvec - '[60000]';
SELECT '[300]'::halfvec * '[300]';
SELECT '[1e-4]'::halfvec * '[1e-4]';
SELECT '[1,2]'::halfvec + '[1]';
SELECT array_fill(1, ARRAY[10000])::halfvec || array_fill(1, ARRAY[6001])::halfvec;

-- comparison, btree, DISTINCT, ORDER BY
SELECT '[1,2]'::halfvec < '[1,3]', '[1,2]'::halfvec = '[1,2]', '[1,2]'::halfvec < '[1,2,0]',
       '[-0]'::halfvec = '[0]', '[1,2]'::halfvec <> '[1,2]', halfvec_cmp('[2]', '[1]');
CREATE TABLE hsort (v halfvec);
INSERT INTO hsort VALUES ('[3,1]'), ('[1,2]'), ('[1,2]'), ('[1]'), ('[-5,9]'), (NULL);
SELECT v FROM hsort ORDER BY v;
SELECT DISTINCT v FROM hsort ORDER BY v;
CREATE INDEX ON hsort (v);
SET enable_seqscan = off;
SELECT v FROM hsort WHERE v = '[1,2]';
RESET enable_seqscan;
DROP TABLE hsort;

-- aggregates
SELECT avg(v), sum(v) FROM (VALUES ('[1,2]'::halfvec), ('[3,5]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (SELECT '[1,2]'::halfvec v WHERE false) t;
SELECT avg(v) FROM (VALUES ('[1,2]'::halfvec), ('[3]')) t(v);
SELECT sum(v) FROM (VALUES ('[60000]'::halfvec), ('[60000]')) t(v);
SELECT avg(v) FROM (VALUES ('[60000]'::halfvec), ('[60000]')) t(v);	-- the mean is in range

-- HNSW over halfvec: every operator class, exact answers with a wide search
CREATE TABLE hitems (id int PRIMARY KEY, tenant int, h halfvec(8));
INSERT INTO hitems SELECT g, g % 5,
	ARRAY(SELECT round((sin(g * 0.7 + k) * 10)::numeric, 2) FROM generate_series(1, 8) k)
	FROM generate_series(1, 600) g;
CREATE INDEX hitems_l2 ON hitems USING hnsw (h halfvec_l2_ops);
CREATE INDEX hitems_ip ON hitems USING hnsw (h halfvec_ip_ops);
CREATE INDEX hitems_cos ON hitems USING hnsw (h halfvec_cosine_ops) WITH (m = 8);
CREATE INDEX hitems_l1 ON hitems USING hnsw (h halfvec_l1_ops);
ANALYZE hitems;
SET hnsw.ef_search = 400;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hitems ORDER BY h <-> '[1,2,3,4,5,6,7,8]' LIMIT 5;
CREATE FUNCTION knn_matches(op text, idx text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	q halfvec := '[1,-2,3,-4,5,-6,7,-8]';
	got int[];
	want int[];
	plan text := '';
	line text;
BEGIN
	SET LOCAL enable_seqscan = off;
	SET LOCAL enable_indexscan = on;
	FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM hitems ORDER BY h %s $1 LIMIT 10', op) USING q LOOP
		plan := plan || line;
	END LOOP;
	IF plan NOT LIKE '%Index Scan using ' || idx || ' %' THEN
		RAISE EXCEPTION 'plan does not use %: %', idx, plan;
	END IF;
	EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM hitems ORDER BY h %s $1 LIMIT 10) s', op) INTO got USING q;
	SET LOCAL enable_indexscan = off;
	SET LOCAL enable_seqscan = on;
	EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM hitems ORDER BY h %s $1, id LIMIT 10) s', op) INTO want USING q;
	RETURN got = want;
END
$$;
SELECT knn_matches('<->', 'hitems_l2'), knn_matches('<#>', 'hitems_ip'),
       knn_matches('<=>', 'hitems_cos'), knn_matches('<+>', 'hitems_l1');
-- filtered, and the whole table in order through the index
SELECT array_agg(id) = (SELECT array_agg(id) FROM (SELECT id FROM hitems WHERE tenant = 3
	ORDER BY h::vector <-> '[1,1,1,1,1,1,1,1]', id LIMIT 5) s)
FROM (SELECT id FROM hitems WHERE tenant = 3 ORDER BY h <-> '[1,1,1,1,1,1,1,1]' LIMIT 5) s;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM hitems ORDER BY h <-> '[1,1,1,1,1,1,1,1]') s;
-- writes after the build, VACUUM, and the check function
INSERT INTO hitems VALUES (1000, 0, '[1,-2,3,-4,5,-6,7,-8]');
SELECT id FROM hitems ORDER BY h <-> '[1,-2,3,-4,5,-6,7,-8]' LIMIT 1;
DELETE FROM hitems WHERE id = 1000;
VACUUM hitems;
SELECT id FROM hitems ORDER BY h <-> '[1,-2,3,-4,5,-6,7,-8]' LIMIT 1;
SELECT ok, elements, unreachable FROM vectorx_hnsw_check('hitems_l2');
-- recall monitoring on a halfvec index: stored rows, given and recorded queries
SET vectorx.query_sample_rate = 1;
SELECT id FROM hitems ORDER BY h <-> '[1.5,2,3,4,5,6,7,0.1]' LIMIT 1;
RESET vectorx.query_sample_rate;
SELECT * FROM vectorx_sampled_queries('hitems_l2');
SELECT recall, queries FROM vectorx_recall_sampled('hitems_l2');
SELECT recall, queries FROM vectorx_recall_queries('hitems_l2', ARRAY['[1,2,3,4,5,6,7,8]'::vector]);
SELECT recall >= 0.95 AS recall_ok, queries FROM vectorx_recall('hitems_l2', 50);
SELECT '[1,2]'::halfvec(2) IS NOT NULL;
INSERT INTO hitems VALUES (1001, 0, '[1,2,3]');
-- an operator class whose support function does not fit its column (a
-- superuser's mistake): values of the wrong size are refused, never read
CREATE OPERATOR CLASS halfvec_wrong_ops FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vector_l2_squared_distance(vector, vector);
CREATE INDEX hitems_wrong ON hitems USING hnsw (h halfvec_wrong_ops);
DROP OPERATOR CLASS halfvec_wrong_ops USING hnsw;
-- an index of halfvec takes a query of another type only as halfvec
SELECT id FROM hitems ORDER BY h <-> '[1,-2,3,-4,5,-6,7,-8]'::vector::halfvec LIMIT 1;

-- IVF-PQ over halfvec: l2, inner product, cosine; every list probed is exact
CREATE INDEX hitems_ivf_l2 ON hitems USING ivfpq (h halfvec_l2_ops) WITH (lists = 4, m = 4);
CREATE INDEX hitems_ivf_ip ON hitems USING ivfpq (h halfvec_ip_ops) WITH (lists = 4, m = 4);
CREATE INDEX hitems_ivf_cos ON hitems USING ivfpq (h halfvec_cosine_ops) WITH (lists = 4, m = 4);
DROP INDEX hitems_l2, hitems_ip, hitems_cos;
SET ivfpq.probes = 4;
SELECT knn_matches('<->', 'hitems_ivf_l2'), knn_matches('<#>', 'hitems_ivf_ip'),
       knn_matches('<=>', 'hitems_ivf_cos');
SELECT ok FROM vectorx_ivfpq_check('hitems_ivf_l2');
CREATE INDEX ON hitems USING ivfpq (h halfvec_l1_ops);

-- an expression index: halfvec from a vector column, re-ranked exactly in SQL
CREATE TABLE vitems (id int PRIMARY KEY, v vector(8));
INSERT INTO vitems SELECT id, h FROM hitems;
CREATE INDEX vitems_half ON vitems USING hnsw ((v::halfvec(8)) halfvec_l2_ops);
SELECT knn_rerank = exact FROM
	(SELECT array_agg(id) knn_rerank FROM (SELECT id FROM
		(SELECT id, v FROM vitems ORDER BY v::halfvec(8) <-> '[1,2,3,4,5,6,7,8]' LIMIT 40) c
		ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10) s) a,
	(SELECT array_agg(id) exact FROM (SELECT id FROM vitems ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10) s) b;
EXPLAIN (COSTS OFF) SELECT id FROM vitems ORDER BY v::halfvec(8) <-> '[1,2,3,4,5,6,7,8]' LIMIT 40;

-- more dimensions than pgvector indexes (4000 for halfvec)
CREATE TABLE hwide (id int, h halfvec(6000));
INSERT INTO hwide SELECT g, array_fill(g::real, ARRAY[6000])::halfvec FROM generate_series(1, 20) g;
CREATE INDEX ON hwide USING hnsw (h halfvec_l2_ops);
SELECT id FROM hwide ORDER BY h <-> array_fill(7.2::real, ARRAY[6000])::halfvec LIMIT 3;
-- rows and the query out of line (6000 dimensions is beyond the PLAIN rule):
-- an exact scan with the query from a subquery, its detoasted copy kept
-- across rows, answers as with the query written out
SET enable_indexscan = off;
SELECT id, h <-> (SELECT h FROM hwide WHERE id = 7) AS d FROM hwide ORDER BY h <-> (SELECT h FROM hwide WHERE id = 7), id LIMIT 4;
SELECT id, h <-> array_fill(7::real, ARRAY[6000])::halfvec AS d FROM hwide ORDER BY 2, id LIMIT 4;
RESET enable_indexscan;
-- a LATERAL k-NN: one index rescan per outer row, each answering
SET hnsw.ef_search = 10;
CREATE TABLE hlat (id int, h halfvec(4000));
INSERT INTO hlat SELECT g, array_fill((g % 7)::real, ARRAY[4000])::halfvec FROM generate_series(1, 50) g;
CREATE INDEX ON hlat USING hnsw (h halfvec_l2_ops);
SELECT count(*), count(DISTINCT g % 5), sum(d) FROM generate_series(1, 2000) g,
	LATERAL (SELECT h <-> array_fill((g % 5)::real, ARRAY[4000])::halfvec d FROM hlat
	         ORDER BY h <-> array_fill((g % 5)::real, ARRAY[4000])::halfvec LIMIT 1) s;
DROP TABLE hlat;
DROP TABLE hwide, vitems, hitems;
DROP FUNCTION knn_matches;
RESET enable_seqscan;
RESET hnsw.ef_search;
RESET ivfpq.probes;

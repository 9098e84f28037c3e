-- sparsevec: pgvector's sparse vector type (src/sparsevec.h).  Text and
-- binary formats, limits, casts, distances on the sparse form, norms,
-- comparison.
SET extra_float_digits = 0;

-- text I/O: 1-based indexes in any order, zeros dropped, then the dimensions
SELECT '{1:1.5,3:2}/5'::sparsevec;
SELECT ' { 3 : 2 , 1 : 1.5 } / 5 '::sparsevec;
SELECT '{}/3'::sparsevec, '{2:0,3:0}/3'::sparsevec;
SELECT '{1000000000:1}/1000000000'::sparsevec;
SELECT '{1:1,2:2}/2'::sparsevec(2);
SELECT '{1:1}/2'::sparsevec(3);
SELECT '{1:1,1:2}/3'::sparsevec;
SELECT '{0:1}/3'::sparsevec;
SELECT '{4:1}/3'::sparsevec;
SELECT '{1:1}/0'::sparsevec;
SELECT '{1:1}/1000000001'::sparsevec;
SELECT '{1:1}/99999999999999999999'::sparsevec;
SELECT '{99999999999:1}/3'::sparsevec;
SELECT '{1:NaN}/3'::sparsevec;
SELECT '{1:Infinity}/3'::sparsevec;
SELECT '{1:1e39}/3'::sparsevec;
SELECT '{1:1/3'::sparsevec;
SELECT '[1,2]'::sparsevec;
SELECT '{1:1}'::sparsevec;
SELECT '{1:1}/3x'::sparsevec;
SELECT '{1 1}/3'::sparsevec;
SELECT '{1:}/3'::sparsevec;
SELECT '{1:1}/3'::sparsevec(0);
SELECT '{1:1}/3'::sparsevec(1000000001);
SELECT ('{' || string_agg(g || ':1', ',') || '}/20000')::sparsevec IS NOT NULL FROM generate_series(1, 16000) g;
SELECT ('{' || string_agg(g || ':1', ',') || '}/20000')::sparsevec FROM generate_series(1, 16001) g;

-- binary I/O: pgvector's wire format (0-based indexes), through COPY
SELECT sparsevec_send('{1:1.5,3:2}/5');
CREATE TABLE sbin (v sparsevec);
INSERT INTO sbin VALUES ('{1:1.5,3:2}/5'), ('{}/7'), ('{1000000000:-1}/1000000000');
COPY sbin TO '/tmp/vectorx_sparsevec.bin' (FORMAT binary);
CREATE TABLE sbin2 (v sparsevec);
COPY sbin2 FROM '/tmp/vectorx_sparsevec.bin' (FORMAT binary);
SELECT * FROM sbin2;
DROP TABLE sbin, sbin2;

-- casts to and from vector and halfvec
SELECT '[0,1.5,0,2,0]'::vector::sparsevec, '{2:1.5,4:2}/5'::sparsevec::vector;
SELECT '[0,0.1,0]'::halfvec::sparsevec, '{2:0.1}/3'::sparsevec::halfvec;
SELECT '[1,2]'::vector::sparsevec(3);
SELECT '{1:1}/16001'::sparsevec::vector;
SELECT '{1:70000}/2'::sparsevec::halfvec;
CREATE TABLE scast (s sparsevec(3), v vector(3));
INSERT INTO scast VALUES ('[1,0,2]'::vector, '{3:5}/3'::sparsevec);	-- both by assignment
SELECT * FROM scast;
DROP TABLE scast;

-- distances: on the sparse form, the same as on the dense vectors
SELECT l2_distance('{1:3}/2'::sparsevec, '{2:4}/2'), '{1:3}/2'::sparsevec <-> '{2:4}/2',
       inner_product('{1:1,2:2}/2'::sparsevec, '{1:3,2:4}/2'), '{1:1,2:2}/2'::sparsevec <#> '{1:3,2:4}/2',
       cosine_distance('{1:1}/2'::sparsevec, '{2:1}/2'), '{1:1}/2'::sparsevec <=> '{1:2}/2',
       l1_distance('{1:1}/3'::sparsevec, '{3:-2}/3'), '{1:1}/3'::sparsevec <+> '{3:-2}/3';
SELECT count(*) FILTER (WHERE abs((s1 <-> s2) - (v1 <-> v2)) > 1e-5 * (1 + (v1 <-> v2))) AS l2_differ,
       count(*) FILTER (WHERE abs((s1 <#> s2) - (v1 <#> v2)) > 1e-5 * (1 + abs(v1 <#> v2))) AS ip_differ,
       count(*) FILTER (WHERE NOT (abs((s1 <=> s2) - (v1 <=> v2)) <= 1e-5
                                   OR ((s1 <=> s2) = 'NaN' AND (v1 <=> v2) = 'NaN'))) AS cos_differ,
       count(*) FILTER (WHERE (v1 <=> v2) = 'NaN') AS cos_nan,
       count(*) FILTER (WHERE abs((s1 <+> s2) - (v1 <+> v2)) > 1e-5 * (1 + (v1 <+> v2))) AS l1_differ,
       count(*) AS pairs
FROM (SELECT v1::sparsevec s1, v2::sparsevec s2, v1, v2 FROM
      (SELECT ARRAY(SELECT CASE WHEN (g * k) % 3 = 0 THEN sin(g * k) ELSE 0 END FROM generate_series(1, d) k)::vector v1,
              ARRAY(SELECT CASE WHEN (g + k) % 4 = 0 THEN cos(g + k) ELSE 0 END FROM generate_series(1, d) k)::vector v2
       FROM generate_series(1, 40) g, (VALUES (3), (17), (100)) dd(d)) s) t;
SELECT '{1:1}/2'::sparsevec <-> '{1:1}/3';
SELECT '{}/2'::sparsevec <=> '{1:1}/2';		-- NaN, as for vector
-- a billion dimensions cost what their stored elements cost
SELECT '{1:1,999999999:2}/1000000000'::sparsevec <-> '{1000000000:2}/1000000000';

-- norms
SELECT l2_norm('{1:3,5:4}/5'::sparsevec), l2_normalize('{1:3,5:4}/5'::sparsevec), l2_normalize('{}/5'::sparsevec);

-- comparison, btree, DISTINCT
SELECT '{1:1}/2'::sparsevec < '{1:2}/2', '{1:1}/2'::sparsevec = '{1:1}/2', '{2:-1}/2'::sparsevec < '{}/2',
       '{1:1}/2'::sparsevec < '{1:1}/3', sparsevec_cmp('{1:1}/2', '{2:1}/2');
CREATE TABLE ssort (v sparsevec);
INSERT INTO ssort VALUES ('{1:1}/3'), ('{2:1}/3'), ('{1:1}/3'), ('{}/3'), ('{3:-1}/3'), (NULL);
SELECT v FROM ssort ORDER BY v;
SELECT DISTINCT v FROM ssort ORDER BY v;
CREATE INDEX ON ssort (v);
SET enable_seqscan = off;
SELECT v FROM ssort WHERE v = '{1:1}/3';
RESET enable_seqscan;
DROP TABLE ssort;

-- k-NN by exact scan (hnsw_sparsevec.sql tests the index)
CREATE TABLE sitems (id int, s sparsevec(1000));
INSERT INTO sitems SELECT g, ('{' || (g % 1000) + 1 || ':1,' || ((g * 7) % 1000) + 1 || ':' || g || '}/1000')::sparsevec
	FROM generate_series(1, 300) g;
SELECT id FROM sitems ORDER BY s <-> '{8:1,50:7}/1000' LIMIT 3;
CREATE INDEX ON sitems USING hnsw (s);
DROP TABLE sitems;

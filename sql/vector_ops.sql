-- vector_ops: every operator and function against hand-computed values,
-- and the btree/hash operator classes.

-- distances: a=[1,2,3], b=[3,1,2]: diff (-2,1,1), |diff|^2 = 6, a.b = 11,
-- |a|^2 = |b|^2 = 14, cosine = 1 - 11/14 = 3/14
SELECT '[1,2,3]'::vector <-> '[3,1,2]' AS l2, sqrt(6) AS expect;
SELECT '[1,2,3]'::vector <#> '[3,1,2]' AS neg_ip;
SELECT round(('[1,2,3]'::vector <=> '[3,1,2]')::numeric, 12) AS cosine,
       round(3/14::numeric, 12) AS expect;
SELECT '[1,2,3]'::vector <+> '[3,1,2]' AS l1;
SELECT l2_distance('[0,0]'::vector, '[3,4]'), inner_product('[1,2]'::vector, '[3,4]'),
       cosine_distance('[1,0]'::vector, '[0,1]'), l1_distance('[0,0]'::vector, '[3,-4]');
SELECT vector_negative_inner_product('[1,2]', '[3,4]'),
       vector_l2_squared_distance('[0,0]', '[3,4]');
-- cosine: same direction 0, opposite 2, zero vector NaN (as pgvector)
SELECT cosine_distance('[1,1]'::vector, '[2,2]'), cosine_distance('[1,1]'::vector, '[-1,-1]');
SELECT cosine_distance('[0,0]'::vector, '[1,1]'), '[0,0]'::vector <=> '[0,0]';
-- operands commute
SELECT '[3,1,2]'::vector <-> '[1,2,3]', '[3,1,2]'::vector <=> '[1,2,3]';
-- NULL in, NULL out
SELECT '[1,2]'::vector <-> NULL IS NULL AS strict;

-- single-vector functions
SELECT vector_dims('[1,2,3]'::vector), vector_norm('[3,4]'), vector_norm('[0,0]');
SELECT l2_normalize('[3,4]'::vector), l2_normalize('[0,0]'::vector), l2_normalize('[-2]'::vector);
SELECT vector_norm(l2_normalize('[1,2,3,4,5]'::vector)) BETWEEN 0.9999999 AND 1.0000001 AS unit;
SELECT subvector('[1,2,3,4,5]'::vector, 2, 3), subvector('[1,2,3,4,5]'::vector, 4, 10),
       subvector('[1,2,3,4,5]'::vector, -1, 3), subvector('[1,2,3]'::vector, 1, 3);

-- element-wise arithmetic and concatenation
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]',
       '[1,2,3]'::vector * '[4,5,6]', '[1,2]'::vector || '[3]';

-- comparison: element by element, then shorter first
SELECT '[1,2]'::vector < '[1,3]' AS lt, '[1,2]'::vector < '[1,2,0]' AS shorter,
       '[2]'::vector > '[1,9]' AS gt, '[1,2]'::vector = '[1,2]' AS eq,
       '[1,2]'::vector <> '[1,2]' AS ne, '[1,2]'::vector <= '[1,2]' AS le,
       '[1,2]'::vector >= '[1,2]' AS ge, '[0]'::vector = '[-0]' AS zero_eq;
SELECT vector_cmp('[1,2]', '[1,3]'), vector_cmp('[1,3]', '[1,2]'), vector_cmp('[1]', '[1]');

-- btree and hash opclasses: ORDER BY, DISTINCT, GROUP BY, UNIQUE
CREATE TABLE cmp (v vector);
INSERT INTO cmp VALUES ('[2,1]'), ('[1,2]'), ('[1,2]'), ('[1]'), ('[1,2,0]'), ('[0]'), ('[-0]');
SELECT v FROM cmp ORDER BY v, v::text;
SELECT DISTINCT v FROM cmp ORDER BY v;
SET enable_sort = off;
SELECT v, count(*) FROM cmp GROUP BY v ORDER BY v;
RESET enable_sort;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT v, count(*) FROM cmp GROUP BY v;
RESET enable_sort;
-- hashing agrees with equality, also for -0 and 0
SELECT vector_hash('[0,1]') = vector_hash('[-0,1]') AS same_hash,
       vector_hash_extended('[0,1]', 7) = vector_hash_extended('[-0,1]', 7) AS same_hash_ext,
       vector_hash('[1,2]') <> vector_hash('[2,1]') AS differs;
CREATE INDEX cmp_hash ON cmp USING hash (v);
CREATE INDEX cmp_btree ON cmp USING btree (v);
SET enable_seqscan = off;
SELECT count(*) FROM cmp WHERE v = '[1,2]';
EXPLAIN (COSTS OFF) SELECT count(*) FROM cmp WHERE v = '[1,2]';
RESET enable_seqscan;
CREATE UNIQUE INDEX cmp_unique ON cmp (v);
DELETE FROM cmp WHERE ctid NOT IN (SELECT min(ctid) FROM cmp GROUP BY v);
CREATE UNIQUE INDEX cmp_unique ON cmp (v);
INSERT INTO cmp VALUES ('[2,1]');
-- hash join on vectors
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM cmp a JOIN cmp b ON a.v = b.v;
SELECT count(*) FROM cmp a JOIN cmp b ON a.v = b.v;
RESET enable_mergejoin;
RESET enable_nestloop;
DROP TABLE cmp;

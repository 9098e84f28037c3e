-- pgTAP: behaviour of the type as a client sees it.
BEGIN;
SELECT plan(20);

SELECT is('[1,2,3]'::vector::text, '[1,2,3]', 'text round trip');
SELECT is('[0.1, 1e-7 ,-2.5e20]'::vector::text, '[0.1,1e-07,-2.5e+20]', 'shortest float4 digits');
SELECT is(vector_dims('[1,2,3,4]'::vector), 4, 'vector_dims');
SELECT is('[3,4]'::vector <-> '[0,0]', 5::float8, '<-> is L2 distance');
SELECT is('[1,2]'::vector <#> '[3,4]', -11::float8, '<#> is negative inner product');
SELECT is('[1,0]'::vector <=> '[0,1]', 1::float8, '<=> is cosine distance');
SELECT is('[1,2]'::vector <+> '[3,5]', 5::float8, '<+> is L1 distance');
SELECT ok(('[0,0]'::vector <=> '[1,1]') = 'NaN'::float8, 'cosine with a zero vector is NaN');
SELECT is(l2_normalize('[3,4]'::vector)::text, '[0.6,0.8]', 'l2_normalize');
SELECT is(subvector('[1,2,3,4]'::vector, 2, 2)::text, '[2,3]', 'subvector');

SELECT throws_ok($$SELECT '[1,2'::vector$$, '22P02', NULL, 'malformed literal is 22P02');
SELECT throws_ok($$SELECT '[NaN]'::vector$$, '22000', 'NaN not allowed in vector');
SELECT throws_ok($$SELECT '[1e39]'::vector$$, '22003', NULL, 'out of range is 22003');
SELECT throws_ok($$SELECT '[1,2]'::vector <-> '[1]'$$, '22000', 'different vector dimensions 2 and 1');
SELECT throws_ok($$SELECT '[1,2]'::vector(3)$$, '22000', 'expected 3 dimensions, not 2');

CREATE TEMP TABLE items (id int PRIMARY KEY, embedding vector(3));
INSERT INTO items VALUES (1, '[1,2,3]'), (2, '[4,5,6]'), (3, '[3,1,2]'), (4, NULL);
SELECT results_eq($$SELECT id FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5$$,
                  ARRAY[3, 1, 2, 4], 'exact k-NN order, NULLs last');
SELECT results_eq($$SELECT id FROM items ORDER BY embedding <=> '[1,2,3]' LIMIT 2$$,
                  ARRAY[1, 2], 'cosine k-NN order');
SELECT is((SELECT avg(embedding)::text FROM items), '[2.6666667,2.6666667,3.6666667]', 'avg');
SELECT is((SELECT sum(embedding)::text FROM items), '[8,8,11]', 'sum');
SELECT is((SELECT count(DISTINCT embedding)::int FROM items), 3, 'DISTINCT over vectors');

SELECT * FROM finish();
ROLLBACK;

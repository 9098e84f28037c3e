-- bit_functions: binary vectors as pgvector has them (issue "A true drop-in
-- for pgvector", item 1): PostgreSQL's bit type with binary_quantize,
-- hamming_distance (<~>) and jaccard_distance (<%>).
SELECT binary_quantize('[1,0,-1,0.5,-0.0,3,2,-2,1e-30]'::vector);
SELECT binary_quantize('[-1]'::vector), binary_quantize('[1]'::vector);
SELECT pg_typeof(binary_quantize('[1,2]'::vector));
SELECT length(binary_quantize(array_fill(1, ARRAY[16000])::vector));
SELECT hamming_distance(B'1010', B'0110'), B'1010' <~> B'0110', B'1111' <~> B'1111';
SELECT jaccard_distance(B'1010', B'0110'), B'1010' <%> B'0110', B'1100' <%> B'1100';
-- no bit set in both (none at all, too): 1, not NaN
SELECT jaccard_distance(B'0000', B'0000'), jaccard_distance(B'1000', B'0100');
-- lengths must agree
SELECT hamming_distance(B'101', B'1010');
SELECT B'101' <%> B'10';
-- varbit arguments are bit strings too
SELECT '1010'::varbit::bit(4) <~> B'0000';
-- against a count done bit by bit in SQL, over lengths across word edges
CREATE TABLE bq (id int, a bit varying, b bit varying);
INSERT INTO bq SELECT n * 10 + k,
  (SELECT string_agg(CASE WHEN random() < 0.5 THEN '1' ELSE '0' END, '') FROM generate_series(1, n) g WHERE k >= 0)::varbit,
  (SELECT string_agg(CASE WHEN random() < 0.3 THEN '1' ELSE '0' END, '') FROM generate_series(1, n) g WHERE k >= 0)::varbit
FROM unnest(ARRAY[1, 7, 8, 9, 63, 64, 65, 127, 128, 129, 1000]) n, generate_series(0, 4) k;
SELECT count(*) AS pairs,
  bool_and(a <~> b = (SELECT count(*) FROM generate_series(1, length(a)) i WHERE substring(a, i, 1) <> substring(b, i, 1))) AS hamming_ok,
  bool_and(abs((a <%> b) - CASE WHEN (SELECT count(*) FROM generate_series(1, length(a)) i WHERE substring(a, i, 1) = B'1' AND substring(b, i, 1) = B'1') = 0 THEN 1
    ELSE 1 - (SELECT count(*) FROM generate_series(1, length(a)) i WHERE substring(a, i, 1) = B'1' AND substring(b, i, 1) = B'1')::float8
           / (SELECT count(*) FROM generate_series(1, length(a)) i WHERE substring(a, i, 1) = B'1' OR substring(b, i, 1) = B'1') END) < 1e-12) AS jaccard_ok
FROM bq;
-- binary quantization with an exact re-rank, as pgvector's docs show it
CREATE TABLE bqv (id int, v vector(3));
INSERT INTO bqv VALUES (1, '[1,1,1]'), (2, '[1,-1,1]'), (3, '[-1,-1,-1]'), (4, '[1,1,-1]'), (5, '[0.9,1.1,0.8]');
SELECT id FROM (SELECT id, v FROM bqv ORDER BY binary_quantize(v)::bit(3) <~> binary_quantize('[1,1,1]'::vector), id LIMIT 3) s
ORDER BY v <=> '[1,1,1]', id;
DROP TABLE bq, bqv;

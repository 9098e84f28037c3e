-- vector_agg: avg and sum, serial and parallel (combine functions).

CREATE TABLE agg (g int, v vector(3));
INSERT INTO agg VALUES (1, '[1,2,3]'), (1, '[3,4,5]'), (2, '[10,10,10]'), (2, NULL);
SELECT avg(v), sum(v) FROM agg;
SELECT g, avg(v), sum(v), count(v) FROM agg GROUP BY g ORDER BY g;
-- no rows, or only NULLs: NULL
SELECT avg(v), sum(v) FROM agg WHERE false;
SELECT avg(v), sum(v) FROM agg WHERE v IS NULL;
-- mixed dimensions are an error
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) s(v);
SELECT sum(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) s(v);

-- parallel aggregation gives the same answer as serial
CREATE TABLE aggbig AS
  SELECT i % 7 AS g, ARRAY[i % 10, (i * 7) % 13, 1]::vector(3) AS v
  FROM generate_series(1, 100000) i;
ANALYZE aggbig;
SET max_parallel_workers_per_gather = 0;
SELECT avg(v), sum(v) FROM aggbig;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM aggbig;
SELECT avg(v), sum(v) FROM aggbig;
SELECT g, avg(v) FROM aggbig GROUP BY g ORDER BY g;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
DROP TABLE agg, aggbig;

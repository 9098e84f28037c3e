-- hnsw_recall: recall of vector_cosine_ops on dense low-dimensional data,
-- where the 8-bit quantization error of unit vectors exceeds the spread of
-- the nearest rows' distances (hnsw.h, VECTORS, "Quantization noise").
-- 10000 vectors of 3 dimensions (each coordinate random() * random()),
-- 20 queries, LIMIT 20, default m, ef_construction and ef_search: a float
-- HNSW finds all 20; the threshold is pgvector's 0.99.  The ip, l2 and l1
-- classes on the same data are in hnsw_graph; 32-d data, parallel,
-- spilled, inserted and churned indexes in test/t/012_hnsw_recall_opclass.pl.

-- exact top-k of each query against the index's, as a fraction found
CREATE FUNCTION rc_recall(tbl text, qtbl text, op text, k int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE q record; exact bigint[]; approx bigint[]; hit int := 0; total int := 0;
BEGIN
  FOR q IN EXECUTE format('SELECT v FROM %I ORDER BY qid', qtbl) LOOP
    -- "v op q + 0" matches no index: a sequential scan and a sort
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY (v %s $1) + 0, id LIMIT %s) s',
                   tbl, op, k) INTO exact USING q.v;
    SET LOCAL enable_seqscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY v %s $1 LIMIT %s) s',
                   tbl, op, k) INTO approx USING q.v;
    SET LOCAL enable_seqscan = on;
    hit := hit + (SELECT count(*) FROM unnest(approx) a WHERE a = ANY (exact));
    total := total + k;
  END LOOP;
  RETURN hit::float8 / total;
END $$;

SELECT setseed(0.5);
CREATE TABLE rlo (id int PRIMARY KEY, v vector(3));
INSERT INTO rlo SELECT g, ARRAY[random() * random(), random() * random(), random() * random()]
FROM generate_series(1, 10000) g;
CREATE TABLE rlo_q (qid int, v vector(3));
INSERT INTO rlo_q SELECT g, ARRAY[random() * random(), random() * random(), random() * random()]
FROM generate_series(1, 20) g;
SET max_parallel_maintenance_workers = 0;

-- a serial build
CREATE INDEX rlo_idx ON rlo USING hnsw (v vector_cosine_ops);
SELECT rc_recall('rlo', 'rlo_q', '<=>', 20) >= 0.99 AS cosine_recall_ok;
-- every setting of hnsw.iterative_scan: the first round alone must do
SET hnsw.iterative_scan = off;
SELECT rc_recall('rlo', 'rlo_q', '<=>', 20) >= 0.99 AS cosine_recall_first_round_ok;
RESET hnsw.iterative_scan;
DROP INDEX rlo_idx;

-- built on half the rows, the other half inserted
CREATE TABLE rlo2 (id int PRIMARY KEY, v vector(3));
INSERT INTO rlo2 SELECT * FROM rlo WHERE id <= 5000;
CREATE INDEX rlo2_idx ON rlo2 USING hnsw (v vector_cosine_ops);
INSERT INTO rlo2 SELECT * FROM rlo WHERE id > 5000;
SELECT rc_recall('rlo2', 'rlo_q', '<=>', 20) >= 0.99 AS cosine_recall_inserted_ok;

RESET max_parallel_maintenance_workers;
DROP TABLE rlo, rlo2, rlo_q;
DROP FUNCTION rc_recall(text, text, text, int);

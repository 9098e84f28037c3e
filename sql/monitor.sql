-- monitor: vectorx_index_stats, vectorx_recall and its variants, query sampling.

-- 2000 deterministic 16-dimension vectors, 40 exact duplicates, a few NULLs
CREATE TABLE m (id int PRIMARY KEY, v vector(16)) WITH (autovacuum_enabled = false);
INSERT INTO m SELECT i, ARRAY(SELECT round((sin(i * 0.37 + j * 1.7 + i * j * 0.01) * 10)::numeric, 2)
                              FROM generate_series(1, 16) j)::vector(16)
FROM generate_series(1, 2000) i;
INSERT INTO m SELECT 3000 + id, v FROM m WHERE id <= 40;
INSERT INTO m VALUES (5001, NULL), (5002, NULL);
CREATE INDEX m_hnsw ON m USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 40);

-- statistics: one row per figure
SELECT stat, value FROM vectorx_index_stats('m_hnsw')
WHERE stat IN ('dimensions', 'm', 'ef_construction', 'elements', 'heap_tids',
               'deleted_elements', 'free_elements', 'problems')
ORDER BY stat;
SELECT value >= 2 AS has_upper_levels FROM vectorx_index_stats('m_hnsw') WHERE stat = 'levels';
SELECT s.value = c.pages AS pages_match
FROM vectorx_index_stats('m_hnsw') s, vectorx_hnsw_check('m_hnsw') c WHERE s.stat = 'pages';
SELECT value BETWEEN 1 AND 16 AS mean_degree_sane FROM vectorx_index_stats('m_hnsw') WHERE stat = 'degree_mean';
SELECT value >= 1 AS every_element_linked FROM vectorx_index_stats('m_hnsw') WHERE stat = 'degree_min';
DELETE FROM m WHERE id BETWEEN 100 AND 199;
SELECT stat, value FROM vectorx_index_stats('m_hnsw') WHERE stat IN ('elements', 'heap_tids');
VACUUM m;
SELECT stat, value FROM vectorx_index_stats('m_hnsw')
WHERE stat IN ('elements', 'heap_tids', 'deleted_elements', 'free_elements', 'links_to_deleted')
ORDER BY stat;

-- recall: near exact with a wide beam, lower with a narrow one (the AVX2
-- and AVX-512 kernels round differently and can build different graphs:
-- 1 with AVX-512, 0.98 with AVX2)
SET hnsw.ef_search = 400;
SELECT recall >= 0.97 AS near_exact, queries, mean_ms > 0 AS timed, p99_ms >= mean_ms AS p99_above_mean
FROM vectorx_recall('m_hnsw', 50, 10);
SET hnsw.ef_search = 1;
SET hnsw.max_scan_tuples = 10;
SELECT recall < 1 AS narrow_beam_misses, recall > 0 AS narrow_beam_finds, queries
FROM vectorx_recall('m_hnsw', 200, 10);
RESET hnsw.max_scan_tuples;
SET hnsw.ef_search = 400;
-- the same sample twice: the figure is reproducible
SELECT a.recall = b.recall AS same_sample
FROM vectorx_recall('m_hnsw', 30, 5) a, vectorx_recall('m_hnsw', 30, 5) b;
-- more queries than blocks: several rows per block
SELECT queries FROM vectorx_recall('m_hnsw', 500, 3);
-- duplicates: their twin is an exact answer at distance 0, not a miss
SELECT recall FROM vectorx_recall_queries('m_hnsw', ARRAY(SELECT v FROM m WHERE id <= 40), 1);
-- given queries; NULL elements are skipped
SELECT recall, queries FROM vectorx_recall_queries('m_hnsw',
  ARRAY['[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]', NULL, '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1]']::vector[], 10);
SELECT recall, queries FROM vectorx_recall_queries('m_hnsw', '{}'::vector[]);

-- bad input
SELECT * FROM vectorx_recall('m_hnsw', 10, 0);
SELECT * FROM vectorx_recall('m_hnsw', 10, -1);
SELECT * FROM vectorx_recall('m_hnsw', 0, 10);
SELECT * FROM vectorx_recall('m_hnsw', 1000000, 10);
SELECT * FROM vectorx_recall('m_pkey');
SELECT * FROM vectorx_recall('m');
SELECT * FROM vectorx_index_stats('m_pkey');
SELECT * FROM vectorx_recall_queries('m_hnsw', ARRAY['[1,2,3]']::vector[]);
CREATE INDEX m_expr ON m USING hnsw (((v + v)::vector(16)) vector_l2_ops);
SELECT * FROM vectorx_recall('m_expr');
DROP INDEX m_expr;

-- an empty table: no queries, no recall
CREATE TABLE e (v vector(3));
CREATE INDEX e_hnsw ON e USING hnsw (v vector_cosine_ops);
SELECT * FROM vectorx_recall('e_hnsw');
SELECT stat, value FROM vectorx_index_stats('e_hnsw') WHERE stat IN ('elements', 'levels');

-- the caller needs SELECT on the table
CREATE ROLE regress_vx_monitor;
SET ROLE regress_vx_monitor;
SELECT * FROM vectorx_recall('m_hnsw');
SELECT count(*) FROM vectorx_sampled_queries('m_hnsw');
RESET ROLE;
DROP ROLE regress_vx_monitor;

-- sampling real queries: none by default, all of them at rate 1
SELECT count(*) FROM vectorx_sampled_queries('m_hnsw');
SET vectorx.query_sample_rate = 1;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM m ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' LIMIT 3) s;
SELECT count(*) FROM (SELECT id FROM m ORDER BY v <-> '[9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9]' LIMIT 3) s;
RESET enable_seqscan;
RESET vectorx.query_sample_rate;
SELECT * FROM vectorx_sampled_queries('m_hnsw');
SELECT recall, queries FROM vectorx_recall_sampled('m_hnsw');
SELECT * FROM vectorx_recall_sampled('m_hnsw', 10, 0);
-- dropping the index removes its sample file
SELECT format('base/%s/pgsql_tmp_vectorx_samples/%s', d.oid, 'm_hnsw'::regclass::oid) AS sample_file
FROM pg_database d WHERE d.datname = current_database() \gset
SELECT (pg_stat_file(:'sample_file', true)).size > 0 AS file_kept;
DROP INDEX m_hnsw;
SELECT (pg_stat_file(:'sample_file', true)).size IS NULL AS file_removed;
-- a user cannot turn sampling on
CREATE ROLE regress_vx_monitor2;
SET ROLE regress_vx_monitor2;
SET vectorx.query_sample_rate = 1;
RESET ROLE;
DROP ROLE regress_vx_monitor2;

DROP TABLE m, e;

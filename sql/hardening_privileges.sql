--
-- Who may call what (README, "Who may call what"): the inspection functions
-- need EXECUTE (revoked from PUBLIC; pg_stat_scan_tables has it for stats
-- and check) plus ownership of the table or the privileges of
-- pg_stat_scan_tables, checked before the index is locked; the recall
-- functions need SELECT and refuse when row-level security applies to the
-- caller; the recorded queries need pg_read_all_stats.
--
CREATE ROLE regress_vx_hp_nopriv;		-- nothing at all
CREATE ROLE regress_vx_hp_granted;		-- EXECUTE granted, owns nothing
CREATE ROLE regress_vx_hp_owner;		-- EXECUTE granted, owns hp_own
CREATE ROLE regress_vx_hp_scan IN ROLE pg_stat_scan_tables;
CREATE ROLE regress_vx_hp_reader;		-- SELECT on hp, under its policy
CREATE ROLE regress_vx_hp_bypass BYPASSRLS;	-- SELECT on hp, policies bypassed
CREATE ROLE regress_vx_hp_stats IN ROLE pg_read_all_stats;

CREATE TABLE hp (id int PRIMARY KEY, seen_by text, v vector(3));
INSERT INTO hp
SELECT g, CASE WHEN g % 4 = 0 THEN 'regress_vx_hp_reader' ELSE 'nobody' END,
	ARRAY[g % 10, g % 7, g % 5]::vector(3)
FROM generate_series(1, 400) g;
CREATE INDEX hp_hnsw ON hp USING hnsw (v);
CREATE INDEX hp_ivfpq ON hp USING ivfpq (v) WITH (lists = 4, m = 3, nbits = 4);
ALTER TABLE hp ENABLE ROW LEVEL SECURITY;
CREATE POLICY hp_visible ON hp FOR SELECT USING (seen_by = current_user);
GRANT SELECT ON hp TO regress_vx_hp_reader, regress_vx_hp_bypass;

-- who may EXECUTE what, as installed
SELECT p.proname,
	has_function_privilege('regress_vx_hp_nopriv', p.oid, 'EXECUTE') AS public,
	has_function_privilege('pg_stat_scan_tables', p.oid, 'EXECUTE') AS stat_scan_tables
FROM pg_proc p
WHERE p.proname IN ('vectorx_index_stats', 'vectorx_hnsw_check', 'vectorx_hnsw_elements',
	'vectorx_ivfpq_check', 'vectorx_recall', 'vectorx_recall_queries', 'vectorx_recall_sampled',
	'vectorx_sampled_queries')
ORDER BY 1;

-- a role with no privilege: no function reads the index or the table
SET ROLE regress_vx_hp_nopriv;
SELECT count(*) FROM vectorx_hnsw_elements('hp_hnsw');
SELECT ok FROM vectorx_hnsw_check('hp_hnsw');
SELECT count(*) FROM vectorx_index_stats('hp_hnsw');
SELECT count(*) FROM vectorx_index_stats('hp_ivfpq');
SELECT queries FROM vectorx_recall('hp_hnsw');
SELECT queries FROM vectorx_recall_queries('hp_ivfpq', ARRAY['[1,1,1]'::vector]);
SELECT count(*) FROM vectorx_sampled_queries('hp_hnsw');
SELECT queries FROM vectorx_recall_sampled('hp_hnsw');
RESET ROLE;

-- EXECUTE granted to a role: it reaches the indexes of its own tables only
GRANT EXECUTE ON FUNCTION vectorx_index_stats(regclass), vectorx_hnsw_check(regclass),
	vectorx_hnsw_elements(regclass), vectorx_sampled_queries(regclass)
	TO regress_vx_hp_granted, regress_vx_hp_owner;
SET ROLE regress_vx_hp_granted;
SELECT count(*) FROM vectorx_hnsw_elements('hp_hnsw');
SELECT ok FROM vectorx_hnsw_check('hp_hnsw');
SELECT count(*) FROM vectorx_index_stats('hp_ivfpq');
-- recorded queries are other sessions': EXECUTE is not enough
SELECT count(*) FROM vectorx_sampled_queries('hp_hnsw');
RESET ROLE;

CREATE TABLE hp_own (id int, v vector(3));
INSERT INTO hp_own SELECT g, ARRAY[g, 1, 2]::vector(3) FROM generate_series(1, 50) g;
CREATE INDEX hp_own_hnsw ON hp_own USING hnsw (v);
ALTER TABLE hp_own OWNER TO regress_vx_hp_owner;
SET ROLE regress_vx_hp_owner;
SELECT count(*) AS heap_tids, count(DISTINCT element) AS elements
FROM vectorx_hnsw_elements('hp_own_hnsw');
SELECT ok, elements FROM vectorx_hnsw_check('hp_own_hnsw');
SELECT value FROM vectorx_index_stats('hp_own_hnsw') WHERE stat = 'elements';
SELECT count(*) FROM vectorx_index_stats('hp_hnsw');
-- the owner is not under its table's policies unless they are forced
ALTER TABLE hp_own ENABLE ROW LEVEL SECURITY;
SELECT queries FROM vectorx_recall('hp_own_hnsw', 10, 5);
ALTER TABLE hp_own FORCE ROW LEVEL SECURITY;
SELECT queries FROM vectorx_recall('hp_own_hnsw', 10, 5);
SELECT queries FROM vectorx_recall_queries('hp_own_hnsw', ARRAY['[1,1,2]'::vector], 5);
RESET ROLE;

-- pg_stat_scan_tables: statistics and check of every index, not the dump
SET ROLE regress_vx_hp_scan;
SELECT value FROM vectorx_index_stats('hp_hnsw') WHERE stat = 'heap_tids';
SELECT ok, heap_tids FROM vectorx_hnsw_check('hp_hnsw');
SELECT value FROM vectorx_index_stats('hp_ivfpq') WHERE stat = 'entries';
SELECT count(*) FROM vectorx_hnsw_elements('hp_hnsw');
-- and no rows of the table
SELECT queries FROM vectorx_recall('hp_hnsw');
RESET ROLE;

-- SELECT under a policy: the recall functions refuse rather than measure
-- over rows the policy hides (row_security = off changes nothing)
SET ROLE regress_vx_hp_reader;
SELECT count(*) FROM hp;
SELECT queries FROM vectorx_recall('hp_hnsw');
SELECT queries FROM vectorx_recall('hp_ivfpq', 10, 5);
SELECT queries FROM vectorx_recall_queries('hp_hnsw', ARRAY['[1,1,1]'::vector]);
SET row_security = off;
SELECT queries FROM vectorx_recall('hp_hnsw');
RESET row_security;
RESET ROLE;
GRANT EXECUTE ON FUNCTION vectorx_recall_sampled(regclass, int, int) TO regress_vx_hp_reader;
SET ROLE regress_vx_hp_reader;
SELECT queries FROM vectorx_recall_sampled('hp_hnsw');
RESET ROLE;

-- BYPASSRLS: every row is seen, so the figure is the table's
SET ROLE regress_vx_hp_bypass;
SELECT queries FROM vectorx_recall('hp_hnsw', 20, 5);
SELECT queries FROM vectorx_recall_queries('hp_ivfpq', ARRAY['[1,1,1]'::vector, '[2,2,2]'], 5);
RESET ROLE;

-- pg_read_all_stats, with EXECUTE, reads the recorded queries
SET vectorx.query_sample_rate = 1;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM hp ORDER BY v <-> '[3,3,3]' LIMIT 1) s;
RESET enable_seqscan;
RESET vectorx.query_sample_rate;
GRANT EXECUTE ON FUNCTION vectorx_sampled_queries(regclass) TO regress_vx_hp_stats;
SET ROLE regress_vx_hp_stats;
SELECT * FROM vectorx_sampled_queries('hp_hnsw');
RESET ROLE;

-- A refused role takes no lock: with the index (and its table) locked by a
-- prepared DROP INDEX, a permitted call waits for the lock and times out,
-- a refused one fails at once with its privilege error.
CREATE INDEX hp_lock ON hp USING hnsw (v);
BEGIN;
DROP INDEX hp_lock;
PREPARE TRANSACTION 'regress_vx_hp_lock';
SET lock_timeout = '100ms';
SELECT count(*) FROM vectorx_index_stats('hp_lock');
SELECT ok FROM vectorx_hnsw_check('hp_lock');
SET ROLE regress_vx_hp_granted;
SELECT count(*) FROM vectorx_index_stats('hp_lock');
SELECT ok FROM vectorx_hnsw_check('hp_lock');
SELECT count(*) FROM vectorx_hnsw_elements('hp_lock');
SELECT count(*) FROM vectorx_sampled_queries('hp_lock');
SET ROLE regress_vx_hp_reader;
SELECT queries FROM vectorx_recall('hp_lock');
SELECT queries FROM vectorx_recall_queries('hp_lock', ARRAY['[1,1,1]'::vector]);
SET ROLE regress_vx_hp_nopriv;
SELECT queries FROM vectorx_recall('hp_lock');
RESET ROLE;
RESET lock_timeout;
ROLLBACK PREPARED 'regress_vx_hp_lock';
SELECT ok FROM vectorx_hnsw_check('hp_lock');

DROP TABLE hp, hp_own;
DROP OWNED BY regress_vx_hp_granted, regress_vx_hp_owner, regress_vx_hp_reader,
	regress_vx_hp_bypass, regress_vx_hp_stats;
DROP ROLE regress_vx_hp_nopriv, regress_vx_hp_granted, regress_vx_hp_owner,
	regress_vx_hp_scan, regress_vx_hp_reader, regress_vx_hp_bypass, regress_vx_hp_stats;

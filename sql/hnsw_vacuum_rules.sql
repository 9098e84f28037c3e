-- HNSW VACUUM's reconnect pass (hnsw.h, V2b): when a VACUUM run by hand
-- runs it, as vectorx_index_stats' records_since_reconnect shows, and
-- vectorx_hnsw_check's id bitmaps (hnswcheck.c) agreeing with the element
-- dump on an index whose ids spread over a wide id space (300-dimension
-- elements: about 40 ids apart).  The autovacuum side of the rule, and the
-- pass's cancellation and throttling, are in test/t/041_hnsw_reconnect.pl.
SELECT setseed(0.125);
CREATE TABLE vr (id int, v vector(300)) WITH (autovacuum_enabled = false);
INSERT INTO vr SELECT g, (SELECT array_agg(random())::vector(300) FROM generate_series(1, 300) WHERE g > 0)
  FROM generate_series(1, 600) g;
CREATE INDEX vr_v ON vr USING hnsw (v) WITH (m = 2, ef_construction = 8);
CREATE FUNCTION vr_since() RETURNS double precision LANGUAGE sql
  AS $$ SELECT value FROM vectorx_index_stats('vr_v') WHERE stat = 'records_since_reconnect' $$;
-- the build reconnected: nothing is due
SELECT vr_since() AS since_build;
INSERT INTO vr SELECT g, (SELECT array_agg(random())::vector(300) FROM generate_series(1, 300) WHERE g > 0)
  FROM generate_series(601, 800) g;
-- 200 elements and their UPPER records (at most one each)
SELECT vr_since() >= 200 AS counted, vr_since() <= 400 AS records_only;
-- ANALYZE is no VACUUM: the pass stays due
ANALYZE vr;
SELECT vr_since() >= 200 AS still_due;
-- a VACUUM run by hand after inserts runs it
VACUUM vr;
SELECT vr_since() AS after_vacuum;
SELECT ok, unreachable, problems FROM vectorx_hnsw_check('vr_v');
-- the check's sets against the element dump
DELETE FROM vr WHERE id % 7 = 0;
VACUUM vr;
INSERT INTO vr SELECT g, (SELECT array_agg(random())::vector(300) FROM generate_series(1, 300) WHERE g > 0)
  FROM generate_series(801, 820) g;
DELETE FROM vr WHERE id % 11 = 0 AND id <= 800;
SELECT c.elements = (SELECT count(DISTINCT element) FROM vectorx_hnsw_elements('vr_v') WHERE state = 'live') AS live_agree,
       c.free = (SELECT count(*) FROM vectorx_hnsw_elements('vr_v') WHERE state = 'free') AS free_agree,
       c.heap_tids = (SELECT count(*) FROM vr) + (SELECT count(*) FROM generate_series(1, 800) g WHERE g % 11 = 0 AND g % 7 <> 0) AS tids_agree,
       c.free > 0 AS free_left, c.bad_links, c.deleted
  FROM vectorx_hnsw_check('vr_v') c;
SELECT max(element) > 16000 AS wide_ids FROM vectorx_hnsw_elements('vr_v');
VACUUM vr;
SELECT ok, deleted, unreachable, links_to_deleted, problems FROM vectorx_hnsw_check('vr_v');
SELECT vr_since() AS after_deletions;
DROP TABLE vr;
DROP FUNCTION vr_since();

-- filter_partial: a partial HNSW index per tenant, a common pgvector
-- pattern for multi-tenant data (issue "A true drop-in for pgvector",
-- item 5), is a candidate of the filtered-search planner and wins where
-- it is cheapest.  Its selectivity is the filter's share of the rows the
-- index holds, not of the table: the plan said "Estimated Selectivity:
-- 0.0493" for a tenant's own index, and costed it three times too high.
SET client_min_messages = warning;
CREATE TABLE pt (id int, c int, v vector(8));
INSERT INTO pt SELECT i, i % 20, ARRAY[sin(i), cos(i), sin(i * 2), cos(i * 3), sin(i * 5), cos(i * 7), sin(i * 11), cos(i * 13)]
FROM generate_series(1, 20000) i;
CREATE INDEX pt_all ON pt USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
CREATE INDEX pt_c7 ON pt USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32) WHERE (c = 7);
ANALYZE pt;
EXPLAIN (COSTS OFF) SELECT id FROM pt WHERE c = 7 ORDER BY v <-> '[0,1,0,1,0,1,0,1]' LIMIT 10;
-- the tenant's index answers exactly here (1000 rows, ef_search 100)
SET hnsw.ef_search = 100;
SELECT array_agg(id ORDER BY d, id) = (SELECT array_agg(id ORDER BY d, id) FROM
       (SELECT id, v <-> '[0,1,0,1,0,1,0,1]' AS d FROM pt WHERE c = 7 ORDER BY d, id LIMIT 10) e) AS exact
FROM (SELECT id, v <-> '[0,1,0,1,0,1,0,1]' AS d FROM pt WHERE c = 7 ORDER BY v <-> '[0,1,0,1,0,1,0,1]' LIMIT 10) s;
-- another tenant takes the index of the whole table
EXPLAIN (COSTS OFF) SELECT id FROM pt WHERE c = 8 ORDER BY v <-> '[0,1,0,1,0,1,0,1]' LIMIT 10;
RESET hnsw.ef_search;
DROP TABLE pt;

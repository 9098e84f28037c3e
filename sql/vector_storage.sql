-- vector_storage: vector(n) columns are stored PLAIN (inline, never
-- compressed) up to vectorx.plain_storage_max_dims, so exact scans read
-- vectors in place; toasted vectors still give correct distances.
CREATE FUNCTION storage_of(rel regclass) RETURNS TABLE (col name, storage "char")
LANGUAGE sql AS $$
  SELECT attname, attstorage FROM pg_attribute
  WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped ORDER BY attnum $$;

SELECT '[1]'::vector;  -- loads the library, which defines the setting
SHOW vectorx.plain_storage_max_dims;
CREATE TABLE st (id int, small vector(3), max vector(1800), big vector(1801), free vector, t text);
SELECT * FROM storage_of('st');
ALTER TABLE st ADD COLUMN added vector(8);
SELECT * FROM storage_of('st') WHERE col = 'added';
CREATE TABLE st_ctas AS SELECT '[1,2]'::vector(2) AS v;
SELECT * FROM storage_of('st_ctas');
CREATE TABLE st_part (id int, v vector(4)) PARTITION BY RANGE (id);
CREATE TABLE st_part1 PARTITION OF st_part FOR VALUES FROM (0) TO (10);
SELECT * FROM storage_of('st_part1');
CREATE MATERIALIZED VIEW st_mv AS SELECT '[1]'::vector(1) AS v;
SELECT * FROM storage_of('st_mv');
-- an explicit choice is the user's
ALTER TABLE st ALTER COLUMN small SET STORAGE MAIN;
SELECT * FROM storage_of('st') WHERE col = 'small';
-- changing the column's type resets storage to the type default (MAIN)
ALTER TABLE st ALTER COLUMN added TYPE vector(9) USING NULL;
SELECT * FROM storage_of('st') WHERE col = 'added';
-- the setting can be turned off
SET vectorx.plain_storage_max_dims = 0;
CREATE TABLE st_off (v vector(3));
SELECT * FROM storage_of('st_off');
RESET vectorx.plain_storage_max_dims;

-- halfvec(n) the same, up to twice the dimensions (the same bytes), from
-- its own default EXTERNAL; a row that cannot hold a PLAIN column leaves it
-- EXTERNAL, and an explicit choice stands
CREATE TABLE sth (id int, h halfvec(1536), max halfvec(3600), big halfvec(3601), free halfvec);
SELECT * FROM storage_of('sth');
CREATE TABLE sth_two (a halfvec(3000), b halfvec(3000));
SELECT * FROM storage_of('sth_two');
ALTER TABLE sth_two ADD COLUMN c halfvec(8);
SELECT * FROM storage_of('sth_two') WHERE col = 'c';
ALTER TABLE sth_two ALTER COLUMN b SET STORAGE MAIN;
ALTER TABLE sth_two ALTER COLUMN a TYPE halfvec(3100);
SELECT * FROM storage_of('sth_two');
SET vectorx.plain_storage_max_dims = 0;
CREATE TABLE sth_off (h halfvec(3));
SELECT * FROM storage_of('sth_off');
RESET vectorx.plain_storage_max_dims;
-- inline halfvecs answer as toasted ones do
INSERT INTO sth (id, h) SELECT g, array_fill(g::real, ARRAY[1536]) FROM generate_series(1, 3) g;
SELECT id, h <-> array_fill(2.2::real, ARRAY[1536])::halfvec < 10 AS near FROM sth ORDER BY h <-> array_fill(2.2::real, ARRAY[1536])::halfvec;
DROP TABLE sth, sth_two, sth_off;

-- data that compresses well (mostly zeros) stays uncompressed in a PLAIN column
CREATE TABLE st_plain (id int, v vector(784));
CREATE TABLE st_main (id int, v vector);
INSERT INTO st_plain SELECT i, (array_fill(0::real, ARRAY[783]) || i::real)::vector FROM generate_series(1, 5) i;
INSERT INTO st_main SELECT id, v FROM st_plain;
SELECT count(*) AS compressed_plain FROM st_plain WHERE pg_column_compression(v) IS NOT NULL;
SELECT count(*) AS compressed_main FROM st_main WHERE pg_column_compression(v) IS NOT NULL;
SELECT min(pg_column_size(v)) AS plain_bytes FROM st_plain;

-- distances with compressed and out-of-line operands equal the plain ones:
-- every pair of rows (the toasted argument changes on every call) ...
SELECT count(*) AS mismatches
FROM st_plain a JOIN st_plain b ON true
JOIN st_main c ON c.id = a.id JOIN st_main d ON d.id = b.id
WHERE (a.v <-> b.v) <> (c.v <-> d.v) OR (a.v <#> b.v) <> (c.v <#> d.v)
   OR (a.v <+> b.v) <> (c.v <+> d.v) OR (a.v <=> b.v) IS DISTINCT FROM (c.v <=> d.v);
-- ... and a k-NN query whose query vector comes toasted from a table
SELECT id, v <-> (SELECT v FROM st_main WHERE id = 3) AS d FROM st_plain ORDER BY 2, 1 LIMIT 3;
ALTER TABLE st_main ALTER COLUMN v SET STORAGE EXTERNAL;
INSERT INTO st_main SELECT id + 100, v FROM st_plain;
SELECT pg_relation_size((SELECT reltoastrelid FROM pg_class WHERE relname = 'st_main')) > 0 AS out_of_line;
SELECT id, v <-> (SELECT v FROM st_main WHERE id = 103) AS d FROM st_plain ORDER BY 2, 1 LIMIT 3;
SELECT id, v <-> (SELECT v FROM st_main WHERE id = 103) AS d FROM st_main ORDER BY 2, 1 LIMIT 3;
-- short (1-byte header) values of small vectors in a MAIN column
CREATE TABLE st_short (v vector);
INSERT INTO st_short VALUES ('[1,2]'), ('[3,4]'), ('[5,6]');
SELECT a.v, b.v, a.v <-> b.v AS d FROM st_short a, st_short b WHERE a.v < b.v ORDER BY 1, 2;

-- a 1800-dimension PLAIN row still leaves room for other columns
INSERT INTO st (id, max, t) VALUES (1, array_fill(1::real, ARRAY[1800])::vector, repeat('x', 500));
SELECT vector_dims(max), length(t) FROM st;

DROP TABLE st, st_ctas, st_part, st_off, st_plain, st_main, st_short;
DROP MATERIALIZED VIEW st_mv;
DROP FUNCTION storage_of(regclass);

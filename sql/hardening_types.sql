-- hardening_types: no SQL call can build an invalid vector or crash the
-- server through the type's support functions, arithmetic leaves float4's
-- range only with an error, and vector columns stored PLAIN never make a
-- table unable to hold its rows.
-- err() runs a statement and shows "SQLSTATE: message (detail)"; a few
-- statements run bare to show the hint as well.
CREATE FUNCTION err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE msg text; det text; st text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN st || ': ' || msg || CASE WHEN det <> '' THEN ' (' || det || ')' ELSE '' END;
END $$;

-- ---- avg(vector)'s state is a plain float8[] anyone can pass in ----
-- too many sums: the dimension used to wrap in 16 bits (-1) or pass the limit
SELECT err($$SELECT vector_dims(vector_avg(array_fill(1::float8, ARRAY[65536])))$$);
SELECT err($$SELECT vector_dims(vector_avg(array_fill(1::float8, ARRAY[20002])))$$);
-- ... and such a vector crashed the server when concatenated
SELECT err($$SELECT vector_concat(vector_avg(array_fill(1::float8, ARRAY[65536])), '[1,2]')$$);
SELECT vector_avg(array_fill(1::float8, ARRAY[65536]));
-- the largest valid state
SELECT vector_dims(vector_avg(array_fill(1::float8, ARRAY[16001])));
-- malformed states
SELECT state, err(format('SELECT vector_avg(%L::float8[])', state)) FROM (VALUES
  ('{}'), ('{{1,2},{3,4}}'), ('{1,NULL}'), ('{NaN,1}'), ('{-1,1}'), ('{1.5,1}'),
  ('{Infinity,1}'), ('{1e300,1}'), ('{5}'), ('{0,1,2}'), ('{1,NaN}'), ('{1,-Infinity}')) s(state);
SELECT vector_avg('{1.5,1}');
-- a valid state whose average leaves float4's range
SELECT vector_avg('{1,1e300}');
-- no rows: NULL, as SQL's avg
SELECT vector_avg('{0}') IS NULL AS no_rows;
SELECT vector_avg('{2,3,-5}');
-- the transition and combine functions, called directly, work on a copy
SELECT vector_accum('{0}', '[1,2]'), vector_accum('{1,1,2}', '[3,4]');
SELECT vector_combine('{0}', '{1,1,2}'), vector_combine('{1,1,2}', '{2,3,4}'), vector_combine('{1,1,2}', '{0}');
SELECT err($$SELECT vector_accum('{1,1}', '[1,2]')$$);
SELECT err($$SELECT vector_accum(array_fill(1::float8, ARRAY[16002]), '[1]')$$);
SELECT err($$SELECT vector_accum('{-2,1}', '[1]')$$);
SELECT err($$SELECT vector_combine('{1,1,2}', '{1,1}')$$);
SELECT err($$SELECT vector_combine('{1,1}', '{1,NULL}')$$);
SELECT err($$SELECT vector_combine('{{1,1}}', '{1,1}')$$);
-- an aggregate of one's own with a forged initial state
CREATE AGGREGATE forged_avg(vector) (SFUNC = vector_accum, STYPE = float8[],
  FINALFUNC = vector_avg, INITCOND = '{1,NaN,0}');
SELECT err($$SELECT forged_avg(v) FROM (VALUES ('[1,2]'::vector)) s(v)$$);
CREATE AGGREGATE forged_avg2(vector) (SFUNC = vector_accum, STYPE = float8[],
  FINALFUNC = vector_avg, INITCOND = '{0.5,1}');
SELECT err($$SELECT forged_avg2(v) FROM (VALUES ('[1]'::vector)) s(v)$$);
DROP AGGREGATE forged_avg(vector);
DROP AGGREGATE forged_avg2(vector);
-- the real aggregate is unchanged
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[3,4]'), ('[5,9]')) s(v);
SELECT avg(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) s(v);

-- ---- arithmetic leaves float4's range only with an error ----
SELECT err($$SELECT '[3e38,1]'::vector + '[3e38,1]'$$);
SELECT err($$SELECT '[1,-3e38]'::vector - '[1,3e38]'$$);
SELECT '[1,1e20]'::vector * '[1,1e20]';
-- a product of non-zero elements that rounds to zero is an underflow, as in pgvector
SELECT '[1,1e-30]'::vector * '[1,1e-30]';
SELECT '[0,2,1e-30]'::vector * '[1e-30,0.5,1]';
SELECT err($$SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) s(v)$$);
-- every result element is checked, wherever it is
SELECT err(format('SELECT %L::real[]::vector * %L::real[]::vector',
  array_fill(1::real, ARRAY[17]) || 1e-30::real, array_fill(1::real, ARRAY[17]) || 1e-30::real));

-- ---- casts and constructors check their result ----
-- a numeric beyond double precision is out of range, not "infinite"
SELECT split_part(err($$SELECT ARRAY[1e400]::numeric[]::vector$$), ':', 1) AS sqlstate;
SELECT err($$SELECT ARRAY[1e39]::numeric[]::vector$$);
SELECT err($$SELECT ARRAY['NaN']::numeric[]::vector$$);
SELECT err($$SELECT '{}'::int[]::vector$$);
SELECT err($$SELECT array_fill(1, ARRAY[16001])::vector$$);
SELECT err($$SELECT vector_concat(array_fill(1::real, ARRAY[16000])::vector, '[1]')$$);
SELECT vector_dims(vector_concat(array_fill(1::real, ARRAY[15999])::vector, '[1]'));
SELECT err($$SELECT subvector('[1,2,3]'::vector, 4, 1)$$);
SELECT err($$SELECT subvector('[1,2,3]'::vector, 2147483647, 2147483647)$$);
SELECT err($$SELECT subvector('[1,2,3]'::vector, -2147483648, 2147483647)$$);
SELECT subvector('[1,2,3]'::vector, -1, 3), subvector('[1,2,3]'::vector, 2, 2147483647);

-- ---- storage: PLAIN only where every row still fits a heap page ----
CREATE FUNCTION storage_of(rel regclass) RETURNS TABLE (col name, storage "char")
LANGUAGE sql AS $$
  SELECT attname, attstorage FROM pg_attribute
  WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped ORDER BY attnum $$;
-- random, incompressible elements: a value only fits by moving out of line
CREATE FUNCTION rnd(n int) RETURNS vector LANGUAGE sql AS $$
  SELECT array_agg(random()::real)::vector FROM generate_series(1, n) $$;

-- two vector(1536) columns (the table works with pgvector): the first PLAIN,
-- the second MAIN
CREATE TABLE two (id int, a vector(1536), b vector(1536));
SELECT * FROM storage_of('two');
INSERT INTO two VALUES (1, array_fill(.1::real, ARRAY[1536]), array_fill(.2::real, ARRAY[1536]));
INSERT INTO two VALUES (2, rnd(1536), rnd(1536));
SELECT id, vector_dims(a), vector_dims(b), pg_column_compression(a) AS a_compressed FROM two ORDER BY id;

-- three vector(1024): one PLAIN; three vector(1000): two fit
CREATE TABLE three (a vector(1024), b vector(1024), c vector(1024));
SELECT * FROM storage_of('three');
INSERT INTO three VALUES (rnd(1024), rnd(1024), rnd(1024));
CREATE TABLE three_small (id int, a vector(1000), b vector(1000), c vector(1000));
SELECT * FROM storage_of('three_small');
INSERT INTO three_small VALUES (1, rnd(1000), rnd(1000), rnd(1000));
SELECT count(*) FROM three, three_small;

-- a vector with big text columns: each text can shrink to a TOAST pointer
CREATE TABLE wide_text (v vector(1800), t1 text, t2 text, t3 text);
SELECT * FROM storage_of('wide_text');
INSERT INTO wide_text VALUES (rnd(1800), repeat('x', 5000),
  (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 200) i), md5('b'));
SELECT vector_dims(v), length(t1), length(t2), length(t3) FROM wide_text;
-- with many small columns the vector no longer fits PLAIN: 60 short texts
-- that stay inline (21 bytes each) plus a PLAIN vector(1800) exceed a page
SELECT format('CREATE TABLE many_cols (v vector(1800), %s)',
  string_agg(format('t%s text', i), ', ')) AS ddl FROM generate_series(1, 60) i \gset
:ddl;
SELECT * FROM storage_of('many_cols') WHERE col = 'v';
SELECT format('INSERT INTO many_cols VALUES (rnd(1800), %s)',
  string_agg(format('left(md5(%s::text), 20)', i), ', ')) AS ins FROM generate_series(1, 60) i \gset
:ins;
SELECT vector_dims(v), length(t1), length(t60) FROM many_cols;

-- ALTER TABLE ADD COLUMN: a later vector column that does not fit stays MAIN
CREATE TABLE added (id int, a vector(1800));
ALTER TABLE added ADD COLUMN b vector(1536);
ALTER TABLE added ADD COLUMN c vector(10);
SELECT * FROM storage_of('added');
INSERT INTO added VALUES (1, rnd(1800), rnd(1536), rnd(10));
SELECT vector_dims(a), vector_dims(b), vector_dims(c) FROM added;
-- a column the row has no room for turns PLAIN vectors back to MAIN, last
-- first, until it fits: two vector(1000) and one name fit, a second name not
CREATE TABLE relax (a vector(1000), b vector(1000));
ALTER TABLE relax ADD COLUMN n1 name;
SELECT * FROM storage_of('relax');
ALTER TABLE relax ADD COLUMN n2 name;
SELECT * FROM storage_of('relax');
INSERT INTO relax VALUES (rnd(1000), rnd(1000), 'x', 'y');
-- tsquery is PLAIN and unbounded: no vector can stay PLAIN beside it
ALTER TABLE relax ADD COLUMN q tsquery;
SELECT * FROM storage_of('relax');
INSERT INTO relax VALUES (rnd(1000), rnd(1000), 'x', 'y',
  (SELECT string_agg(md5(i::text), ' & ')::tsquery FROM generate_series(1, 100) i));
SELECT vector_dims(a), vector_dims(b), length(q::text) FROM relax ORDER BY 3 NULLS FIRST;
-- the same after ALTER COLUMN TYPE, in a table that had no TOAST table
CREATE TABLE relax_type (a vector(1800), n int);
SELECT * FROM storage_of('relax_type');
SELECT reltoastrelid <> 0 AS has_toast FROM pg_class WHERE relname = 'relax_type';
ALTER TABLE relax_type ALTER COLUMN n TYPE tsquery USING NULL;
SELECT * FROM storage_of('relax_type');
SELECT reltoastrelid <> 0 AS has_toast FROM pg_class WHERE relname = 'relax_type';
INSERT INTO relax_type VALUES (rnd(1800),
  (SELECT string_agg(md5(i::text), ' & ')::tsquery FROM generate_series(1, 100) i));
SELECT vector_dims(a), length(n::text) FROM relax_type;
-- inheritance children are checked one by one
CREATE TABLE parent (id int, a vector(1200));
CREATE TABLE child (b vector(1200)) INHERITS (parent);
SELECT * FROM storage_of('child');
ALTER TABLE parent ADD COLUMN c vector(1200);
SELECT * FROM storage_of('parent');
SELECT * FROM storage_of('child');
INSERT INTO child VALUES (1, rnd(1200), rnd(1200), rnd(1200));
-- a partitioned table's new partition
CREATE TABLE parted (id int, a vector(1536), b vector(1536)) PARTITION BY RANGE (id);
CREATE TABLE parted1 PARTITION OF parted FOR VALUES FROM (0) TO (10);
SELECT * FROM storage_of('parted1');
INSERT INTO parted VALUES (1, rnd(1536), rnd(1536));
-- an explicit SET STORAGE PLAIN is the user's choice, as in PostgreSQL ...
ALTER TABLE two ALTER COLUMN b SET STORAGE PLAIN;
SELECT * FROM storage_of('two');
SELECT err($$INSERT INTO two VALUES (3, array_fill(.1::real, ARRAY[1536]), array_fill(.2::real, ARRAY[1536]))$$);
-- ... until a later column change (here another column's type) needs the room
ALTER TABLE two ALTER COLUMN id TYPE bigint;
SELECT * FROM storage_of('two');
INSERT INTO two VALUES (3, rnd(1536), rnd(1536));
SELECT count(*) FROM two;

DROP TABLE two, three, three_small, wide_text, many_cols, added, relax, relax_type,
  parent, child, parted;
DROP FUNCTION storage_of(regclass), rnd(int), err(text);

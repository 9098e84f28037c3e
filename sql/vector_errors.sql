-- vector_errors: every kind of bad input gets a clear ERROR with an errcode.
-- err() runs a statement and shows "SQLSTATE: message (detail)".
CREATE FUNCTION err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE msg text; det text; st text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN st || ': ' || msg || CASE WHEN det <> '' THEN ' (' || det || ')' ELSE '' END;
END $$;

-- malformed text
SELECT lit, err(format('SELECT %L::vector', lit)) FROM (VALUES
  ('1,2,3'), ('[1,2,3'), ('[1,2,3]]'), ('[1,2,3] x'), ('[1,,2]'), ('[,1]'), ('[1,]'),
  ('[1 2]'), ('[a]'), ('[1x]'), (''), ('['), ('[1;2]'), ('{1,2}')) s(lit);
-- the hint shown with a malformed literal
SELECT '[1,,2]'::vector;
-- empty
SELECT err($$SELECT '[]'::vector$$), err($$SELECT '[ ]'::vector$$);
-- NaN and infinities
SELECT lit, err(format('SELECT %L::vector', lit)) FROM (VALUES
  ('[NaN]'), ('[1,inf]'), ('[-Infinity]'), ('[nan,1]')) s(lit);
-- out of float4 range
SELECT err($$SELECT '[1e39]'::vector$$), err($$SELECT '[-4e38]'::vector$$);
-- too many dimensions, bad type modifiers
SELECT err($$SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::vector$$);
SELECT err($$SELECT array_fill(1::real, ARRAY[16001])::vector$$);
SELECT err($$SELECT '[1]'::vector(16001)$$);
SELECT err($$SELECT '[1]'::vector(0)$$);
SELECT err($$SELECT '[1]'::vector(2,3)$$);
-- dimension mismatch between operands
SELECT op, err(format($$SELECT '[1,2]'::vector %s '[1,2,3]'$$, op)) FROM (VALUES
  ('<->'), ('<#>'), ('<=>'), ('<+>'), ('+'), ('-'), ('*')) s(op);
SELECT fn, err(format($$SELECT %s('[1]'::vector, '[1,2]')$$, fn)) FROM (VALUES
  ('l2_distance'), ('inner_product'), ('cosine_distance'), ('l1_distance'),
  ('vector_negative_inner_product'), ('vector_l2_squared_distance')) s(fn);
-- typmod mismatch on cast, insert and update
CREATE TABLE te (v vector(3));
SELECT err($$SELECT '[1,2,3,4]'::vector(3)$$);
SELECT err($$SELECT ARRAY[1,2]::vector(3)$$);
SELECT err($$INSERT INTO te VALUES ('[1,2,3,4]')$$);
SELECT err($$INSERT INTO te VALUES (ARRAY[1,2])$$);
SELECT err($$INSERT INTO te SELECT '[1,2]'::vector$$);
INSERT INTO te VALUES ('[1,2,3]');
SELECT err($$UPDATE te SET v = '[1]'$$);
-- arrays: NULL elements, multi-dimensional, out of range, NaN, empty, wrong type
SELECT err($$SELECT ARRAY[1,NULL,3]::vector$$);
SELECT err($$SELECT ARRAY[[1,2],[3,4]]::vector$$);
SELECT err($$SELECT ARRAY[1e39]::double precision[]::vector$$);
SELECT err($$SELECT ARRAY[1e39]::numeric[]::vector$$);
SELECT err($$SELECT ARRAY['NaN']::real[]::vector$$);
SELECT err($$SELECT ARRAY['Infinity']::double precision[]::vector$$);
SELECT err($$SELECT ARRAY['NaN']::numeric[]::vector$$);
SELECT err($$SELECT '{}'::real[]::vector$$);
SELECT err($$SELECT ARRAY['a']::text[]::vector$$);
-- arithmetic overflow
SELECT err($$SELECT '[3e38]'::vector + '[3e38]'$$);
SELECT err($$SELECT '[-3e38]'::vector - '[3e38]'$$);
SELECT err($$SELECT '[3e38]'::vector * '[10]'$$);
-- concatenation beyond the limit
SELECT err($$SELECT array_fill(1::real, ARRAY[10000])::vector || array_fill(1::real, ARRAY[7000])::vector$$);
-- subvector outside the vector
SELECT err($$SELECT subvector('[1,2,3]'::vector, 4, 1)$$);
SELECT err($$SELECT subvector('[1,2,3]'::vector, 1, 0)$$);
SELECT err($$SELECT subvector('[1,2,3]'::vector, 1, -1)$$);

-- malformed binary input: COPY (FORMAT binary) hands a bytea's raw bytes
-- to vector_recv, exactly as a driver in binary mode would.
CREATE TABLE raw (b bytea);
CREATE FUNCTION try_recv(bytes bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  f text := '/tmp/vectorx_regress_recv_' || pg_backend_pid() || '.bin';
  e text;
BEGIN
  TRUNCATE raw;
  INSERT INTO raw VALUES (bytes);
  EXECUTE format('COPY raw TO %L (FORMAT binary)', f);
  TRUNCATE te;
  e := err(format('COPY te FROM %L (FORMAT binary)', f));
  IF e <> 'no error' THEN
    RETURN e;
  END IF;
  RETURN (SELECT v::text FROM te);
END $$;
SELECT descr, try_recv(bytes) FROM (VALUES
  ('well-formed [1,2,3]',     '\x000300003f8000004000000040400000'::bytea),
  ('3 dims, 2 carried',       '\x000300003f80000040000000'),
  ('a stray trailing byte',   '\x000300003f8000004000000040400000ff'),
  ('header cut short',        '\x0003'),
  ('reserved field not 0',    '\x000300013f8000004000000040400000'),
  ('zero dimensions',         '\x00000000'),
  ('negative dimensions',     '\xffff0000'),
  ('too many dimensions',     '\x3e810000'),
  ('NaN element',             '\x000300003f8000007fc0000040400000'),
  ('infinite element',        '\x00030000ff8000004000000040400000'),
  ('1 dim into vector(3)',    '\x000100003f800000')) s(descr, bytes);
DROP FUNCTION try_recv(bytea);
DROP FUNCTION err(text);
DROP TABLE raw, te;

-- hardening_types: no SQL call can build an invalid vector or crash the
-- server through the type's support functions, arithmetic leaves float4's
-- range only with an error.
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
SELECT err($$SELECT subvector('[1,2,3]', 4, 1)$$);
SELECT err($$SELECT subvector('[1,2,3]', 2147483647, 2147483647)$$);
SELECT err($$SELECT subvector('[1,2,3]', -2147483648, 2147483647)$$);
SELECT subvector('[1,2,3]', -1, 3), subvector('[1,2,3]', 2, 2147483647);

DROP FUNCTION err(text);

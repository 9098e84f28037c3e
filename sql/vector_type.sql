-- vector_type: text and binary I/O, typmod, casts, storage.
-- (The extension is created by pg_regress --load-extension=vectorx.)

-- text round trips: whitespace, signs, exponents, shortest float4 digits
SELECT '[1,2,3]'::vector;
SELECT ' [ 1 , -2.5 ,3e2 ] '::vector;
SELECT '[1e-3,1.5E+2,-0,0.1]'::vector;
SELECT '[3.4028235e38,-3.4028235e38,1.1754944e-38,1e-45]'::vector;
SELECT '[0.1,0.2,0.30000001]'::vector;
SELECT '[123456789]'::vector, '[1.23456789]'::vector;
-- below float4's smallest denormal rounds to zero (as in pgvector; float4
-- itself raises an error here)
SELECT '[1e-50,-1e-50]'::vector;
-- text output reads back to the identical value
SELECT v::text::vector = v AS round_trip
FROM (SELECT '[0.1,3.14159265,1e-7,-2.5e20,7]'::vector AS v) s;

-- typmod
SELECT '[1,2,3]'::vector(3);
CREATE TABLE t3 (id int, v vector(3));
INSERT INTO t3 VALUES (1, '[1,2,3]'), (2, '[4,5,6]'), (3, NULL);
SELECT * FROM t3 ORDER BY id;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 't3'::regclass AND attname = 'v';
SELECT vector_dims(v) FROM t3 ORDER BY id;
-- an unconstrained column takes any dimension
CREATE TABLE tany (v vector);
INSERT INTO tany VALUES ('[1]'), ('[1,2,3,4,5]');
SELECT v, vector_dims(v) FROM tany ORDER BY vector_dims(v);
-- the largest vector
SELECT vector_dims(array_fill(1.5::real, ARRAY[16000])::vector);
SELECT vector_dims(array_fill(1::int, ARRAY[16000])::vector(16000));

-- casts from arrays and back
SELECT ARRAY[1,2,3]::vector;
SELECT ARRAY[1.5,2.5]::real[]::vector;
SELECT ARRAY[1.25,-2]::double precision[]::vector;
SELECT ARRAY[1.5,2.25]::numeric[]::vector;
SELECT '[1,2,3]'::vector::real[];
SELECT ('[1,2.5]'::vector)::real[] = ARRAY[1,2.5]::real[];
-- assignment casts into a table column
INSERT INTO t3 VALUES (4, ARRAY[7,8,9]);
INSERT INTO t3 VALUES (5, ARRAY[1.5,2,2.5]::real[]);
SELECT * FROM t3 WHERE id >= 4 ORDER BY id;

-- binary round trip through COPY (FORMAT binary), the drivers' binary mode
SELECT vector_send('[1,2]');
CREATE TABLE tbin (v vector(3));
DO $$
BEGIN
  EXECUTE format('COPY (SELECT v FROM t3 WHERE v IS NOT NULL ORDER BY id) TO %L (FORMAT binary)',
                 '/tmp/vectorx_regress_' || pg_backend_pid() || '.bin');
  EXECUTE format('COPY tbin FROM %L (FORMAT binary)',
                 '/tmp/vectorx_regress_' || pg_backend_pid() || '.bin');
END $$;
SELECT v FROM tbin;
SELECT count(*) AS identical FROM tbin JOIN t3 USING (v);

-- storage: vectors stay inline in the heap row when the row fits
SELECT typstorage FROM pg_type WHERE typname = 'vector';
-- (columns of type vector(n) are PLAIN: see vector_storage)

-- the pgvector session from the README
CREATE TABLE items (id bigserial PRIMARY KEY, embedding vector(3));
INSERT INTO items (embedding) VALUES ('[1,2,3]'), ('[4,5,6]');
SELECT * FROM items ORDER BY embedding <-> '[3,1,2]' LIMIT 5;

DROP TABLE t3, tany, tbin, items;

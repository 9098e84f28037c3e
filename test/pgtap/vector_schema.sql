-- pgTAP: the SQL surface of the vector type is pgvector's, with the right
-- volatility, strictness and parallel safety on every function.
BEGIN;
SELECT plan(44);

SELECT has_extension('vectorx');
SELECT has_type('vector');
SELECT is((SELECT typstorage::text FROM pg_type WHERE typname = 'vector'), 'm',
          'vector is stored inline (STORAGE main)');

-- operators: name, operand types, result type
SELECT has_operator('vector', op, 'vector', 'double precision', op || ' is a distance')
FROM unnest(ARRAY['<->', '<#>', '<=>', '<+>']) op;
SELECT has_operator('vector', op, 'vector', 'vector', op || ' is element-wise')
FROM unnest(ARRAY['+', '-', '*', '||']) op;
SELECT has_operator('vector', op, 'vector', 'boolean', op || ' compares')
FROM unnest(ARRAY['=', '<>', '<', '<=', '>', '>=']) op;

-- functions with pgvector's names and signatures
SELECT has_function(f, ARRAY['vector', 'vector'], f || '(vector, vector)')
FROM unnest(ARRAY['l2_distance', 'inner_product', 'cosine_distance', 'l1_distance']) f;
SELECT has_function('vector_dims', ARRAY['vector']);
SELECT has_function('vector_norm', ARRAY['vector']);
SELECT has_function('l2_normalize', ARRAY['vector']);
SELECT has_function('subvector', ARRAY['vector', 'integer', 'integer']);
SELECT function_returns('l2_distance', ARRAY['vector', 'vector'], 'double precision');
SELECT function_returns('vector_dims', ARRAY['vector'], 'integer');
SELECT is_aggregate('avg', ARRAY['vector']);
SELECT is_aggregate('sum', ARRAY['vector']);

-- casts
SELECT has_cast(src, 'vector', src || ' casts to vector')
FROM unnest(ARRAY['integer[]', 'real[]', 'double precision[]', 'numeric[]']) src;
SELECT has_cast('vector', 'real[]');

-- operator classes for btree and hash
SELECT has_opclass('vector_ops');
SELECT is((SELECT count(*)::int FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
           WHERE c.opcname = 'vector_ops' AND c.opcdefault AND a.amname IN ('btree', 'hash')),
          2, 'vector_ops is the default btree and hash opclass');

-- every C function of the extension: IMMUTABLE, STRICT, PARALLEL SAFE,
-- except vectorx_simd(), which depends on the CPU and is STABLE
SELECT is(array_agg(p.proname::text ORDER BY p.proname), NULL,
          'all extension functions but vectorx_simd are IMMUTABLE')
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vectorx'
WHERE p.prokind = 'f' AND p.provolatile <> 'i' AND p.proname <> 'vectorx_simd';
SELECT volatility_is('vectorx_simd', 'stable');
SELECT is(array_agg(p.proname::text ORDER BY p.proname), NULL,
          'all extension functions are STRICT')
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vectorx'
WHERE p.prokind = 'f' AND NOT p.proisstrict;
SELECT is(array_agg(p.proname::text ORDER BY p.proname), NULL,
          'all extension functions and aggregates are PARALLEL SAFE')
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vectorx'
WHERE p.proparallel <> 's';
SELECT ok((SELECT aggcombinefn <> 0 FROM pg_aggregate WHERE aggfnoid = 'avg(vector)'::regprocedure),
          'avg(vector) has a combine function');
SELECT ok((SELECT aggcombinefn <> 0 FROM pg_aggregate WHERE aggfnoid = 'sum(vector)'::regprocedure),
          'sum(vector) has a combine function');

-- the install script may not leave objects that hijack later lookups
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
           JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vectorx'
           WHERE p.prosecdef), 0, 'no SECURITY DEFINER functions');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'vectorx'), false,
          'extension is not relocatable (its script pins its schema with @extschema@)');

SELECT * FROM finish();
ROLLBACK;

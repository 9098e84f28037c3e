-- pgTAP: the SQL surface is pgvector's (type, operators, functions, the
-- hnsw access method), with the right volatility, strictness and parallel
-- safety on every function; the ivfpq and ivfflat access methods beside it.
BEGIN;
SELECT plan(71);
SELECT vector_dims('[1]'::vector) AS loads_the_library_and_its_settings \gset

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

-- every SQL-callable function of the extension is IMMUTABLE, STRICT and
-- PARALLEL SAFE, except: the sharding functions (below), vectorx_simd() depends on the CPU, the index
-- inspection functions read index contents (STABLE); the recall functions
-- time index scans and read sampled-query files (VOLATILE, PARALLEL
-- RESTRICTED); index access method handlers are not SQL-callable and keep
-- the usual VOLATILE declaration
CREATE TEMP VIEW monitor_volatile(f) AS
VALUES ('vectorx_recall'), ('vectorx_recall_queries'), ('vectorx_recall_sampled'), ('vectorx_sampled_queries');
CREATE TEMP VIEW vx_funcs AS
SELECT p.* FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vectorx'
WHERE p.prorettype <> 'index_am_handler'::regtype;
SELECT is(array_agg(proname::text ORDER BY proname), NULL,
          'extension functions are IMMUTABLE but for the CPU probe and index inspection')
FROM vx_funcs WHERE prokind = 'f' AND provolatile <> 'i' AND proname NOT LIKE 'vectorx\_shard\_%'
  AND proname NOT IN ('vectorx_simd', 'vectorx_hnsw_check', 'vectorx_hnsw_elements', 'vectorx_ivfpq_check',
                      'vectorx_index_stats')
  AND proname NOT IN (SELECT * FROM monitor_volatile);
SELECT volatility_is('vectorx_simd', 'stable');
SELECT volatility_is('vectorx_hnsw_check', ARRAY['regclass'], 'stable');
SELECT volatility_is('vectorx_ivfpq_check', ARRAY['regclass'], 'stable');
SELECT volatility_is('vectorx_index_stats', ARRAY['regclass'], 'stable');
SELECT is(array_agg(proname::text ORDER BY proname), (SELECT array_agg(f ORDER BY f) FROM monitor_volatile),
          'the recall functions are VOLATILE and PARALLEL RESTRICTED')
FROM vx_funcs WHERE proname IN (SELECT * FROM monitor_volatile) AND provolatile = 'v' AND proparallel = 'r';
SELECT function_returns('vectorx_recall', ARRAY['regclass', 'integer', 'integer'], 'record');
SELECT is((SELECT pg_get_function_result('vectorx_recall(regclass,integer,integer)'::regprocedure)),
          'record', 'vectorx_recall returns one row');
SELECT is((SELECT pg_get_function_arguments('vectorx_recall(regclass,integer,integer)'::regprocedure)),
          'index regclass, sample integer DEFAULT 100, k integer DEFAULT 10, OUT recall double precision, '
          'OUT mean_ms double precision, OUT p99_ms double precision, OUT queries integer',
          'vectorx_recall(index, sample DEFAULT 100, k DEFAULT 10) -> (recall, mean_ms, p99_ms, queries)');
SELECT ok(NOT has_function_privilege('public', 'vectorx_sampled_queries(regclass)', 'EXECUTE'),
          'recorded queries are not readable by PUBLIC');
SELECT is(array_agg(proname::text ORDER BY proname), NULL,
          'all extension functions are STRICT')
FROM vx_funcs WHERE prokind = 'f' AND NOT proisstrict AND proname NOT LIKE 'vectorx\_shard\_%';
SELECT is(array_agg(proname::text ORDER BY proname), NULL,
          'all other extension functions and aggregates are PARALLEL SAFE')
FROM vx_funcs WHERE proparallel <> 's' AND proname NOT IN (SELECT * FROM monitor_volatile)
  AND proname NOT LIKE 'vectorx\_shard\_%';

-- sharding (src/planner/shard.h): the partition key is IMMUTABLE (a
-- routing never changes), the pruning function STABLE (it reads
-- vectorx.shard_probes), the others read or change tables
SELECT is(array_agg(proname || ':' || provolatile::text || CASE WHEN proisstrict THEN ':strict' ELSE '' END
                    || ':' || proparallel::text ORDER BY proname), ARRAY[
          'vectorx_shard_balance:s:strict:u', 'vectorx_shard_cell:i:strict:s',
          'vectorx_shard_move_cell:v:strict:u', 'vectorx_shard_partitions:s:strict:u',
          'vectorx_shard_probe:s:strict:s', 'vectorx_shard_route:s:strict:u',
          'vectorx_shard_routing_frozen:v:u', 'vectorx_shard_routing_sql:s:strict:u',
          'vectorx_shard_rows:s:strict:u', 'vectorx_shard_train:v:u'],
          'sharding functions: volatility, strictness, parallel safety')
FROM vx_funcs WHERE proname LIKE 'vectorx\_shard\_%';
SELECT is((SELECT array_agg(privilege_type::text ORDER BY privilege_type) FROM information_schema.role_table_grants
           WHERE table_name = 'vectorx_shard_routing' AND grantee = 'PUBLIC'), ARRAY['SELECT'],
          'routings are readable by PUBLIC (rows are routed as any user), written only by those granted it');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgrelid = 'vectorx_shard_routing'::regclass AND NOT tgisinternal),
          1, 'a trigger keeps routings from changing');
SELECT is(current_setting('vectorx.shard_pushdown'), 'on', 'vectorx.shard_pushdown defaults to on');
SELECT is(current_setting('vectorx.shard_probes'), '0', 'vectorx.shard_probes defaults to 0 (every shard)');

-- the hnsw access method, pgvector's operator class names, its GUCs
SELECT is((SELECT amtype::text FROM pg_am WHERE amname = 'hnsw'), 'i', 'index access method hnsw exists');
SELECT is(array_agg(c.opcname::text || ':' || o.oprname ORDER BY c.opcname), ARRAY[
          'bit_hamming_ops:<~>', 'bit_jaccard_ops:<%>',
          'halfvec_cosine_ops:<=>', 'halfvec_ip_ops:<#>', 'halfvec_l1_ops:<+>', 'halfvec_l2_ops:<->',
          'sparsevec_cosine_ops:<=>', 'sparsevec_ip_ops:<#>', 'sparsevec_l1_ops:<+>', 'sparsevec_l2_ops:<->',
          'vector_cosine_ops:<=>', 'vector_ip_ops:<#>', 'vector_l1_ops:<+>', 'vector_l2_ops:<->'],
          'hnsw operator classes order by the four distances, for vector, halfvec and sparsevec, and Hamming and Jaccard for bit')
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod AND a.amname = 'hnsw'
JOIN pg_amop ao ON ao.amopfamily = c.opcfamily AND ao.amoppurpose = 'o'
JOIN pg_operator o ON o.oid = ao.amopopr;
SELECT is((SELECT opcname::text FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
           WHERE a.amname = 'hnsw' AND c.opcdefault), 'vector_l2_ops', 'vector_l2_ops is the default');
SELECT is(current_setting('hnsw.ef_search'), '40', 'hnsw.ef_search defaults to 40');
SELECT is(current_setting('hnsw.max_scan_tuples'), '20000', 'hnsw.max_scan_tuples defaults to 20000');

-- the ivfpq access method: the same operator class names, L1 excluded
SELECT is((SELECT amtype::text FROM pg_am WHERE amname = 'ivfpq'), 'i', 'index access method ivfpq exists');
SELECT is(array_agg(c.opcname::text || ':' || o.oprname ORDER BY c.opcname), ARRAY[
          'halfvec_cosine_ops:<=>', 'halfvec_ip_ops:<#>', 'halfvec_l2_ops:<->',
          'vector_cosine_ops:<=>', 'vector_ip_ops:<#>', 'vector_l2_ops:<->'],
          'ivfpq operator classes order by L2, inner product and cosine, for vector and halfvec')
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod AND a.amname = 'ivfpq'
JOIN pg_amop ao ON ao.amopfamily = c.opcfamily AND ao.amoppurpose = 'o'
JOIN pg_operator o ON o.oid = ao.amopopr;
SELECT is((SELECT opcname::text FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
           WHERE a.amname = 'ivfpq' AND c.opcdefault), 'vector_l2_ops', 'vector_l2_ops is the ivfpq default');
SELECT is(current_setting('ivfpq.probes'), '8', 'ivfpq.probes defaults to 8');
SELECT is(current_setting('ivfpq.rerank'), '100', 'ivfpq.rerank defaults to 100');

-- ivfflat: pgvector's operator classes, default and settings
SELECT is((SELECT amtype::text FROM pg_am WHERE amname = 'ivfflat'), 'i', 'index access method ivfflat exists');
SELECT is(array_agg(c.opcname::text || ':' || o.oprname ORDER BY c.opcname), ARRAY[
          'bit_hamming_ops:<~>', 'halfvec_cosine_ops:<=>', 'halfvec_ip_ops:<#>', 'halfvec_l2_ops:<->',
          'vector_cosine_ops:<=>', 'vector_ip_ops:<#>', 'vector_l2_ops:<->'],
          'ivfflat operator classes: pgvector''s for vector, halfvec and bit')
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod AND a.amname = 'ivfflat'
JOIN pg_amop ao ON ao.amopfamily = c.opcfamily AND ao.amoppurpose = 'o'
JOIN pg_operator o ON o.oid = ao.amopopr;
SELECT is((SELECT opcname::text FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
           WHERE a.amname = 'ivfflat' AND c.opcdefault), 'vector_l2_ops', 'vector_l2_ops is the ivfflat default');
SELECT is(current_setting('ivfflat.probes'), '1', 'ivfflat.probes defaults to 1, as in pgvector');
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

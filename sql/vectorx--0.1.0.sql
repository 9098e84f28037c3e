/*
 * vectorx--0.1.0.sql: install script of the vectorx extension.
 *
 * The SQL surface is pgvector's (names, argument types, operators), so
 * applications written for pgvector run unchanged.
 *
 * Search-path safety (PostgreSQL docs, "Security Considerations for
 * Extension Scripts"): the extension is not relocatable, every object it
 * creates or references is schema-qualified (@extschema@ for its own,
 * pg_catalog for built-ins whose names are not SQL keywords), and nothing
 * uses CREATE OR REPLACE, so no object a hostile user created beforehand
 * can be captured or substituted.
 */

\echo Use "CREATE EXTENSION vectorx" to load this file. \quit

-- vectorx and the vector extension (vectorx's alias under pgvector's name,
-- made from this script, or pgvector itself) define the same types: one
-- per database.
DO $$
BEGIN
	IF (SELECT pg_catalog.count(*) FROM pg_catalog.pg_extension
		WHERE extname OPERATOR(pg_catalog.=) ANY (ARRAY['vector', 'vectorx'])) > 1 THEN
		RAISE EXCEPTION 'extensions "vector" and "vectorx" cannot both be installed in one database'
			USING ERRCODE = 'duplicate_object',
				  DETAIL = 'Both define the type vector and its operators.',
				  HINT = 'vectorx answers to CREATE EXTENSION vector on its own: keep one of them.';
	END IF;
END
$$;

-- ---------------------------------------------------------------- the type

CREATE TYPE @extschema@.vector;

CREATE FUNCTION @extschema@.vector_in(pg_catalog.cstring, pg_catalog.oid, integer)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_out(@extschema@.vector)
	RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_typmod_in(pg_catalog.cstring[])
	RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_typmod_out(integer)
	RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_recv(pg_catalog.internal, pg_catalog.oid, integer)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_send(@extschema@.vector)
	RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- STORAGE main: kept inline in the heap row whenever the row fits a page
-- (pgvector's "external" moves every vector above ~500 dimensions to TOAST).
CREATE TYPE @extschema@.vector (
	INPUT = @extschema@.vector_in,
	OUTPUT = @extschema@.vector_out,
	TYPMOD_IN = @extschema@.vector_typmod_in,
	TYPMOD_OUT = @extschema@.vector_typmod_out,
	RECEIVE = @extschema@.vector_recv,
	SEND = @extschema@.vector_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = main
);

COMMENT ON TYPE @extschema@.vector IS 'float4 vector of 1 to 16000 dimensions';

-- ---------------------------------------------------------------- casts

CREATE FUNCTION @extschema@.vector(@extschema@.vector, integer, boolean)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_vector(integer[], integer, boolean)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_vector(real[], integer, boolean)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_vector(double precision[], integer, boolean)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_vector(numeric[], integer, boolean)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_to_float4(@extschema@.vector, integer, boolean)
	RETURNS real[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (@extschema@.vector AS @extschema@.vector)
	WITH FUNCTION @extschema@.vector(@extschema@.vector, integer, boolean) AS IMPLICIT;

CREATE CAST (integer[] AS @extschema@.vector)
	WITH FUNCTION @extschema@.array_to_vector(integer[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (real[] AS @extschema@.vector)
	WITH FUNCTION @extschema@.array_to_vector(real[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (double precision[] AS @extschema@.vector)
	WITH FUNCTION @extschema@.array_to_vector(double precision[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (numeric[] AS @extschema@.vector)
	WITH FUNCTION @extschema@.array_to_vector(numeric[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (@extschema@.vector AS real[])
	WITH FUNCTION @extschema@.vector_to_float4(@extschema@.vector, integer, boolean) AS IMPLICIT;

-- ---------------------------------------------------------------- functions

CREATE FUNCTION @extschema@.l2_distance(@extschema@.vector, @extschema@.vector)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.inner_product(@extschema@.vector, @extschema@.vector)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.cosine_distance(@extschema@.vector, @extschema@.vector)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l1_distance(@extschema@.vector, @extschema@.vector)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_l2_squared_distance(@extschema@.vector, @extschema@.vector)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_dims(@extschema@.vector)
	RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_norm(@extschema@.vector)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l2_normalize(@extschema@.vector)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.subvector(@extschema@.vector, integer, integer)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_add(@extschema@.vector, @extschema@.vector)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_sub(@extschema@.vector, @extschema@.vector)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_mul(@extschema@.vector, @extschema@.vector)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_concat(@extschema@.vector, @extschema@.vector)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vectorx_simd()
	RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.vectorx_simd() IS 'distance kernel variant chosen for this CPU';

-- ---------------------------------------------------------------- comparison

CREATE FUNCTION @extschema@.vector_lt(@extschema@.vector, @extschema@.vector)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_le(@extschema@.vector, @extschema@.vector)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_eq(@extschema@.vector, @extschema@.vector)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_ne(@extschema@.vector, @extschema@.vector)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_ge(@extschema@.vector, @extschema@.vector)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_gt(@extschema@.vector, @extschema@.vector)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_cmp(@extschema@.vector, @extschema@.vector)
	RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_hash(@extschema@.vector)
	RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_hash_extended(@extschema@.vector, bigint)
	RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ---------------------------------------------------------------- aggregates

CREATE FUNCTION @extschema@.vector_accum(double precision[], @extschema@.vector)
	RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_combine(double precision[], double precision[])
	RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_avg(double precision[])
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE @extschema@.avg(@extschema@.vector) (
	SFUNC = @extschema@.vector_accum,
	STYPE = double precision[],
	FINALFUNC = @extschema@.vector_avg,
	COMBINEFUNC = @extschema@.vector_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);

CREATE AGGREGATE @extschema@.sum(@extschema@.vector) (
	SFUNC = @extschema@.vector_add,
	STYPE = @extschema@.vector,
	COMBINEFUNC = @extschema@.vector_add,
	PARALLEL = SAFE
);

-- ---------------------------------------------------------------- operators

CREATE OPERATOR @extschema@.<-> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.l2_distance,
	COMMUTATOR = OPERATOR(@extschema@.<->)
);

CREATE OPERATOR @extschema@.<#> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_negative_inner_product,
	COMMUTATOR = OPERATOR(@extschema@.<#>)
);

CREATE OPERATOR @extschema@.<=> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.cosine_distance,
	COMMUTATOR = OPERATOR(@extschema@.<=>)
);

CREATE OPERATOR @extschema@.<+> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.l1_distance,
	COMMUTATOR = OPERATOR(@extschema@.<+>)
);

CREATE OPERATOR @extschema@.+ (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_add,
	COMMUTATOR = OPERATOR(@extschema@.+)
);

CREATE OPERATOR @extschema@.- (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_sub
);

CREATE OPERATOR @extschema@.* (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_mul,
	COMMUTATOR = OPERATOR(@extschema@.*)
);

CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_concat
);

CREATE OPERATOR @extschema@.< (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_lt,
	COMMUTATOR = OPERATOR(@extschema@.>), NEGATOR = OPERATOR(@extschema@.>=),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);

CREATE OPERATOR @extschema@.<= (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_le,
	COMMUTATOR = OPERATOR(@extschema@.>=), NEGATOR = OPERATOR(@extschema@.>),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
	HASHES, MERGES
);

CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);

CREATE OPERATOR @extschema@.>= (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_ge,
	COMMUTATOR = OPERATOR(@extschema@.<=), NEGATOR = OPERATOR(@extschema@.<),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

CREATE OPERATOR @extschema@.> (
	LEFTARG = @extschema@.vector, RIGHTARG = @extschema@.vector,
	FUNCTION = @extschema@.vector_gt,
	COMMUTATOR = OPERATOR(@extschema@.<), NEGATOR = OPERATOR(@extschema@.<=),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);

CREATE OPERATOR CLASS @extschema@.vector_ops
	DEFAULT FOR TYPE @extschema@.vector USING btree AS
	OPERATOR 1 @extschema@.<,
	OPERATOR 2 @extschema@.<=,
	OPERATOR 3 @extschema@.=,
	OPERATOR 4 @extschema@.>=,
	OPERATOR 5 @extschema@.>,
	FUNCTION 1 @extschema@.vector_cmp(@extschema@.vector, @extschema@.vector);

CREATE OPERATOR CLASS @extschema@.vector_ops
	DEFAULT FOR TYPE @extschema@.vector USING hash AS
	OPERATOR 1 @extschema@.=,
	FUNCTION 1 @extschema@.vector_hash(@extschema@.vector),
	FUNCTION 2 @extschema@.vector_hash_extended(@extschema@.vector, bigint);

-- ---------------------------------------------------------------- hnsw
-- (src/hnsw/hnsw.h documents the access method)

CREATE FUNCTION @extschema@.hnswhandler(pg_catalog.internal)
	RETURNS pg_catalog.index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER @extschema@.hnswhandler;

COMMENT ON ACCESS METHOD hnsw IS 'HNSW graph index for approximate nearest-neighbour search';

CREATE OPERATOR CLASS @extschema@.vector_l2_ops
	DEFAULT FOR TYPE @extschema@.vector USING hnsw AS
	OPERATOR 1 @extschema@.<-> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.vector_l2_squared_distance(@extschema@.vector, @extschema@.vector);

CREATE OPERATOR CLASS @extschema@.vector_ip_ops
	FOR TYPE @extschema@.vector USING hnsw AS
	OPERATOR 1 @extschema@.<#> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector);

CREATE OPERATOR CLASS @extschema@.vector_cosine_ops
	FOR TYPE @extschema@.vector USING hnsw AS
	OPERATOR 1 @extschema@.<=> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.cosine_distance(@extschema@.vector, @extschema@.vector);

CREATE OPERATOR CLASS @extschema@.vector_l1_ops
	FOR TYPE @extschema@.vector USING hnsw AS
	OPERATOR 1 @extschema@.<+> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.l1_distance(@extschema@.vector, @extschema@.vector);

CREATE FUNCTION @extschema@.vectorx_hnsw_check(index pg_catalog.regclass,
	OUT ok boolean, OUT pages bigint, OUT elements bigint, OUT deleted bigint,
	OUT free bigint, OUT reserved bigint, OUT heap_tids bigint, OUT max_level integer,
	OUT entry_point bigint, OUT entry_level integer, OUT links bigint,
	OUT links_to_deleted bigint, OUT bad_links bigint, OUT unreachable bigint,
	OUT problems text[])
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.vectorx_hnsw_check(pg_catalog.regclass) IS
	'check the structural invariants of an hnsw index';

CREATE FUNCTION @extschema@.vectorx_hnsw_elements(index pg_catalog.regclass,
	OUT element bigint, OUT level integer, OUT state text, OUT heap_tid pg_catalog.tid)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.vectorx_hnsw_elements(pg_catalog.regclass) IS
	'the elements of an hnsw index with their heap TIDs, for inspection';

-- ---------------------------------------------------------------- ivfpq
-- (src/ivfpq/ivfpq.h documents the access method)

CREATE FUNCTION @extschema@.ivfpqhandler(pg_catalog.internal)
	RETURNS pg_catalog.index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD ivfpq TYPE INDEX HANDLER @extschema@.ivfpqhandler;

COMMENT ON ACCESS METHOD ivfpq IS 'inverted lists of product-quantized vectors, exact re-rank, for approximate nearest-neighbour search';

CREATE OPERATOR CLASS @extschema@.vector_l2_ops
	DEFAULT FOR TYPE @extschema@.vector USING ivfpq AS
	OPERATOR 1 @extschema@.<-> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.vector_l2_squared_distance(@extschema@.vector, @extschema@.vector);

CREATE OPERATOR CLASS @extschema@.vector_ip_ops
	FOR TYPE @extschema@.vector USING ivfpq AS
	OPERATOR 1 @extschema@.<#> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector);

CREATE OPERATOR CLASS @extschema@.vector_cosine_ops
	FOR TYPE @extschema@.vector USING ivfpq AS
	OPERATOR 1 @extschema@.<=> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.cosine_distance(@extschema@.vector, @extschema@.vector);

CREATE FUNCTION @extschema@.vectorx_ivfpq_check(index pg_catalog.regclass,
	OUT ok boolean, OUT pages bigint, OUT lists integer, OUT empty_lists integer,
	OUT list_pages bigint, OUT max_chain bigint, OUT entries bigint,
	OUT heap_tids bigint, OUT new_pages bigint, OUT problems text[])
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.vectorx_ivfpq_check(pg_catalog.regclass) IS
	'check the invariants of an ivfpq index';

-- Monitoring (src/monitor.c): index statistics and recall measured inside
-- the database.

CREATE FUNCTION @extschema@.vectorx_index_stats(index pg_catalog.regclass,
	OUT stat pg_catalog.text, OUT value double precision, OUT description pg_catalog.text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.vectorx_index_stats(pg_catalog.regclass) IS
	'statistics of a vectorx index, one row per figure';

CREATE FUNCTION @extschema@.vectorx_recall(index pg_catalog.regclass,
	sample pg_catalog.int4 DEFAULT 100, k pg_catalog.int4 DEFAULT 10,
	OUT recall double precision, OUT mean_ms double precision,
	OUT p99_ms double precision, OUT queries pg_catalog.int4)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.vectorx_recall(pg_catalog.regclass, pg_catalog.int4, pg_catalog.int4) IS
	'recall@k of the index against exact search, stored rows as leave-one-out queries, with the session''s settings';

CREATE FUNCTION @extschema@.vectorx_recall_queries(index pg_catalog.regclass,
	queries @extschema@.vector[], k pg_catalog.int4 DEFAULT 10,
	OUT recall double precision, OUT mean_ms double precision,
	OUT p99_ms double precision, OUT queries pg_catalog.int4)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.vectorx_recall_queries(pg_catalog.regclass, @extschema@.vector[], pg_catalog.int4) IS
	'recall@k of the index against exact search for the given query vectors';

CREATE FUNCTION @extschema@.vectorx_sampled_queries(index pg_catalog.regclass)
	RETURNS SETOF @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.vectorx_sampled_queries(pg_catalog.regclass) IS
	'query vectors recorded from this index''s scans (vectorx.query_sample_rate)';

CREATE FUNCTION @extschema@.vectorx_recall_sampled(index pg_catalog.regclass,
	k pg_catalog.int4 DEFAULT 10, max pg_catalog.int4 DEFAULT 100,
	OUT recall double precision, OUT mean_ms double precision,
	OUT p99_ms double precision, OUT queries pg_catalog.int4)
	RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

COMMENT ON FUNCTION @extschema@.vectorx_recall_sampled(pg_catalog.regclass, pg_catalog.int4, pg_catalog.int4) IS
	'recall@k of the index for the most recent recorded real queries (vectorx.query_sample_rate)';

-- Who may call what (README, "Who may call what"; src/monitor.c checks the
-- rest in C, before taking any lock).
-- Inspection reads the whole index (counts of deleted rows, heap TIDs): as
-- pgstattuple and pg_visibility do, granted to pg_stat_scan_tables; the raw
-- element dump, like pageinspect, to superusers only.  A role granted
-- EXECUTE besides them may inspect the indexes of tables it owns.
REVOKE ALL ON FUNCTION @extschema@.vectorx_index_stats(pg_catalog.regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.vectorx_hnsw_check(pg_catalog.regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.vectorx_hnsw_elements(pg_catalog.regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.vectorx_ivfpq_check(pg_catalog.regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.vectorx_index_stats(pg_catalog.regclass) TO pg_stat_scan_tables;
GRANT EXECUTE ON FUNCTION @extschema@.vectorx_hnsw_check(pg_catalog.regclass) TO pg_stat_scan_tables;
GRANT EXECUTE ON FUNCTION @extschema@.vectorx_ivfpq_check(pg_catalog.regclass) TO pg_stat_scan_tables;
-- Recorded queries are other sessions' query vectors: superusers only by
-- default, and reading them needs the privileges of pg_read_all_stats.
REVOKE ALL ON FUNCTION @extschema@.vectorx_sampled_queries(pg_catalog.regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.vectorx_recall_sampled(pg_catalog.regclass, pg_catalog.int4, pg_catalog.int4) FROM PUBLIC;

/*
 * vectorx--0.1.0--0.2.0.sql: update script of the vectorx extension, from
 * 0.1.0 to 0.2.0.  A new database gets 0.2.0 the same way: PostgreSQL
 * runs vectorx--0.1.0.sql and then this script (there is no separate
 * 0.2.0 install script), so a fresh install and an updated one hold the
 * same objects by construction; test/t/072_upgrade.pl checks it.
 *
 * 0.2.0 is the pgvector drop-in release: the bit functions and operators,
 * the halfvec type with its operators, functions, aggregates and operator
 * classes, and the sparsevec type with its distances, norms and btree
 * class.  The rules of vectorx--0.1.0.sql hold here too: every object
 * schema-qualified, no CREATE OR REPLACE.
 */

\echo Use "ALTER EXTENSION vectorx UPDATE TO '0.2.0'" to load this file. \quit

-- binary vectors: PostgreSQL's bit type, as pgvector uses it.  A database
-- created from main between these functions' commit and the version split
-- has them already, in its 0.1.0: they are created only where missing, so
-- ALTER EXTENSION UPDATE works there too (test/t/072_upgrade.pl).
DO $bit$
BEGIN
	IF pg_catalog.to_regprocedure('@extschema@.binary_quantize(@extschema@.vector)') IS NULL THEN
		CREATE FUNCTION @extschema@.binary_quantize(@extschema@.vector) RETURNS pg_catalog.bit
			AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

		CREATE FUNCTION @extschema@.hamming_distance(pg_catalog.bit, pg_catalog.bit)
			RETURNS double precision
			AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

		CREATE FUNCTION @extschema@.jaccard_distance(pg_catalog.bit, pg_catalog.bit)
			RETURNS double precision
			AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

		CREATE OPERATOR @extschema@.<~> (
			LEFTARG = pg_catalog.bit, RIGHTARG = pg_catalog.bit,
			FUNCTION = @extschema@.hamming_distance,
			COMMUTATOR = OPERATOR(@extschema@.<~>)
		);

		CREATE OPERATOR @extschema@.<%> (
			LEFTARG = pg_catalog.bit, RIGHTARG = pg_catalog.bit,
			FUNCTION = @extschema@.jaccard_distance,
			COMMUTATOR = OPERATOR(@extschema@.<%>)
		);
	END IF;
END
$bit$;

-- binary_quantize(halfvec) is below, with the halfvec type

-- ---------------------------------------------------------------- halfvec
-- (src/halfvec.h: IEEE binary16 elements, pgvector's layout and formats)

CREATE TYPE @extschema@.halfvec;

CREATE FUNCTION @extschema@.halfvec_in(pg_catalog.cstring, pg_catalog.oid, integer)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_out(@extschema@.halfvec)
	RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_typmod_in(pg_catalog.cstring[])
	RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_recv(pg_catalog.internal, pg_catalog.oid, integer)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_send(@extschema@.halfvec)
	RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- STORAGE = external as pgvector's: never compressed (binary16 values do
-- not compress), moved out of line only when a row would not fit
CREATE TYPE @extschema@.halfvec (
	INPUT = @extschema@.halfvec_in,
	OUTPUT = @extschema@.halfvec_out,
	TYPMOD_IN = @extschema@.halfvec_typmod_in,
	TYPMOD_OUT = @extschema@.vector_typmod_out,
	RECEIVE = @extschema@.halfvec_recv,
	SEND = @extschema@.halfvec_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = external
);

COMMENT ON TYPE @extschema@.halfvec IS 'float16 vector of 1 to 16000 dimensions';

-- casts

CREATE FUNCTION @extschema@.halfvec(@extschema@.halfvec, integer, boolean)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_halfvec(integer[], integer, boolean)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_halfvec(real[], integer, boolean)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_halfvec(double precision[], integer, boolean)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.array_to_halfvec(numeric[], integer, boolean)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_to_float4(@extschema@.halfvec, integer, boolean)
	RETURNS real[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_to_halfvec(@extschema@.vector, integer, boolean)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_to_vector(@extschema@.halfvec, integer, boolean)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (@extschema@.halfvec AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.halfvec(@extschema@.halfvec, integer, boolean) AS IMPLICIT;

CREATE CAST (@extschema@.halfvec AS @extschema@.vector)
	WITH FUNCTION @extschema@.halfvec_to_vector(@extschema@.halfvec, integer, boolean) AS ASSIGNMENT;

CREATE CAST (@extschema@.vector AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.vector_to_halfvec(@extschema@.vector, integer, boolean) AS IMPLICIT;

CREATE CAST (@extschema@.halfvec AS real[])
	WITH FUNCTION @extschema@.halfvec_to_float4(@extschema@.halfvec, integer, boolean) AS ASSIGNMENT;

CREATE CAST (integer[] AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.array_to_halfvec(integer[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (real[] AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.array_to_halfvec(real[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (double precision[] AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.array_to_halfvec(double precision[], integer, boolean) AS ASSIGNMENT;

CREATE CAST (numeric[] AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.array_to_halfvec(numeric[], integer, boolean) AS ASSIGNMENT;

-- functions: pgvector's SQL names, over the C functions of halfvec_ops.c

CREATE FUNCTION @extschema@.l2_distance(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'halfvec_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.inner_product(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'halfvec_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.cosine_distance(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'halfvec_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l1_distance(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'halfvec_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_l2_squared_distance(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_negative_inner_product(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_dims(@extschema@.halfvec)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'halfvec_vector_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l2_norm(@extschema@.halfvec)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'halfvec_l2_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l2_normalize(@extschema@.halfvec)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME', 'halfvec_l2_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.binary_quantize(@extschema@.halfvec)
	RETURNS pg_catalog.bit
	AS 'MODULE_PATHNAME', 'halfvec_binary_quantize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.subvector(@extschema@.halfvec, integer, integer)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME', 'halfvec_subvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_add(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_sub(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_mul(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_concat(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_lt(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_le(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_eq(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_ne(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_ge(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_gt(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_cmp(@extschema@.halfvec, @extschema@.halfvec)
	RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- aggregates: avg keeps avg(vector)'s state, combined by the same function

CREATE FUNCTION @extschema@.halfvec_accum(double precision[], @extschema@.halfvec)
	RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_avg(double precision[])
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_combine(double precision[], double precision[])
	RETURNS double precision[]
	AS 'MODULE_PATHNAME', 'vector_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE @extschema@.avg(@extschema@.halfvec) (
	SFUNC = @extschema@.halfvec_accum,
	STYPE = double precision[],
	FINALFUNC = @extschema@.halfvec_avg,
	COMBINEFUNC = @extschema@.halfvec_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);

CREATE AGGREGATE @extschema@.sum(@extschema@.halfvec) (
	SFUNC = @extschema@.halfvec_add,
	STYPE = @extschema@.halfvec,
	COMBINEFUNC = @extschema@.halfvec_add,
	PARALLEL = SAFE
);

-- operators

CREATE OPERATOR @extschema@.<-> (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.l2_distance,
	COMMUTATOR = OPERATOR(@extschema@.<->)
);

CREATE OPERATOR @extschema@.<#> (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_negative_inner_product,
	COMMUTATOR = OPERATOR(@extschema@.<#>)
);

CREATE OPERATOR @extschema@.<=> (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.cosine_distance,
	COMMUTATOR = OPERATOR(@extschema@.<=>)
);

CREATE OPERATOR @extschema@.<+> (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.l1_distance,
	COMMUTATOR = OPERATOR(@extschema@.<+>)
);

CREATE OPERATOR @extschema@.+ (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_add,
	COMMUTATOR = OPERATOR(@extschema@.+)
);

CREATE OPERATOR @extschema@.- (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_sub
);

CREATE OPERATOR @extschema@.* (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_mul,
	COMMUTATOR = OPERATOR(@extschema@.*)
);

CREATE OPERATOR @extschema@.|| (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_concat
);

CREATE OPERATOR @extschema@.< (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_lt,
	COMMUTATOR = OPERATOR(@extschema@.>), NEGATOR = OPERATOR(@extschema@.>=),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);

CREATE OPERATOR @extschema@.<= (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_le,
	COMMUTATOR = OPERATOR(@extschema@.>=), NEGATOR = OPERATOR(@extschema@.>),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
	MERGES
);

CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);

CREATE OPERATOR @extschema@.>= (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_ge,
	COMMUTATOR = OPERATOR(@extschema@.<=), NEGATOR = OPERATOR(@extschema@.<),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

CREATE OPERATOR @extschema@.> (
	LEFTARG = @extschema@.halfvec, RIGHTARG = @extschema@.halfvec,
	FUNCTION = @extschema@.halfvec_gt,
	COMMUTATOR = OPERATOR(@extschema@.<), NEGATOR = OPERATOR(@extschema@.<=),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);

CREATE OPERATOR CLASS @extschema@.halfvec_ops
	DEFAULT FOR TYPE @extschema@.halfvec USING btree AS
	OPERATOR 1 @extschema@.<,
	OPERATOR 2 @extschema@.<=,
	OPERATOR 3 @extschema@.=,
	OPERATOR 4 @extschema@.>=,
	OPERATOR 5 @extschema@.>,
	FUNCTION 1 @extschema@.halfvec_cmp(@extschema@.halfvec, @extschema@.halfvec);

-- index operator classes: the indexes hold halfvec in their float form
-- (exact), so they answer as over the vector cast from it

CREATE OPERATOR CLASS @extschema@.halfvec_l2_ops
	FOR TYPE @extschema@.halfvec USING hnsw AS
	OPERATOR 1 @extschema@.<-> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.halfvec_l2_squared_distance(@extschema@.halfvec, @extschema@.halfvec);

CREATE OPERATOR CLASS @extschema@.halfvec_ip_ops
	FOR TYPE @extschema@.halfvec USING hnsw AS
	OPERATOR 1 @extschema@.<#> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.halfvec_negative_inner_product(@extschema@.halfvec, @extschema@.halfvec);

CREATE OPERATOR CLASS @extschema@.halfvec_cosine_ops
	FOR TYPE @extschema@.halfvec USING hnsw AS
	OPERATOR 1 @extschema@.<=> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.cosine_distance(@extschema@.halfvec, @extschema@.halfvec);

CREATE OPERATOR CLASS @extschema@.halfvec_l1_ops
	FOR TYPE @extschema@.halfvec USING hnsw AS
	OPERATOR 1 @extschema@.<+> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.l1_distance(@extschema@.halfvec, @extschema@.halfvec);

-- bit columns in HNSW: the bits are the codes (src/hnsw/hnsw.h, VECTORS)
CREATE OPERATOR CLASS @extschema@.bit_hamming_ops
	FOR TYPE pg_catalog.bit USING hnsw AS
	OPERATOR 1 @extschema@.<~> (pg_catalog.bit, pg_catalog.bit) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.hamming_distance(pg_catalog.bit, pg_catalog.bit);

CREATE OPERATOR CLASS @extschema@.bit_jaccard_ops
	FOR TYPE pg_catalog.bit USING hnsw AS
	OPERATOR 1 @extschema@.<%> (pg_catalog.bit, pg_catalog.bit) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.jaccard_distance(pg_catalog.bit, pg_catalog.bit);

CREATE OPERATOR CLASS @extschema@.halfvec_l2_ops
	FOR TYPE @extschema@.halfvec USING ivfpq AS
	OPERATOR 1 @extschema@.<-> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.halfvec_l2_squared_distance(@extschema@.halfvec, @extschema@.halfvec);

CREATE OPERATOR CLASS @extschema@.halfvec_ip_ops
	FOR TYPE @extschema@.halfvec USING ivfpq AS
	OPERATOR 1 @extschema@.<#> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.halfvec_negative_inner_product(@extschema@.halfvec, @extschema@.halfvec);

CREATE OPERATOR CLASS @extschema@.halfvec_cosine_ops
	FOR TYPE @extschema@.halfvec USING ivfpq AS
	OPERATOR 1 @extschema@.<=> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.cosine_distance(@extschema@.halfvec, @extschema@.halfvec);

-- ---------------------------------------------------------------- sparsevec
-- (src/sparsevec.h: non-zero elements only, pgvector's layout and formats)

CREATE TYPE @extschema@.sparsevec;

CREATE FUNCTION @extschema@.sparsevec_in(pg_catalog.cstring, pg_catalog.oid, integer)
	RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_out(@extschema@.sparsevec)
	RETURNS pg_catalog.cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_typmod_in(pg_catalog.cstring[])
	RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_recv(pg_catalog.internal, pg_catalog.oid, integer)
	RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_send(@extschema@.sparsevec)
	RETURNS pg_catalog.bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.sparsevec (
	INPUT = @extschema@.sparsevec_in,
	OUTPUT = @extschema@.sparsevec_out,
	TYPMOD_IN = @extschema@.sparsevec_typmod_in,
	TYPMOD_OUT = @extschema@.vector_typmod_out,
	RECEIVE = @extschema@.sparsevec_recv,
	SEND = @extschema@.sparsevec_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = external
);

COMMENT ON TYPE @extschema@.sparsevec IS 'sparse float4 vector: up to 16000 non-zero elements of up to 1000000000 dimensions';

CREATE FUNCTION @extschema@.sparsevec(@extschema@.sparsevec, integer, boolean)
	RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vector_to_sparsevec(@extschema@.vector, integer, boolean)
	RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_to_vector(@extschema@.sparsevec, integer, boolean)
	RETURNS @extschema@.vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.halfvec_to_sparsevec(@extschema@.halfvec, integer, boolean)
	RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_to_halfvec(@extschema@.sparsevec, integer, boolean)
	RETURNS @extschema@.halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (@extschema@.sparsevec AS @extschema@.sparsevec)
	WITH FUNCTION @extschema@.sparsevec(@extschema@.sparsevec, integer, boolean) AS IMPLICIT;

CREATE CAST (@extschema@.vector AS @extschema@.sparsevec)
	WITH FUNCTION @extschema@.vector_to_sparsevec(@extschema@.vector, integer, boolean) AS ASSIGNMENT;

CREATE CAST (@extschema@.sparsevec AS @extschema@.vector)
	WITH FUNCTION @extschema@.sparsevec_to_vector(@extschema@.sparsevec, integer, boolean) AS ASSIGNMENT;

CREATE CAST (@extschema@.halfvec AS @extschema@.sparsevec)
	WITH FUNCTION @extschema@.halfvec_to_sparsevec(@extschema@.halfvec, integer, boolean) AS ASSIGNMENT;

CREATE CAST (@extschema@.sparsevec AS @extschema@.halfvec)
	WITH FUNCTION @extschema@.sparsevec_to_halfvec(@extschema@.sparsevec, integer, boolean) AS ASSIGNMENT;

-- The distances merge both vectors' elements: about a microsecond for a
-- few hundred each, a hundred times what the planner assumes of a function
-- (COST 1).  Said here so that an exact scan is not costed as nearly free
-- next to an HNSW index over the column.
CREATE FUNCTION @extschema@.l2_distance(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'sparsevec_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;

CREATE FUNCTION @extschema@.inner_product(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'sparsevec_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;

CREATE FUNCTION @extschema@.cosine_distance(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'sparsevec_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;

CREATE FUNCTION @extschema@.l1_distance(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'sparsevec_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;

CREATE FUNCTION @extschema@.sparsevec_l2_squared_distance(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;

CREATE FUNCTION @extschema@.sparsevec_negative_inner_product(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;

CREATE FUNCTION @extschema@.l2_norm(@extschema@.sparsevec)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'sparsevec_l2_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.l2_normalize(@extschema@.sparsevec)
	RETURNS @extschema@.sparsevec
	AS 'MODULE_PATHNAME', 'sparsevec_l2_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_lt(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_le(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_eq(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_ne(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_ge(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_gt(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.sparsevec_cmp(@extschema@.sparsevec, @extschema@.sparsevec)
	RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR @extschema@.<-> (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.l2_distance,
	COMMUTATOR = OPERATOR(@extschema@.<->)
);

CREATE OPERATOR @extschema@.<#> (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_negative_inner_product,
	COMMUTATOR = OPERATOR(@extschema@.<#>)
);

CREATE OPERATOR @extschema@.<=> (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.cosine_distance,
	COMMUTATOR = OPERATOR(@extschema@.<=>)
);

CREATE OPERATOR @extschema@.<+> (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.l1_distance,
	COMMUTATOR = OPERATOR(@extschema@.<+>)
);

CREATE OPERATOR @extschema@.< (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_lt,
	COMMUTATOR = OPERATOR(@extschema@.>), NEGATOR = OPERATOR(@extschema@.>=),
	RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);

CREATE OPERATOR @extschema@.<= (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_le,
	COMMUTATOR = OPERATOR(@extschema@.>=), NEGATOR = OPERATOR(@extschema@.>),
	RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);

CREATE OPERATOR @extschema@.= (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_eq,
	COMMUTATOR = OPERATOR(@extschema@.=), NEGATOR = OPERATOR(@extschema@.<>),
	RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
	MERGES
);

CREATE OPERATOR @extschema@.<> (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_ne,
	COMMUTATOR = OPERATOR(@extschema@.<>), NEGATOR = OPERATOR(@extschema@.=),
	RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);

CREATE OPERATOR @extschema@.>= (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_ge,
	COMMUTATOR = OPERATOR(@extschema@.<=), NEGATOR = OPERATOR(@extschema@.<),
	RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);

CREATE OPERATOR @extschema@.> (
	LEFTARG = @extschema@.sparsevec, RIGHTARG = @extschema@.sparsevec,
	FUNCTION = @extschema@.sparsevec_gt,
	COMMUTATOR = OPERATOR(@extschema@.<), NEGATOR = OPERATOR(@extschema@.<=),
	RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);

CREATE OPERATOR CLASS @extschema@.sparsevec_ops
	DEFAULT FOR TYPE @extschema@.sparsevec USING btree AS
	OPERATOR 1 @extschema@.<,
	OPERATOR 2 @extschema@.<=,
	OPERATOR 3 @extschema@.=,
	OPERATOR 4 @extschema@.>=,
	OPERATOR 5 @extschema@.>,
	FUNCTION 1 @extschema@.sparsevec_cmp(@extschema@.sparsevec, @extschema@.sparsevec);

-- sparsevec columns in HNSW: each element keeps up to the option nnz of a
-- vector's non-zero elements as 8-bit codes (src/common/vxcodec.h, SPARSE
-- CODES), and the executor re-checks exact distances
CREATE OPERATOR CLASS @extschema@.sparsevec_l2_ops
	FOR TYPE @extschema@.sparsevec USING hnsw AS
	OPERATOR 1 @extschema@.<-> (@extschema@.sparsevec, @extschema@.sparsevec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.sparsevec_l2_squared_distance(@extschema@.sparsevec, @extschema@.sparsevec);

CREATE OPERATOR CLASS @extschema@.sparsevec_ip_ops
	FOR TYPE @extschema@.sparsevec USING hnsw AS
	OPERATOR 1 @extschema@.<#> (@extschema@.sparsevec, @extschema@.sparsevec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.sparsevec_negative_inner_product(@extschema@.sparsevec, @extschema@.sparsevec);

CREATE OPERATOR CLASS @extschema@.sparsevec_cosine_ops
	FOR TYPE @extschema@.sparsevec USING hnsw AS
	OPERATOR 1 @extschema@.<=> (@extschema@.sparsevec, @extschema@.sparsevec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.cosine_distance(@extschema@.sparsevec, @extschema@.sparsevec);

CREATE OPERATOR CLASS @extschema@.sparsevec_l1_ops
	FOR TYPE @extschema@.sparsevec USING hnsw AS
	OPERATOR 1 @extschema@.<+> (@extschema@.sparsevec, @extschema@.sparsevec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.l1_distance(@extschema@.sparsevec, @extschema@.sparsevec);

-- ivfflat: pgvector's IVF index under its own name, the lists holding 8-bit
-- codes and the executor re-checking exact distances (src/ivfpq/ivfpq.h,
-- IVFFLAT)
CREATE FUNCTION @extschema@.ivfflathandler(pg_catalog.internal)
	RETURNS pg_catalog.index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER @extschema@.ivfflathandler;

COMMENT ON ACCESS METHOD ivfflat IS 'inverted lists of 8-bit coded vectors with exact re-check (pgvector''s ivfflat), for approximate nearest-neighbour search';

CREATE OPERATOR CLASS @extschema@.vector_l2_ops
	DEFAULT FOR TYPE @extschema@.vector USING ivfflat AS
	OPERATOR 1 @extschema@.<-> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.vector_l2_squared_distance(@extschema@.vector, @extschema@.vector);

CREATE OPERATOR CLASS @extschema@.vector_ip_ops
	FOR TYPE @extschema@.vector USING ivfflat AS
	OPERATOR 1 @extschema@.<#> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.vector_negative_inner_product(@extschema@.vector, @extschema@.vector);

CREATE OPERATOR CLASS @extschema@.vector_cosine_ops
	FOR TYPE @extschema@.vector USING ivfflat AS
	OPERATOR 1 @extschema@.<=> (@extschema@.vector, @extschema@.vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.cosine_distance(@extschema@.vector, @extschema@.vector);

CREATE OPERATOR CLASS @extschema@.halfvec_l2_ops
	FOR TYPE @extschema@.halfvec USING ivfflat AS
	OPERATOR 1 @extschema@.<-> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.halfvec_l2_squared_distance(@extschema@.halfvec, @extschema@.halfvec);

CREATE OPERATOR CLASS @extschema@.halfvec_ip_ops
	FOR TYPE @extschema@.halfvec USING ivfflat AS
	OPERATOR 1 @extschema@.<#> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.halfvec_negative_inner_product(@extschema@.halfvec, @extschema@.halfvec);

CREATE OPERATOR CLASS @extschema@.halfvec_cosine_ops
	FOR TYPE @extschema@.halfvec USING ivfflat AS
	OPERATOR 1 @extschema@.<=> (@extschema@.halfvec, @extschema@.halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.cosine_distance(@extschema@.halfvec, @extschema@.halfvec);

CREATE OPERATOR CLASS @extschema@.bit_hamming_ops
	FOR TYPE pg_catalog.bit USING ivfflat AS
	OPERATOR 1 @extschema@.<~> (pg_catalog.bit, pg_catalog.bit) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.hamming_distance(pg_catalog.bit, pg_catalog.bit);

-- Cluster sharding (src/planner/shard.h): routings, the partition-key
-- function, run-time pruning, inspection and rebalancing.

-- A routing: cells coarse centroids of dims dimensions (cell-major), its
-- metric, and how many of the training sample's rows each cell took.  A
-- row is never changed (vectorx_shard_cell is IMMUTABLE over it).
CREATE TABLE @extschema@.vectorx_shard_routing (
	name pg_catalog.text PRIMARY KEY,
	metric pg_catalog.text NOT NULL CHECK (metric IN ('l2', 'cosine')),
	dims pg_catalog.int4 NOT NULL CHECK (dims > 0),
	cells pg_catalog.int4 NOT NULL CHECK (cells > 0),
	centroids pg_catalog.float4[] NOT NULL,
	sample_rows pg_catalog.int4 NOT NULL,
	sample_counts pg_catalog.int4[] NOT NULL,
	created pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CHECK (pg_catalog.cardinality(centroids) = dims * cells),
	CHECK (pg_catalog.cardinality(sample_counts) = cells)
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.vectorx_shard_routing', '');
GRANT SELECT ON @extschema@.vectorx_shard_routing TO PUBLIC;

CREATE FUNCTION @extschema@.vectorx_shard_routing_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'a vectorx routing cannot be changed'
		USING ERRCODE = 'object_not_in_prerequisite_state',
		      DETAIL = format('Rows of routing "%s" are placed by its centroids; changed centroids would misplace them.', OLD.name),
		      HINT = 'Train a new routing under another name and move the rows to a table partitioned by it.';
END $$;
CREATE TRIGGER vectorx_shard_routing_frozen BEFORE UPDATE ON @extschema@.vectorx_shard_routing
	FOR EACH ROW EXECUTE FUNCTION @extschema@.vectorx_shard_routing_frozen();

CREATE FUNCTION @extschema@.vectorx_shard_train(routing pg_catalog.text, sample_query pg_catalog.text,
	cells pg_catalog.int4, metric pg_catalog.text DEFAULT 'l2', sample_rows pg_catalog.int4 DEFAULT 50000)
	RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'vectorx_shard_train' LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@.vectorx_shard_cell(@extschema@.vector, pg_catalog.text) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'vectorx_shard_cell' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vectorx_shard_probe(@extschema@.vector, pg_catalog.text, pg_catalog.regclass, pg_catalog.int4)
	RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME', 'vectorx_shard_probe' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.vectorx_shard_route(tab pg_catalog.regclass, query @extschema@.vector)
	RETURNS TABLE (rank pg_catalog.int4, partition pg_catalog.regclass, server pg_catalog.text,
	               cells pg_catalog.int4[], distance pg_catalog.float8, contacted pg_catalog.bool)
	AS 'MODULE_PATHNAME', 'vectorx_shard_route' LANGUAGE C STABLE STRICT;

CREATE FUNCTION @extschema@.vectorx_shard_partitions(tab pg_catalog.regclass)
	RETURNS TABLE (partition pg_catalog.regclass, server pg_catalog.text, cells pg_catalog.int4[],
	               is_default pg_catalog.bool)
	AS 'MODULE_PATHNAME', 'vectorx_shard_partitions' LANGUAGE C STABLE STRICT;

-- Rows per partition (a count through each partition: on a foreign table,
-- a remote count), to find hot spots.
CREATE FUNCTION @extschema@.vectorx_shard_rows(part pg_catalog.regclass) RETURNS pg_catalog.int8
LANGUAGE plpgsql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n int8;
BEGIN
	EXECUTE format('SELECT count(*) FROM %s', part) INTO n;
	RETURN n;
END $$;

CREATE FUNCTION @extschema@.vectorx_shard_balance(tab pg_catalog.regclass)
	RETURNS TABLE (partition pg_catalog.regclass, server pg_catalog.text, cells pg_catalog.int4[],
	               "rows" pg_catalog.int8, share pg_catalog.float8)
LANGUAGE sql STABLE STRICT AS $$
	SELECT p.partition, p.server, p.cells, c.n,
	       COALESCE(c.n::pg_catalog.float8 / NULLIF(pg_catalog.sum(c.n) OVER (), 0)::pg_catalog.float8, 0)
	FROM @extschema@.vectorx_shard_partitions(tab) p,
	     LATERAL (SELECT @extschema@.vectorx_shard_rows(p.partition) AS n) c
$$;

-- Move one cell (its rows and its place in the partition bounds) from the
-- partition that lists it to another, in the caller's transaction.  The
-- rows travel through the coordinator (the source partition is read once),
-- so that the shards need not hold the routing.
CREATE FUNCTION @extschema@.vectorx_shard_move_cell(tab pg_catalog.regclass, cell pg_catalog.int4,
	to_partition pg_catalog.regclass) RETURNS pg_catalog.int8
LANGUAGE plpgsql STRICT SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	src record;
	dst record;
	keyexpr text;
	cols text;
	moved int8;
BEGIN
	EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', tab);
	SELECT * INTO dst FROM @extschema@.vectorx_shard_partitions(tab) p WHERE p.partition = to_partition;
	IF NOT FOUND THEN
		RAISE EXCEPTION '"%" is not a partition of "%"', to_partition, tab
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO src FROM @extschema@.vectorx_shard_partitions(tab) p WHERE cell = ANY (p.cells);
	IF NOT FOUND THEN
		RAISE EXCEPTION 'cell % is not owned by any partition of "%"', cell, tab
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Cells are numbered from 0 to the routing''s cells - 1; vectorx_shard_partitions() lists who owns which.';
	END IF;
	IF src.partition = to_partition THEN
		RETURN 0;
	END IF;
	IF src.is_default OR dst.is_default THEN
		RAISE EXCEPTION 'cells cannot be moved out of or into a default partition'
			USING ERRCODE = 'feature_not_supported',
			      HINT = 'List the cell in a partition of its own first.';
	END IF;
	IF cardinality(src.cells) = 1 THEN
		RAISE EXCEPTION 'partition "%" would own no cell', src.partition
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Move another cell to it first, or detach it.';
	END IF;
	keyexpr := substring(pg_get_partkeydef(tab) FROM '^LIST \((.*)\)$');
	SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
		FROM pg_attribute WHERE attrelid = tab AND attnum > 0 AND NOT attisdropped;

	EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', tab, src.partition);
	EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', tab, to_partition);
	EXECUTE format('CREATE TEMP TABLE vx_moving ON COMMIT DROP AS SELECT ctid AS vx_ctid, %s FROM %s',
		cols, src.partition);
	EXECUTE format('DELETE FROM vx_moving WHERE %s IS DISTINCT FROM %s', keyexpr, cell);
	EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM vx_moving', to_partition, cols, cols);
	GET DIAGNOSTICS moved = ROW_COUNT;
	EXECUTE format('DELETE FROM %s WHERE ctid IN (SELECT vx_ctid FROM vx_moving)', src.partition);
	DROP TABLE vx_moving;
	EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN (%s)', tab, src.partition,
		array_to_string(array_remove(src.cells, cell), ', '));
	EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN (%s)', tab, to_partition,
		array_to_string(dst.cells || cell, ', '));
	RETURN moved;
END $$;

-- The INSERT that copies a routing to another server (a shard that is to
-- evaluate vectorx_shard_cell, say for a filter the coordinator ships).
CREATE FUNCTION @extschema@.vectorx_shard_routing_sql(routing pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE sql STABLE STRICT AS $$
	SELECT pg_catalog.format('INSERT INTO vectorx_shard_routing (name, metric, dims, cells, centroids, sample_rows, sample_counts, created) '
	                         'VALUES (%L, %L, %s, %s, %L, %s, %L, %L)',
	                         r.name, r.metric, r.dims, r.cells, r.centroids, r.sample_rows, r.sample_counts, r.created)
	FROM @extschema@.vectorx_shard_routing r WHERE r.name = routing
$$;

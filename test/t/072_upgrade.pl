# Upgrading the extension the way users do: a database made with an older
# release (CREATE EXTENSION vectorx VERSION '0.1.0'), tables and both kinds
# of index built under it, then ALTER EXTENSION vectorx UPDATE with the new
# library in place.  Everything must still answer, through the indexes, and
# the updated extension must hold exactly the objects of a new install.
#
# Keep this test for every later release: add the new version to @versions
# and its objects appear in the comparison by themselves.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my @versions = ('0.1.0', '0.2.0');
my $newest = $versions[-1];

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

is($node->safe_psql('postgres', "SELECT default_version FROM pg_available_extensions WHERE name = 'vectorx'"),
	$newest, "the default version is $newest");

# every version can be installed, and each later one reached by UPDATE
my $members = q{SELECT string_agg(pg_describe_object(classid, objid, 0), E'\n' ORDER BY 1)
	FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid
	WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'vectorx'};

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION vectorx');
is($node->safe_psql('fresh', "SELECT extversion FROM pg_extension WHERE extname = 'vectorx'"),
	$newest, 'CREATE EXTENSION installs the newest version');
my $fresh_members = $node->safe_psql('fresh', $members);

for my $i (0 .. $#versions - 1)
{
	my $old = $versions[$i];
	my $db = "from_" . ($old =~ tr/./_/r);
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, qq{
		CREATE EXTENSION vectorx VERSION '$old';
		CREATE TABLE items (id bigint PRIMARY KEY, tenant int, embedding vector(8));
		INSERT INTO items SELECT g, g % 4,
			ARRAY(SELECT sin(g * 0.37 + k) + cos(g * 0.11 * k) FROM generate_series(1, 8) k)
			FROM generate_series(1, 2000) g;
		CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops);
		CREATE INDEX items_cos ON items USING hnsw (embedding vector_cosine_ops);
		CREATE INDEX items_ivfpq ON items USING ivfpq (embedding vector_l2_ops) WITH (lists = 8, m = 4);
		ANALYZE items;
	});
	is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'vectorx'"),
		$old, "$old installs");

	my $query = "ORDER BY embedding <-> '[1,0,1,0,1,0,1,0]' LIMIT 10";
	my $exact = $node->safe_psql($db, "SET enable_indexscan = off; SELECT array_agg(id) FROM (SELECT id FROM items $query) s");
	# the query through one index: the others are dropped in a transaction
	# rolled back, so the planner has no other choice
	my $via = sub {
		my ($index, $order) = @_;
		$order //= $query;
		my $only = qq{BEGIN;
			DO \$\$DECLARE r record; BEGIN
				FOR r IN SELECT indexrelid::regclass AS i FROM pg_index WHERE indrelid = 'items'::regclass
					AND indexrelid::regclass::text NOT IN ('$index', 'items_pkey')
				LOOP EXECUTE 'DROP INDEX ' || r.i; END LOOP; END\$\$;
			SET LOCAL enable_seqscan = off; SET LOCAL ivfpq.probes = 8; SET LOCAL hnsw.ef_search = 100;};
		my $plan = $node->safe_psql($db, "$only EXPLAIN (COSTS OFF) SELECT id FROM items $order; ROLLBACK");
		like($plan, qr/Index Scan using $index/, "$index is used ($db)");
		return $node->safe_psql($db, "$only SELECT array_agg(id) FROM (SELECT id FROM items $order) s; ROLLBACK");
	};
	my $before_hnsw = $via->('items_hnsw');
	is($before_hnsw, $exact, "HNSW answers exactly before the update ($old)");

	$node->safe_psql($db, 'ALTER EXTENSION vectorx UPDATE');
	is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'vectorx'"),
		$newest, "ALTER EXTENSION vectorx UPDATE moves $old to $newest");
	is($node->safe_psql($db, $members), $fresh_members,
		"the updated extension holds exactly the objects of a new install");

	# the old indexes still answer, and take writes
	is($via->('items_hnsw'), $before_hnsw, 'the HNSW index built before the update answers the same');
	is($via->('items_ivfpq'), $exact, 'the IVF-PQ index built before the update answers exactly (all lists probed)');
	$node->safe_psql($db, q{INSERT INTO items VALUES (100000, 0, '[1,0,1,0,1,0,1,0]');
		DELETE FROM items WHERE id = 1; VACUUM items;});
	like($via->('items_hnsw'), qr/^\{100000,/, 'a row inserted after the update is found first through HNSW');
	like($via->('items_ivfpq'), qr/^\{100000,/, 'and through IVF-PQ');
	like($via->('items_cos', "ORDER BY embedding <=> '[1,0,1,0,1,0,1,0]' LIMIT 3"), qr/^\{100000,/,
		'and through the cosine HNSW index');
	is($node->safe_psql($db, "SELECT ok FROM vectorx_hnsw_check('items_hnsw')"), 't', 'the HNSW index checks clean');
	is($node->safe_psql($db, "SELECT ok FROM vectorx_ivfpq_check('items_ivfpq')"), 't', 'the IVF-PQ index checks clean');

	# what the update added works on the old tables
	is($node->safe_psql($db, q{SELECT count(*) FROM items WHERE binary_quantize(embedding) <~> binary_quantize('[1,0,1,0,1,0,1,0]'::vector) = 0}),
		$node->safe_psql($db, q{SELECT count(*) FROM items WHERE ARRAY(SELECT x > 0 FROM unnest(embedding::real[]) x)
			= ARRAY[true,false,true,false,true,false,true,false]}),
		'binary_quantize and <~> work on the old table');
	is($node->safe_psql($db, q{SELECT (embedding::halfvec(8))::text FROM items WHERE id = 100000}),
		'[1,0,1,0,1,0,1,0]', 'and halfvec casts work on it');
	is($node->safe_psql($db, q{SELECT (embedding::sparsevec)::text FROM items WHERE id = 100000}),
		'{1:1,3:1,5:1,7:1}/8', 'and sparsevec casts');
	$node->safe_psql($db, q{ALTER TABLE items ADD COLUMN h halfvec(8);
		UPDATE items SET h = embedding::halfvec;
		CREATE INDEX items_half ON items USING hnsw (h halfvec_l2_ops);});
	like($via->('items_half', "ORDER BY h <-> '[1,0,1,0,1,0,1,0]' LIMIT 3"), qr/^\{100000,/,
		'a halfvec HNSW index built after the update answers');
}

# A database created from main between the bit functions' commit and the
# version split: its "0.1.0" already has binary_quantize, hamming_distance,
# jaccard_distance, <~> and <%>.  The update must not trip over them.
$node->safe_psql('postgres', 'CREATE DATABASE interim');
$node->safe_psql('interim', q{
	CREATE EXTENSION vectorx VERSION '0.1.0';
	CREATE FUNCTION binary_quantize(vector) RETURNS bit
		AS '$libdir/vectorx' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
	CREATE FUNCTION hamming_distance(bit, bit) RETURNS double precision
		AS '$libdir/vectorx' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
	CREATE FUNCTION jaccard_distance(bit, bit) RETURNS double precision
		AS '$libdir/vectorx' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
	CREATE OPERATOR <~> (LEFTARG = bit, RIGHTARG = bit, FUNCTION = hamming_distance, COMMUTATOR = <~>);
	CREATE OPERATOR <%> (LEFTARG = bit, RIGHTARG = bit, FUNCTION = jaccard_distance, COMMUTATOR = <%>);
	ALTER EXTENSION vectorx ADD FUNCTION binary_quantize(vector);
	ALTER EXTENSION vectorx ADD FUNCTION hamming_distance(bit, bit);
	ALTER EXTENSION vectorx ADD FUNCTION jaccard_distance(bit, bit);
	ALTER EXTENSION vectorx ADD OPERATOR <~> (bit, bit);
	ALTER EXTENSION vectorx ADD OPERATOR <%> (bit, bit);
});
my ($ret, $out, $err) = $node->psql('interim', 'ALTER EXTENSION vectorx UPDATE');
is($ret, 0, 'a database of the interim 0.1.0 (bit functions included) updates') or diag($err);
is($node->safe_psql('interim', $members), $fresh_members, 'to exactly the objects of a new install');

done_testing();

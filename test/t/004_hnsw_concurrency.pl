# Sessions inserting, deleting, querying and vacuuming the same HNSW index
# at once: no errors, and afterwards the index is valid and every row is
# found by an exact self-query.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_node('concurrency');
my $vec = vx_rand_vec_sql(16);
my $rowvec = vx_rand_vec_sql(16, 'g');
$node->safe_psql('postgres', qq{
	CREATE TABLE items (id bigserial PRIMARY KEY, v vector(16));
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, @{[vx_n(3000, 500)]}) g;
	CREATE INDEX items_v ON items USING hnsw (v) WITH (m = 16, ef_construction = 64);
});

$node->pgbench('-n -c 6 -j 2 -T 15', 0,
	[qr/number of failed transactions: 0/], [qr/^$/],
	'concurrent inserts, deletes, k-NN queries and vacuum',
	{
		'insert@6' => "INSERT INTO items (v) SELECT $vec;\n",
		'query@6' => "SELECT id FROM items ORDER BY v <-> $vec LIMIT 10;\n",
		'delete@2' => "DELETE FROM items WHERE id = (SELECT (random() * max(id))::bigint FROM items);\n",
		'vacuum@1' => "VACUUM items;\n",
	});

is(vx_check_ok_but_cutoffs($node, 'items_v'), 't|{}', 'index passes vectorx_hnsw_check (cut-offs aside until VACUUM)');
# INDEX_CLEANUP ON: with few dead rows VACUUM may otherwise leave their
# index entries (and LP_DEAD line pointers) for a later run
$node->safe_psql('postgres', 'VACUUM (INDEX_CLEANUP ON) items');
is(vx_check_ok($node, 'items_v'), 't|{}', 'and after a final vacuum');
is($node->safe_psql('postgres', "SELECT heap_tids FROM vectorx_hnsw_check('items_v')"),
	$node->safe_psql('postgres', 'SELECT count(*) FROM items'), 'one index entry per live row');
is(vx_self_query_misses($node, 'items'), '0', 'every row is found by an exact self-query');

$node->stop;
done_testing();

# Crash recovery of an IVF-PQ index: an immediate stop while several
# sessions insert; after restart the index passes vectorx_ivfpq_check and
# holds the committed rows (and, until VACUUM, at most one aborted insert
# per session), and every one of them is found by an exact self-query (all
# lists probed, re-rank window covering the table); it keeps working
# afterwards, and passes the check after each step.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_node('ivfcrash');
my $vec = vx_rand_vec_sql(16);
my $rowvec = vx_rand_vec_sql(16, 'g');
my ($initial, $crash_at, $more) = (vx_n(3000, 600), vx_n(9000, 1500), vx_n(500, 100));
$node->safe_psql('postgres', qq{
	CREATE TABLE items (id bigserial PRIMARY KEY, v vector(16));
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, $initial) g;
	CREATE INDEX items_v ON items USING ivfpq (v) WITH (lists = 20, m = 8);
});

# four sessions inserting for up to a minute; killed long before that
my $script = $node->basedir . '/insert.sql';
append_to_file($script, "INSERT INTO items (v) SELECT $vec;\n");
my ($out, $err) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-j', '2', '-T', '60', '-f', $script,
	  '-h', $node->host, '-p', $node->port, 'postgres' ],
	'>', \$out, '2>', \$err);
$node->poll_query_until('postgres', "SELECT count(*) > $crash_at FROM items")
  or die 'inserts did not arrive';
$node->stop('immediate');
$bench->finish;
ok($err =~ /terminat|connection|server closed/i || $bench->result != 0, 'pgbench lost its server');

$node->start;
my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
cmp_ok($rows, '>', $crash_at, "committed rows survived ($rows)");
# the inserts in flight at the crash may have logged their index entries:
# their heap tuples are dead, and vacuum removes the entries
my $entries = $node->safe_psql('postgres', "SELECT value FROM vectorx_index_stats('items_v') WHERE stat = 'entries'");
cmp_ok($entries, '>=', $rows, "the index holds every committed row ($entries entries)");
cmp_ok($entries - $rows, '<=', 4, 'and at most one aborted insert per session more');
is(vx_ivfpq_check_ok($node, 'items_v'), 't|{}', 'the recovered index passes vectorx_ivfpq_check');
# (autovacuum may have removed the aborted inserts' entries meanwhile)
is($node->safe_psql('postgres', "SELECT (entries = heap_tids) || '|' || (entries >= $rows) FROM vectorx_ivfpq_check('items_v')"),
	'true|true', 'each of its heap TIDs in one entry, every committed row among them');
$node->safe_psql('postgres', 'VACUUM items');
is($node->safe_psql('postgres', "SELECT value FROM vectorx_index_stats('items_v') WHERE stat = 'entries'"),
	$rows, 'after VACUUM the index holds exactly the committed rows');
is($node->safe_psql('postgres', "SELECT ok || '|' || heap_tids || '|' || problems::text FROM vectorx_ivfpq_check('items_v')"),
	"true|$rows|{}", 'and passes vectorx_ivfpq_check with one entry per row');

my $self_misses = qq{
	SET enable_seqscan = off;
	SET ivfpq.probes = 1000;
	SET ivfpq.rerank = 100000;
	SELECT count(*) FROM items t
	WHERE @{[vx_sample('t.id')]} AND (SELECT t2.v <-> t.v FROM items t2 ORDER BY t2.v <-> t.v LIMIT 1) IS DISTINCT FROM 0;
};
is($node->safe_psql('postgres', $self_misses), '0', 'every committed row is found by an exact self-query');

# the index keeps working: inserts, deletes, vacuum
$node->safe_psql('postgres', qq{
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, $more) g;
	DELETE FROM items WHERE id % 4 = 0;
	VACUUM items;
});
$rows = $node->safe_psql('postgres', 'SELECT count(*) FROM items');
is($node->safe_psql('postgres', "SELECT value FROM vectorx_index_stats('items_v') WHERE stat = 'entries'"),
	$rows, 'after more inserts, deletes and vacuum the index holds exactly the rows');
is($node->safe_psql('postgres', $self_misses), '0', 'every row is still found');
is($node->safe_psql('postgres', "SELECT ok || '|' || entries || '|' || heap_tids || '|' || problems::text FROM vectorx_ivfpq_check('items_v')"),
	"true|$rows|$rows|{}", 'and the index passes vectorx_ivfpq_check');

$node->stop;
done_testing();

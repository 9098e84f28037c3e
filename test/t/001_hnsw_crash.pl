# Crash recovery: an immediate stop while several sessions insert into an
# HNSW index; after restart the index passes vectorx_hnsw_check, holds
# every committed row (and, until VACUUM, at most one aborted insert per
# session), and every committed row is found by an exact self-query.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_node('crash');
my $vec = vx_rand_vec_sql(16);
my $rowvec = vx_rand_vec_sql(16, 'g');
my ($initial, $crash_at, $more) = (vx_n(2000, 400), vx_n(6000, 1000), vx_n(500, 100));
$node->safe_psql('postgres', qq{
	CREATE TABLE items (id bigserial PRIMARY KEY, v vector(16));
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, $initial) g;
	CREATE INDEX items_v ON items USING hnsw (v) WITH (m = 16, ef_construction = 64);
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
is(vx_check_ok_after_crash($node, 'items_v'), 't|{}', 'index passes vectorx_hnsw_check after recovery (cut-offs and cut-short inserts aside until VACUUM)');
# the inserts in flight at the crash may have logged their index entries:
# their heap tuples are dead, and vacuum removes the entries
my $tids = $node->safe_psql('postgres', "SELECT heap_tids FROM vectorx_hnsw_check('items_v')");
cmp_ok($tids, '>=', $rows, "the index holds every committed row ($tids TIDs)");
cmp_ok($tids - $rows, '<=', 4, 'and at most one aborted insert per session more');

# an element whose insert was cut short is unreachable but harmless;
# vacuum also reconnects elements pruning cut off
note('before vacuum: unreachable ' .
	$node->safe_psql('postgres', "SELECT unreachable FROM vectorx_hnsw_check('items_v')") .
	', self-query misses ' . vx_self_query_misses($node, 'items'));
# INDEX_CLEANUP ON: the few dead rows of the cut-short inserts lie on one
# or two heap pages, under the 2% of pages below which VACUUM leaves the
# indexes alone (vacuumlazy.c, BYPASS_THRESHOLD_PAGES)
$node->safe_psql('postgres', 'VACUUM (INDEX_CLEANUP ON) items');
note('after vacuum: unreachable ' .
	$node->safe_psql('postgres', "SELECT unreachable FROM vectorx_hnsw_check('items_v')"));
is($node->safe_psql('postgres', "SELECT heap_tids FROM vectorx_hnsw_check('items_v')"),
	$rows, 'after VACUUM the index holds exactly the committed rows');
is(vx_self_query_misses($node, 'items'), '0', 'every committed row is found by an exact self-query');
is(vx_check_ok($node, 'items_v'), 't|{}', 'index still passes after vacuum');

# the index keeps working: inserts, deletes, vacuum
$node->safe_psql('postgres', qq{
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, $more) g;
	DELETE FROM items WHERE id % 4 = 0;
	VACUUM items;
});
is(vx_check_ok($node, 'items_v'), 't|{}', 'index passes after more inserts, deletes and vacuum');
is(vx_self_query_misses($node, 'items'), '0', 'every row is still found');

# A crash between an extension of the index and the WAL record that
# initialises the new page leaves an all-zero block past the element
# stream (PostgreSQL writes the block to the file at once).  The stream's
# next growth must initialise such blocks, not write records into them as
# if they were ours: that crashed the server (GenericXLogFinish computed
# the page's free space from pd_upper 0 and ran past the buffer), found by
# the crash loop (061).  Two zero blocks here, as if two extensions were lost.
my $path = $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('items_v')");
$node->safe_psql('postgres', 'CHECKPOINT');
$node->stop;
my $blocks = (-s $path) / 8192;
open(my $fh, '>>', $path) or die "open $path: $!";
binmode $fh;
print $fh "\0" x (2 * 8192);
close $fh;
$node->start;
is(vx_check_ok($node, 'items_v'), 't|{}', 'zero blocks past the stream: the index passes its check');
# more rows than the slots VACUUM freed above (about 40 elements a page):
# the stream grows through both blocks and beyond
my ($ret, $o, $e) = $node->psql('postgres', "INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, 2000) g");
is($ret, 0, 'inserts write into the zero blocks without error') or diag($e);
ok($node->poll_query_until('postgres', 'SELECT true'), 'the server is up');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend died');
cmp_ok((-s $path) / 8192, '>', $blocks + 2, 'the stream grew past the zero blocks');
is(vx_check_ok($node, 'items_v'), 't|{}', 'the index passes its check after growing through them');
is(vx_self_query_misses($node, 'items'), '0', 'every row is found, the new ones too');

$node->stop;
done_testing();

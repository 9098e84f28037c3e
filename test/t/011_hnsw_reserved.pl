# Records an insert reserved but never published (hnsw.h, W2): the state an
# insert leaves when the server crashes between reserving a free element and
# publishing it.  That window has no wait to stop in, so the test writes the
# state itself, with the server stopped: the head of the free element list
# becomes RESERVED by a finished transaction and leaves the list, exactly
# what the allocation's WAL record does.  vectorx_hnsw_check must report it
# (I7), VACUUM must put it back on the free list (V4), and inserts must
# reuse it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_node('reserved');
my $vec = vx_rand_vec_sql(8, 'g');
$node->safe_psql('postgres', qq{
	CREATE TABLE r (id int PRIMARY KEY, v vector(8));
	INSERT INTO r SELECT g, $vec FROM generate_series(1, 300) g;
	CREATE INDEX r_v ON r USING hnsw (v) WITH (m = 4);
	DELETE FROM r WHERE id <= 30;
	VACUUM r;
});
my $free = $node->safe_psql('postgres', "SELECT free FROM vectorx_hnsw_check('r_v')");
cmp_ok($free, '>', 0, "vacuum left free elements ($free)");
my $xid = $node->safe_psql('postgres', 'SELECT txid_current()');
my $path = $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('r_v')");
$node->safe_psql('postgres', 'CHECKPOINT');
$node->stop;

# page layout (hnsw.h): data at MAXALIGN(page header) = 24; meta page's
# free_elements at 40 of its struct; record id * 16 is its stream offset,
# HNSW_DATA_SIZE = 8192 - 24 - 8 bytes of stream per page from block 1
my ($blcksz, $data_off, $data_size) = (8192, 24, 8192 - 24 - 8);
open(my $fh, '+<:raw', $path) or die "open $path: $!";
sub rd { my ($pos, $len) = @_; my $b; sysseek($fh, $pos, 0); sysread($fh, $b, $len) == $len or die; return $b; }
sub wr { my ($pos, $b) = @_; sysseek($fh, $pos, 0); syswrite($fh, $b) == length($b) or die; }
my $meta_free = $data_off + 40;
my $id = unpack('V', rd($meta_free, 4));
my $off = $id * 16;
my $pos = (1 + int($off / $data_size)) * $blcksz + $data_off + ($off % $data_size);
my ($kind, $level, $flags) = unpack('CCC', rd($pos, 3));
is("$kind/$flags", '1/2', "the free list's head $id is a FREE element");
my $next = unpack('V', rd($pos + 4, 4));
wr($meta_free, pack('V', $next));
wr($pos + 2, pack('C', 4));			# HNSW_RESERVED
wr($pos + 4, pack('V', $xid));		# reserved by a transaction that committed
close($fh);
$node->start;

is($node->safe_psql('postgres', "SELECT reserved, ok, free FROM vectorx_hnsw_check('r_v')"),
	'1|f|' . ($free - 1), 'the check reports the abandoned reservation as a problem');
like($node->safe_psql('postgres', "SELECT problems::text FROM vectorx_hnsw_check('r_v')"),
	qr/I7: element $id is reserved by transaction $xid, which is no longer running/, 'naming it');

# a VACUUM with something to delete runs V4
$node->safe_psql('postgres', 'DELETE FROM r WHERE id = 100; VACUUM r;');
is($node->safe_psql('postgres', "SELECT reserved, ok, problems FROM vectorx_hnsw_check('r_v')"),
	'0|t|{}', 'VACUUM reclaimed it');
cmp_ok($node->safe_psql('postgres', "SELECT free FROM vectorx_hnsw_check('r_v')"), '>=', $free,
	'it is back on the free list');
is($node->safe_psql('postgres', "SELECT count(*) FROM vectorx_hnsw_elements('r_v') WHERE element = $id AND state = 'free'"),
	'1', 'as a free element');

# inserts reuse the free space, the reclaimed element included
$node->safe_psql('postgres', "INSERT INTO r SELECT g, $vec FROM generate_series(1001, 1100) g");
is($node->safe_psql('postgres', "SELECT state FROM vectorx_hnsw_elements('r_v') WHERE element = $id LIMIT 1"),
	'live', 'an insert reused it');
is(vx_check_ok($node, 'r_v'), 't|{}', 'and the index passes vectorx_hnsw_check');
is(vx_self_query_misses($node, 'r'), '0', 'every row is found by an exact self-query');

$node->stop;
done_testing();

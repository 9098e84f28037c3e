# A parallel build whose arena fills up: the participants spill the rest to
# shared temporary files and the leader inserts them on disk afterwards.
# The arena is sized from the table's row estimate, so a table that grew
# since its last ANALYZE overflows it without gigabytes of test data.
# Checks: the build was parallel and says it continued on disk, nothing
# leaked (temporary files, warnings), every row is in the index and
# findable, and the structure is valid.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_node('spill', conf => "max_parallel_maintenance_workers = 1\n"
	  . "maintenance_work_mem = 64MB\nmax_worker_processes = 8\n");
my $vec = vx_rand_vec_sql(16, 'g');
my ($analyzed, $rows) = (vx_n(3000, 600), vx_n(20000, 4000));
$node->safe_psql('postgres', qq{
	CREATE TABLE sp (id int PRIMARY KEY, v vector(16)) WITH (parallel_workers = 1);
	INSERT INTO sp SELECT g, $vec FROM generate_series(1, $analyzed) g;
	ANALYZE sp;
	INSERT INTO sp SELECT g, $vec FROM generate_series($analyzed + 1, $rows) g;
});

my ($ret, $out, $err) = $node->psql('postgres', q{
	SET client_min_messages = debug1;
	CREATE INDEX sp_v ON sp USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64);
});
is($ret, 0, 'index built');
like($err, qr/hnsw build: parallel, 1 workers and the leader/, 'the build ran in parallel');
like($err, qr/no longer fits in maintenance_work_mem/, 'it announced the on-disk continuation');
unlike($err, qr/WARNING/, 'no warning (no temporary file leak)');
unlike(slurp_file($node->logfile), qr/temporary file leak/, 'no temporary file leak in the server log');

# the build reconnects what the on-disk inserts cut off, as it does for the arena
is($node->safe_psql('postgres', q{SELECT ok, heap_tids, unreachable, problems FROM vectorx_hnsw_check('sp_v')}),
	"t|$rows|0|{}", 'every row is in the index, all reachable, and it passes vectorx_hnsw_check');
is(vx_self_query_misses($node, 'sp'), '0',
	'rows from the arena and from the spill files find themselves');

# the same for a bit column (hnsw.h, VECTORS: the spill files carry the
# packed bits, not floats)
my $bits = q{(('x' || md5(g::text))::bit(128)::text || ('x' || md5((g * 7)::text))::bit(128)::text)::bit(256)};
$node->safe_psql('postgres', qq{
	CREATE TABLE spb (id int PRIMARY KEY, v bit(256)) WITH (parallel_workers = 1);
	INSERT INTO spb SELECT g, $bits FROM generate_series(1, $analyzed) g;
	ANALYZE spb;
	INSERT INTO spb SELECT g, $bits FROM generate_series($analyzed + 1, $rows) g;
});
($ret, $out, $err) = $node->psql('postgres', q{
	SET client_min_messages = debug1;
	CREATE INDEX spb_v ON spb USING hnsw (v bit_hamming_ops) WITH (m = 16, ef_construction = 64);
});
is($ret, 0, 'bit index built');
like($err, qr/hnsw build: parallel, 1 workers and the leader/, 'the bit build ran in parallel');
like($err, qr/no longer fits in maintenance_work_mem/, 'and continued on disk');
is($node->safe_psql('postgres', q{SELECT ok, heap_tids, unreachable, problems FROM vectorx_hnsw_check('spb_v')}),
	"t|$rows|0|{}", 'every bit row is in the index, all reachable');
is($node->safe_psql('postgres', qq{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 400;
	SELECT count(*) FROM spb t
	WHERE @{[vx_sample('t.id')]} AND (SELECT t2.v <~> t.v FROM spb t2 ORDER BY t2.v <~> t.v LIMIT 1) IS DISTINCT FROM 0;
}), '0', 'bit rows from the arena and from the spill files find themselves');

$node->stop;
done_testing();

# IVF-PQ recall on real data: 10000 Fashion-MNIST images (Debian's
# dataset-fashion-mnist) and 100 test images as queries, with the exact
# re-rank on; a narrow setting without re-rank must do worse (the re-rank
# is what makes PQ codes reach high recall).  Also checks the build's
# progress phases in pg_stat_progress_create_index and the index size.
# The data files are prepared by scripts/vx-test in $ENV{VX_TAP_DATA}.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_fashion_node('ivffashion', conf => "maintenance_work_mem = 256MB\nshared_buffers = 256MB\n");

my ($ret, $out, $err, $perr) = vx_build_with_progress($node,
	'CREATE INDEX items_v ON items USING ivfpq (v vector_l2_ops) WITH (lists = 40, m = 56)');
is($ret, 0, 'index built');
like($perr, qr/phases:.*building index: training centroids/, 'progress shows training');
like($perr, qr/phases:.*building index: assigning and encoding rows/, 'progress shows assignment and encoding');
like($perr, qr/phases:.*counted/, 'progress counts tuples');

# 56 bytes of code and a 6-byte TID per vector, plus centroids and
# codebooks (925 KB, a fixed cost that 60000 rows share 6 times better)
my $bytes = $node->safe_psql('postgres', "SELECT value FROM vectorx_index_stats('items_v') WHERE stat = 'bytes_per_vector'");
# (light mode, 2000 rows: the fixed cost is 460 bytes a row, so 1/4)
my $share = vx_n(10, 4);
cmp_ok($bytes, '<', 3136 / $share, "index bytes per vector below 1/$share of the raw vector ($bytes)");

my $recall = vx_recall_at_10($node, 'SET ivfpq.probes = 8; SET ivfpq.rerank = 100;');
note("recall\@10 at probes 8, rerank 100: $recall");
cmp_ok($recall, '>=', 0.95, "recall\@10 with re-rank >= 0.95 (got $recall)");
# no re-rank at all: PQ order, which only relaxed order asks for
my $pq_only = vx_recall_at_10($node, 'SET ivfpq.probes = 8; SET ivfpq.rerank = 0; SET ivfpq.iterative_scan = relaxed_order;');
note("recall\@10 at probes 8 without re-rank: $pq_only");
cmp_ok($pq_only, '<', $recall, "PQ order alone recalls less ($pq_only)");

my $plan = $node->safe_psql('postgres',
	'EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> (SELECT v FROM queries WHERE id = 1) LIMIT 10');
like($plan, qr/Index Scan using items_v on items/, 'the planner uses the index for ORDER BY ... LIMIT');

$node->stop;
done_testing();

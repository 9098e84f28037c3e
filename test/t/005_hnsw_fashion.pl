# Recall on real data: 10000 Fashion-MNIST images (Debian's
# dataset-fashion-mnist) and 100 test images as queries.  Also checks that
# a table this size gets a parallel build (the DEBUG1 line) and that the
# build reports its phases in pg_stat_progress_create_index.
# The data files are prepared by scripts/vx-test in $ENV{VX_TAP_DATA}.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_fashion_node('fashion', conf => "max_parallel_maintenance_workers = 1\n"
	  . "maintenance_work_mem = 256MB\nshared_buffers = 256MB\nmax_worker_processes = 8\n");
my $n = vx_n(10000, 2000);
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), $n, "loaded $n images");

# a second session records the build's progress phases while it runs
my ($ret, $out, $err, $perr) = vx_build_with_progress($node, q{
	SET client_min_messages = debug1;
	CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 200);
});
is($ret, 0, 'index built');
like($err, qr/hnsw build: parallel, 1 workers and the leader/, 'the build ran in parallel');
like($perr, qr/phases:.*building index: loading tuples/, 'progress shows the loading phase');
like($perr, qr/phases:.*counted/, 'progress counts tuples');
is(vx_check_ok($node, 'items_v'), 't|{}', 'index passes vectorx_hnsw_check');

my $recall = vx_recall_at_10($node, 'SET hnsw.ef_search = 40;');
note("recall\@10 at ef_search 40: $recall");
cmp_ok($recall, '>=', 0.95, "recall\@10 >= 0.95 (got $recall)");

my $plan = $node->safe_psql('postgres',
	'EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> (SELECT v FROM queries WHERE id = 1) LIMIT 10');
like($plan, qr/Index Scan using items_v on items/, 'the planner uses the index for ORDER BY ... LIMIT');

# inserts into a built index keep every element reachable (hnsw.h I6):
# build on half the images, insert the other half, in L2 and in inner
# product (pixel vectors all in one orthant, where the inner product's
# pruning drops the vectors of small norm from every list).  Without the
# relink of the elements that back-links cut off (hnsw.insert_relink off,
# below), 4 (L2) and 940 (ip) of 2000 elements were unreachable, and 28
# and 6453 of 10000.
for my $relink ('on', 'off')
{
	my %unreachable;
	for my $ops ('vector_l2_ops', 'vector_ip_ops')
	{
		my $t = "half_" . ($ops =~ /ip/ ? 'ip' : 'l2') . "_$relink";
		$unreachable{$ops} = $node->safe_psql('postgres', qq{
			SET hnsw.insert_relink = $relink;
			CREATE TABLE $t (id int, v vector(784));
			INSERT INTO $t SELECT id, v FROM items WHERE id % 2 = 0;
			CREATE INDEX ${t}_v ON $t USING hnsw (v $ops) WITH (m = 16, ef_construction = 64);
			INSERT INTO $t SELECT id, v FROM items WHERE id % 2 = 1;
			SELECT unreachable FROM vectorx_hnsw_check('${t}_v');
		});
		note("$ops, relink $relink: $unreachable{$ops} unreachable after inserting half");
	}
	if ($relink eq 'on')
	{
		is($unreachable{vector_l2_ops}, 0, 'L2: inserts leave every element reachable');
		is($unreachable{vector_ip_ops}, 0, 'inner product: inserts leave every element reachable');
	}
	else
	{
		cmp_ok($unreachable{vector_ip_ops}, '>', 0,
			'inner product without the relink: inserts cut elements off (the check can fail)');
	}
}

$node->stop;
done_testing();

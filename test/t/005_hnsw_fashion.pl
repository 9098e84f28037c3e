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

my $data = $ENV{VX_TAP_DATA} // '';
BAIL_OUT("Fashion-MNIST extracts missing in '$data': run through scripts/vx-test "
	  . "(needs Debian's dataset-fashion-mnist)")
  unless -f "$data/fashion_train.tsv" && -f "$data/fashion_test.tsv";

my $node = vx_node('fashion', conf => "max_parallel_maintenance_workers = 1\n"
	  . "maintenance_work_mem = 256MB\nshared_buffers = 256MB\nmax_worker_processes = 8\n");
$node->safe_psql('postgres', qq{
	CREATE TABLE items (id int PRIMARY KEY, label int, v vector(784));
	CREATE TABLE queries (id int PRIMARY KEY, label int, v vector(784));
	COPY items FROM '$data/fashion_train.tsv';
	COPY queries FROM '$data/fashion_test.tsv';
	VACUUM ANALYZE items;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '10000', 'loaded 10000 images');

# a poller records the build's progress phases while the build runs
my $poll = q{
	DO $$
	DECLARE seen text[] := '{}'; p record;
	BEGIN
	  FOR i IN 1..4000 LOOP
	    FOR p IN SELECT phase, tuples_done FROM pg_stat_progress_create_index LOOP
	      IF NOT p.phase = ANY (seen) THEN seen := seen || p.phase; END IF;
	      IF p.tuples_done > 0 AND NOT 'counted' = ANY (seen) THEN seen := seen || 'counted'::text; END IF;
	    END LOOP;
	    EXIT WHEN cardinality(seen) > 0 AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index);
	    PERFORM pg_sleep(0.002);
	    PERFORM pg_stat_clear_snapshot();  -- backend status is cached per transaction
	  END LOOP;
	  RAISE NOTICE 'phases: %', array_to_string(seen, ';');
	END $$;
};
my ($pout, $perr) = ('', '');
my $poller = IPC::Run::start([ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', 'postgres', '-c', $poll ],
	'>', \$pout, '2>', \$perr);
sleep 1;
my ($ret, $out, $err) = $node->psql('postgres', q{
	SET client_min_messages = debug1;
	CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 200);
});
$poller->finish;
is($ret, 0, 'index built');
like($err, qr/hnsw build: parallel, 1 workers and the leader/, 'the build ran in parallel');
like($perr, qr/phases:.*building index: loading tuples/, 'progress shows the loading phase');
like($perr, qr/phases:.*counted/, 'progress counts tuples');
is(vx_check_ok($node, 'items_v'), 't|{}', 'index passes vectorx_hnsw_check');

# recall@10 against an exact scan; a result that ties the 10th exact
# distance counts (integer pixels make ties)
my $recall = $node->safe_psql('postgres', q{
	SET hnsw.ef_search = 40;
	WITH exact AS (
		SELECT q.id AS qid, (SELECT max(d) FROM (
			SELECT i.v <-> q.v AS d FROM items i ORDER BY 1 LIMIT 10) s) AS kth
		FROM queries q),
	approx AS (
		SELECT q.id AS qid, i.v <-> q.v AS d
		FROM queries q, LATERAL (SELECT v FROM items ORDER BY v <-> q.v LIMIT 10) i)
	SELECT round(count(*) FILTER (WHERE a.d <= e.kth + 1e-6)::numeric / (10 * (SELECT count(*) FROM queries)), 4)
	FROM approx a JOIN exact e USING (qid);
}, extra_params => []);
note("recall\@10 at ef_search 40: $recall");
cmp_ok($recall, '>=', 0.95, "recall\@10 >= 0.95 (got $recall)");

my $plan = $node->safe_psql('postgres',
	'EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> (SELECT v FROM queries WHERE id = 1) LIMIT 10');
like($plan, qr/Index Scan using items_v on items/, 'the planner uses the index for ORDER BY ... LIMIT');

$node->stop;
done_testing();

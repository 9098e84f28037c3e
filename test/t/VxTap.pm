# test/t/VxTap.pm: helpers shared by vectorx's TAP tests (PostgreSQL::Test).
package VxTap;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;

our @EXPORT = qw(vx_node vx_fashion_node vx_rand_vec_sql vx_self_query_misses vx_check_ok vx_check_ok_but_cutoffs vx_check_ok_after_crash vx_ivfpq_check_ok
  vx_build_with_progress vx_recall_at_10 vx_shard_nodes vx_light vx_n vx_sample);

# Light mode.  scripts/vx-memcheck tap sets VX_TAP_LIGHT: every server then
# runs under valgrind, 30 to 80 times slower, and what memcheck needs is
# every code path run, not the volume of data.  The tests then take the same
# steps on less data (vx_n gives each size and each threshold that follows
# from a size as a pair: full, light), and where they check every row
# against an exact self-query they check every tenth (vx_sample).  The
# thresholds that do not depend on size stay.  scripts/vx-test runs the full
# tests.
my $light = $ENV{VX_TAP_LIGHT} ? 1 : 0;

sub vx_light { return $light; }

# $full normally, $light_n in light mode
sub vx_n
{
	my ($full, $light_n) = @_;
	return $light ? $light_n : $full;
}

# an SQL condition on integer column $col: true normally, true for every
# tenth value in light mode
sub vx_sample
{
	my ($col) = @_;
	return $light ? "$col % 10 = 0" : 'true';
}

# A started node with the extension created in database postgres.
# Options: streaming => 1 (allows_streaming), conf => "extra lines".
sub vx_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => $opt{streaming} ? 1 : 0);
	# a streaming primary keeps WAL for standbys that start late or lag
	# (wal_consistency_checking writes a page image with every record)
	$node->append_conf('postgresql.conf',
		"shared_buffers = 128MB\nmax_connections = 40\n"
		  . ($opt{streaming} ? "wal_keep_size = 4GB\n" : '')
		  . ($opt{conf} // ''));
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION vectorx');
	return $node;
}

# vx_node with the Fashion-MNIST extracts scripts/vx-test prepares in
# $ENV{VX_TAP_DATA} loaded: items (10000 images) and queries (100 test
# images), each (id, label, v vector(784)); in light mode 2000 and 20, and
# items asks for one parallel worker (parallel_workers), which 2000 images
# are too few to be given.  Bails out without them.
sub vx_fashion_node
{
	my ($name, %opt) = @_;
	my $data = $ENV{VX_TAP_DATA} // '';
	Test::More::BAIL_OUT("Fashion-MNIST extracts missing in '$data': run through scripts/vx-test "
		  . "(needs Debian's dataset-fashion-mnist)")
	  unless -f "$data/fashion_train.tsv" && -f "$data/fashion_test.tsv";
	my $node = vx_node($name, %opt);
	$node->safe_psql('postgres', qq{
		CREATE TABLE items (id int PRIMARY KEY, label int, v vector(784));
		CREATE TABLE queries (id int PRIMARY KEY, label int, v vector(784));
		COPY items FROM '$data/fashion_train.tsv';
		COPY queries FROM '$data/fashion_test.tsv';
		VACUUM ANALYZE items;
	});
	$node->safe_psql('postgres', 'ALTER TABLE items SET (parallel_workers = 1)') if $light;
	return $node;
}

# SQL for a random vector of $dim dimensions; $row names a column of the
# outer query so that PostgreSQL draws a new vector per row (an
# uncorrelated subquery would be evaluated once)
sub vx_rand_vec_sql
{
	my ($dim, $row) = @_;
	my $corr = defined $row ? " WHERE $row IS NOT NULL" : '';
	return "(SELECT array_agg(random())::vector($dim) FROM generate_series(1, $dim)$corr)";
}

# rows of $table (with an integer column id; every tenth row in light mode)
# whose own vector, as an index query, does not come back at
# distance 0 (every committed row must be findable).  A wide beam keeps
# approximate search from being the limit: the question is whether every
# row is in the graph and reachable.
sub vx_self_query_misses
{
	my ($node, $table, $ef) = @_;
	$ef //= 400;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET hnsw.ef_search = $ef;
		SELECT count(*) FROM $table t
		WHERE @{[vx_sample('t.id')]} AND (SELECT t2.v <-> t.v FROM $table t2 ORDER BY t2.v <-> t.v LIMIT 1) IS DISTINCT FROM 0;
	});
}

# vectorx_hnsw_check's verdict and problems, as "t|{}" when all is well
sub vx_check_ok
{
	my ($node, $index, $db) = @_;
	return $node->safe_psql($db // 'postgres', "SELECT CASE WHEN ok THEN 't' ELSE 'f' END || '|' || problems::text FROM vectorx_hnsw_check('$index')");
}

# The same, for an index that took inserts since its last VACUUM: an insert
# can cut an element off when it prunes a neighbour's list (hnsw.h, I6),
# and VACUUM repairs that.  Every other problem still counts.
sub vx_check_ok_but_cutoffs
{
	my ($node, $index, $db) = @_;
	return $node->safe_psql($db // 'postgres', "SELECT CASE WHEN count(p) = 0 THEN 't' ELSE 'f' END || '|' || coalesce((array_agg(p) FILTER (WHERE p IS NOT NULL))::text, '{}') FROM vectorx_hnsw_check('$index') c LEFT JOIN LATERAL unnest(c.problems) p ON p NOT LIKE 'I6:%'");
}

# The same after a crash: an insert the crash cut short also leaves its
# element reserved by a transaction that is over (hnsw.h, W2 and I7), which
# VACUUM frees.  (A slow server, under valgrind, is stopped there often.)
sub vx_check_ok_after_crash
{
	my ($node, $index, $db) = @_;
	return $node->safe_psql($db // 'postgres', "SELECT CASE WHEN count(p) = 0 THEN 't' ELSE 'f' END || '|' || coalesce((array_agg(p) FILTER (WHERE p IS NOT NULL))::text, '{}') FROM vectorx_hnsw_check('$index') c LEFT JOIN LATERAL unnest(c.problems) p ON p NOT LIKE 'I6:%' AND p NOT LIKE 'I7:%reserved by transaction%which is no longer running'");
}

# vectorx_ivfpq_check's verdict and problems, as "t|{}" when all is well
sub vx_ivfpq_check_ok
{
	my ($node, $index, $db) = @_;
	return $node->safe_psql($db // 'postgres', "SELECT CASE WHEN ok THEN 't' ELSE 'f' END || '|' || problems::text FROM vectorx_ivfpq_check('$index')");
}

# Run $sql (an index build) in database postgres while a second session
# polls pg_stat_progress_create_index; returns ($ret, $stdout, $stderr) of
# the build and the poller's stderr, which says "phases: a;b;...;counted"
# (counted: some tuples_done > 0 was seen).  The poller gives up after
# 60000 polls (two minutes and more) times VX_TIME_SCALE: under valgrind a
# build's training alone outlasted the unscaled bound.
sub vx_build_with_progress
{
	my ($node, $sql) = @_;
	my $polls = 60000 * ($ENV{VX_TIME_SCALE} // 1);
	my $poll = qq{
		DO \$\$
		DECLARE seen text[] := '{}'; p record;
		BEGIN
		  FOR i IN 1..$polls LOOP
		    FOR p IN SELECT phase, tuples_done FROM pg_stat_progress_create_index LOOP
		      IF NOT p.phase = ANY (seen) THEN seen := seen || p.phase; END IF;
		      IF p.tuples_done > 0 AND NOT 'counted' = ANY (seen) THEN seen := seen || 'counted'::text; END IF;
		    END LOOP;
		    EXIT WHEN cardinality(seen) > 0 AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index);
		    PERFORM pg_sleep(0.002);
		    PERFORM pg_stat_clear_snapshot();  -- backend status is cached per transaction
		  END LOOP;
		  RAISE NOTICE 'phases: %', array_to_string(seen, ';');
		END \$\$;
	};
	my ($pout, $perr) = ('', '');
	my $poller = IPC::Run::start([ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', 'postgres', '-c', $poll ],
		'>', \$pout, '2>', \$perr);
	sleep 1;
	my ($ret, $out, $err) = $node->psql('postgres', $sql);
	$poller->finish;
	return ($ret, $out, $err, $perr);
}

# recall@10 of the index on items(v) (or on $table(v): a sharded copy of
# items) for every row of queries(id, v), against an exact scan of items
# (an ORDER BY expression no index matches); a result that ties the 10th
# exact distance counts (integer pixels make ties).  $settings: SET
# statements for the index scans.
sub vx_recall_at_10
{
	my ($node, $settings, $table) = @_;
	$settings //= '';
	$table //= 'items';
	return $node->safe_psql('postgres', qq{
		$settings
		WITH exact AS (
			SELECT q.id AS qid, (SELECT max(d) FROM (
				SELECT (i.v <-> q.v) + 0 AS d FROM items i ORDER BY 1 LIMIT 10) s) AS kth
			FROM queries q),
		approx AS (
			SELECT q.id AS qid, i.v <-> q.v AS d
			FROM queries q, LATERAL (SELECT v FROM $table ORDER BY v <-> q.v LIMIT 10) i)
		SELECT round(count(*) FILTER (WHERE a.d <= e.kth + 1e-6)::numeric / (10 * (SELECT count(*) FROM queries)), 4)
		FROM approx a JOIN exact e USING (qid);
	});
}

# A coordinator ("${prefix}coord": Fashion-MNIST loaded, vectorx preloaded
# in every session for the planner hook, postgres_fdw created) and three
# empty shard servers ("${prefix}shard0".."2") for the sharding tests.
sub vx_shard_nodes
{
	my ($prefix) = @_;
	my $coord = vx_fashion_node("${prefix}coord",
		conf => "jit = off\nmaintenance_work_mem = 256MB\nsession_preload_libraries = 'vectorx'\n");
	my @shards = map { vx_node("${prefix}shard$_", conf => "maintenance_work_mem = 256MB\n") } 0 .. 2;
	$coord->safe_psql('postgres', 'CREATE EXTENSION postgres_fdw');
	return ($coord, @shards);
}

1;

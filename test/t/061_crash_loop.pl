# Crash loop: the primary stops at random moments (an immediate stop: every
# process quits at once, no checkpoint, crash recovery at the next start)
# while sessions insert, update, delete and vacuum, and while indexes are
# built (in memory, continued on disk, parallel) or rebuilt with REINDEX
# CONCURRENTLY, for both access methods.  After each restart:
#   - every index is valid (an interrupted REINDEX CONCURRENTLY leaves an
#     invalid copy, which is dropped as a DBA would) and passes its
#     structural check (vectorx_hnsw_check, cut-offs of HNSW inserts and
#     the reservations of inserts the stop cut short aside until VACUUM,
#     hnsw.h I6 and I7; vectorx_ivfpq_check), and holds at least
#     every committed row;
#   - after a VACUUM (which repairs what inserts' pruning cut off, hnsw.h
#     I6, and removes the entries of inserts cut short), each index holds
#     exactly the rows, the HNSW graph is whole, and every committed row is
#     found by an index scan of its own vector (every tenth in light mode:
#     VxTap.pm);
#   - a streaming standby catches up and answers k-NN queries as the
#     primary does.
# The first cycles take each scenario once, the rest draw them at random.
# Cycles and seed: VX_CRASH_CYCLES (7 by default, one per scenario; the
# long run sets more) and VX_CRASH_SEED (printed, so that a failing loop
# can be run again).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use IPC::Run;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $cycles = $ENV{VX_CRASH_CYCLES} // 7;
my $seed = $ENV{VX_CRASH_SEED} // 20261202;
srand($seed);
note("crash loop: $cycles cycles, seed $seed (VX_CRASH_SEED)");

my $primary = vx_node('loop_primary', streaming => 1,
	conf => "max_worker_processes = 8\nmax_parallel_maintenance_workers = 1\n"
	  . "maintenance_work_mem = 64MB\nautovacuum = off\n");
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('loop_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

my $rows = vx_n(2000, 400);
my $v = vx_rand_vec_sql(16);
my $vg = vx_rand_vec_sql(16, 'g');
$primary->safe_psql('postgres', qq{
	SELECT setseed(0.5);
	CREATE TABLE ch (id bigserial PRIMARY KEY, v vector(16)) WITH (parallel_workers = 1);
	INSERT INTO ch (v) SELECT $vg FROM generate_series(1, $rows) g;
	CREATE INDEX ch_v ON ch USING hnsw (v) WITH (m = 8, ef_construction = 32);
	CREATE TABLE ci (id bigserial PRIMARY KEY, v vector(16)) WITH (parallel_workers = 1);
	INSERT INTO ci (v) SELECT $vg FROM generate_series(1, $rows) g;
	CREATE INDEX ci_v ON ci USING ivfpq (v) WITH (lists = 8, m = 4);
	ANALYZE;
});

# what a cycle runs until the stop; each returns the statements of a script
# that pgbench repeats in 2 sessions, or a list of statements one psql runs
my %dml = (
	insert => [ "INSERT INTO ch (v) SELECT $v;\nINSERT INTO ci (v) SELECT $v;\n" ],
	update => [ "UPDATE ch SET v = $v WHERE id = (SELECT (random() * max(id))::bigint FROM ch);\n"
		  . "UPDATE ci SET v = $v WHERE id = (SELECT (random() * max(id))::bigint FROM ci);\n" ],
	delete_vacuum => [ "DELETE FROM ch WHERE id = (SELECT (random() * max(id))::bigint FROM ch);\n"
		  . "DELETE FROM ci WHERE id = (SELECT (random() * max(id))::bigint FROM ci);\n",
		"VACUUM ch;\nVACUUM ci;\n" ],
);
# each statement of a build runs in its own transaction (REINDEX
# CONCURRENTLY cannot run in a transaction block), in one session
my %ddl = (
	build_memory => [ 'SET max_parallel_maintenance_workers = 0',
		'CREATE INDEX ch_b ON ch USING hnsw (v vector_cosine_ops)',
		'CREATE INDEX ci_b ON ci USING ivfpq (v vector_cosine_ops) WITH (lists = 8, m = 4)' ],
	# the arena is sized for what ANALYZE saw: a fresh table analyzed small
	build_spill => [ 'DROP TABLE IF EXISTS cs', 'CREATE TABLE cs AS SELECT * FROM ch LIMIT 100', 'ANALYZE cs',
		'INSERT INTO cs SELECT * FROM ch', 'SET max_parallel_maintenance_workers = 0',
		'CREATE INDEX cs_b ON cs USING hnsw (v)' ],
	build_parallel => [ 'CREATE INDEX ch_b ON ch USING hnsw (v vector_l1_ops)',
		'CREATE INDEX ci_b ON ci USING ivfpq (v vector_l2_ops) WITH (lists = 8, m = 4)' ],
	reindex => [ 'REINDEX INDEX CONCURRENTLY ch_v', 'REINDEX INDEX CONCURRENTLY ci_v' ],
);
my @scenarios = ((sort keys %dml), (sort keys %ddl));

my $knn = q{
	SET enable_seqscan = off; SET hnsw.ef_search = 100; SET ivfpq.probes = 8; SET ivfpq.rerank = 1000;
	SELECT string_agg(r, ';' ORDER BY q.id) FROM (SELECT id, v FROM ch WHERE id % 97 = 1) q,
	LATERAL (SELECT (SELECT string_agg(id::text, ',') FROM (SELECT id FROM ch ORDER BY v <-> q.v LIMIT 5) a) || '/'
	             || (SELECT string_agg(id::text, ',') FROM (SELECT id FROM ci ORDER BY v <-> q.v LIMIT 5) b) AS r) s;
};
my $ivf_self_misses = qq{
	SET enable_seqscan = off; SET ivfpq.probes = 1000; SET ivfpq.rerank = 100000;
	SELECT count(*) FROM ci t WHERE @{[vx_sample('t.id')]}
	AND (SELECT t2.v <-> t.v FROM ci t2 ORDER BY t2.v <-> t.v LIMIT 1) IS DISTINCT FROM 0;
};

my (%ran, %cut);
for my $cycle (1 .. $cycles)
{
	my $scenario = $cycle <= @scenarios ? $scenarios[ $cycle - 1 ] : $scenarios[ int(rand(@scenarios)) ];
	# builds of these tables take a fraction of a second: stop them sooner
	my $delay = $dml{$scenario} ? 0.2 + rand(1.5) : 0.02 + rand(0.4);
	$ran{$scenario}++;
	my @h;
	my ($out, $err) = ('', '');
	if ($dml{$scenario})
	{
		for my $script (@{ $dml{$scenario} })
		{
			my $file = $primary->basedir . "/cycle$cycle-" . scalar(@h) . '.sql';
			append_to_file($file, $script);
			push @h, IPC::Run::start(
				[ 'pgbench', '-n', '-c', '2', '-j', '2', '-T', '60', '-f', $file,
				  '-h', $primary->host, '-p', $primary->port, 'postgres' ],
				'>', \$out, '2>', \$err);
		}
	}
	else
	{
		push @h, IPC::Run::start(
			[ 'psql', '-X', '-h', $primary->host, '-p', $primary->port, '-d', 'postgres',
			  map { ('-c', $_) } ('DROP INDEX IF EXISTS ch_b, ci_b', @{ $ddl{$scenario} }) ],
			'>', \$out, '2>', \$err);
	}
	usleep(int($delay * 1e6));
	$primary->stop('immediate');
	$_->finish for @h;
	# the stop cut the statements short (DDL can finish before it)
	$cut{$scenario}++ if $err =~ /terminat|server closed|connection/i;
	$primary->start;

	my $tag = "cycle $cycle ($scenario after ${\ sprintf('%.2f', $delay)} s)";
	# an interrupted REINDEX CONCURRENTLY leaves invalid copies behind
	$primary->safe_psql('postgres', q{
		DO $$ DECLARE i regclass; BEGIN
		  FOR i IN SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid LOOP
		    EXECUTE format('DROP INDEX %s', i);
		  END LOOP; END $$;});
	my $problems = '';
	for my $idx (split /\n/, $primary->safe_psql('postgres', q{
		SELECT c.relname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'hnsw' ORDER BY 1}))
	{
		my $r = vx_check_ok_after_crash($primary, $idx);
		$problems .= " $idx: $r" if $r ne 't|{}';
	}
	is($problems, '', "$tag: every HNSW index passes vectorx_hnsw_check");
	$problems = '';
	for my $idx (split /\n/, $primary->safe_psql('postgres', q{
		SELECT c.relname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'ivfpq' ORDER BY 1}))
	{
		my $r = $primary->safe_psql('postgres', "SELECT ok || '|' || problems::text FROM vectorx_ivfpq_check('$idx')");
		$problems .= " $idx: $r" if $r ne 'true|{}';
	}
	is($problems, '', "$tag: every IVF-PQ index passes vectorx_ivfpq_check");
	my ($crows, $irows) = split /\|/, $primary->safe_psql('postgres',
		'SELECT (SELECT count(*) FROM ch), (SELECT count(*) FROM ci)');
	my $tids = $primary->safe_psql('postgres', "SELECT heap_tids FROM vectorx_hnsw_check('ch_v')");
	cmp_ok($tids, '>=', $crows, "$tag: the HNSW index holds every committed row ($tids TIDs, $crows rows)");
	my $entries = $primary->safe_psql('postgres',
		"SELECT value FROM vectorx_index_stats('ci_v') WHERE stat = 'entries'");
	cmp_ok($entries, '>=', $irows, "$tag: the IVF-PQ index holds every committed row ($entries entries, $irows rows)");

	# an insert's pruning can leave an element unreachable until VACUUM
	# repairs it (hnsw.h I6), and the inserts cut short by the stop leave
	# entries of dead rows: after VACUUM the indexes hold exactly the rows,
	# whole, and every row finds itself
	#
	# INDEX_CLEANUP ON: by default VACUUM leaves the indexes alone when
	# fewer than 2% of the table's pages hold dead rows (PostgreSQL's
	# bypass, vacuumlazy.c BYPASS_THRESHOLD_PAGES), which one deleted row
	# is once the table passes 50 pages; its entries then stay, rightly.
	# And VACUUM leaves a dead row behind when it cannot take a heap page's
	# cleanup lock at once (another process, the background writer say,
	# holds a pin: VACUUM VERBOSE says "tuples missed: 1 dead from 1 pages
	# not removed due to cleanup lock contention").  So VACUUM again, at
	# most three times, while an index holds more than the rows: an entry
	# that no VACUUM removes still fails below.
	my $excess = q{
		SELECT (SELECT heap_tids FROM vectorx_hnsw_check('ch_v')) - (SELECT count(*) FROM ch) > 0
		    OR (SELECT entries FROM vectorx_ivfpq_check('ci_v')) - (SELECT count(*) FROM ci) > 0};
	for my $try (1 .. 3)
	{
		my ($ret, $out, $err) = $primary->psql('postgres',
			'VACUUM (INDEX_CLEANUP ON, VERBOSE) ch; VACUUM (INDEX_CLEANUP ON, VERBOSE) ci;');
		last if $primary->safe_psql('postgres', $excess) eq 'f';
		note("$tag: VACUUM $try left entries of dead rows:\n" . join("\n", grep { /tuples|missed|removed/ } split /\n/, $err));
	}
	is(vx_check_ok($primary, 'ch_v'), 't|{}', "$tag: after VACUUM the HNSW index is whole");
	is($primary->safe_psql('postgres', "SELECT heap_tids FROM vectorx_hnsw_check('ch_v')"),
		$primary->safe_psql('postgres', 'SELECT count(*) FROM ch'), "$tag: after VACUUM it holds exactly the rows");
	is($primary->safe_psql('postgres', "SELECT entries FROM vectorx_ivfpq_check('ci_v')"),
		$primary->safe_psql('postgres', 'SELECT count(*) FROM ci'), "$tag: after VACUUM the IVF-PQ index holds exactly the rows");
	is(vx_self_query_misses($primary, 'ch'), '0', "$tag: every committed row finds itself through HNSW");
	is($primary->safe_psql('postgres', $ivf_self_misses), '0', "$tag: every committed row finds itself through IVF-PQ");

	$primary->wait_for_catchup($standby);
	is($standby->safe_psql('postgres', $knn), $primary->safe_psql('postgres', $knn),
		"$tag: the standby caught up and answers alike");
}
note('scenarios run (of which cut short by the stop): '
	  . join(', ', map { "$_ $ran{$_} (" . ($cut{$_} // 0) . ')' } sort keys %ran));
unlike(slurp_file($standby->logfile), qr/PANIC|inconsistent page/, 'the standby never panicked');

$standby->stop;
$primary->stop;
done_testing();

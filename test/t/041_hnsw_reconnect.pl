# VACUUM's reconnect pass (hnsw.h, V2b): when it runs, and that it can be
# cancelled and throttled.
#
#  1. The trigger rule, under a live autovacuum: a few inserts and an
#     autovacuum do not run the pass (it reads the whole index); inserts
#     reaching a tenth of the table's rows do; a VACUUM run by hand after any
#     insert does; a VACUUM that deletes elements does.  Observed through
#     the pass's DEBUG1 line in the server log (the same words in every
#     version) and vectorx_index_stats' records_since_reconnect.
#  2. The pass honours vacuum_cost_delay and cancels: unthrottled it takes
#     milliseconds on this index; with a cost delay it outlasts a 2-second
#     statement_timeout, which cancels it inside the index cleanup, and
#     pg_cancel_backend stops it promptly while progress shows it cleaning
#     up the index.
#
# Under valgrind (scripts/vx-memcheck sets VX_TIME_SCALE, the factor by
# which servers run slower) the time limits and the throttling stretch by
# that factor, so the same comparisons hold; the pass itself is the same.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_node('reconnect',
	conf => "autovacuum_naptime = 1s\nlog_min_messages = debug1\nlog_autovacuum_min_duration = 0\n");
my $pass_re = qr/hnsw vacuum: \d+ live elements were unreachable at level 0 and were reconnected/;
my $vec = vx_rand_vec_sql(4, 'g');
my $scale = $ENV{VX_TIME_SCALE} // 1;
# vacuum_cost_delay for the cancelled VACUUMs: long enough that the pass
# outlasts the 2-second timeout (scaled), at most PostgreSQL's 100 ms
my $cancel_delay = sprintf('%dms', 10 * ($scale > 10 ? 10 : $scale));

# ---------------------------------------------------------------- 1. trigger
$node->safe_psql('postgres', qq{
	CREATE TABLE a (id int, v vector(4)) WITH (autovacuum_enabled = false,
		autovacuum_vacuum_insert_threshold = 1, autovacuum_vacuum_insert_scale_factor = 0,
		autovacuum_vacuum_threshold = 1, autovacuum_vacuum_scale_factor = 0);
	INSERT INTO a SELECT g, $vec FROM generate_series(1, 2000) g;
	CREATE INDEX a_v ON a USING hnsw (v) WITH (m = 4);
	VACUUM ANALYZE a;
});

sub since_reconnect
{
	return $node->safe_psql('postgres',
		"SELECT value FROM vectorx_index_stats('a_v') WHERE stat = 'records_since_reconnect'");
}

sub autovacuum_count
{
	return $node->safe_psql('postgres',
		"SELECT autovacuum_count FROM pg_stat_user_tables WHERE relname = 'a'");
}

# run $sql, wait for autovacuum to process table a, return the log it wrote
sub after_autovacuum
{
	my ($sql) = @_;
	my $count = autovacuum_count();
	my $off = -s $node->logfile;
	$node->safe_psql('postgres', $sql);
	ok($node->poll_query_until('postgres',
			"SELECT autovacuum_count > $count FROM pg_stat_user_tables WHERE relname = 'a'"),
		"autovacuum processed the table after: $sql");
	return slurp_file($node->logfile, $off);
}

is(since_reconnect(), '0', 'a fresh build needs no pass');
$node->safe_psql('postgres', 'ALTER TABLE a SET (autovacuum_enabled = true)');

my $log = after_autovacuum("INSERT INTO a SELECT g, $vec FROM generate_series(2001, 2005) g");
like($log, qr/automatic vacuum of table "postgres.public.a"/, 'the autovacuum ran on the table');
unlike($log, $pass_re, 'five inserts: autovacuum skips the reconnect pass');
cmp_ok(since_reconnect(), '>=', 5, 'the records stay counted for the next pass');

$log = after_autovacuum("INSERT INTO a SELECT g, $vec FROM generate_series(2006, 2305) g");
like($log, $pass_re, 'inserts beyond a tenth of the rows: autovacuum runs the pass');
is(since_reconnect(), '0', 'and the count starts again');

$node->safe_psql('postgres', 'ALTER TABLE a SET (autovacuum_enabled = false)');
my $off = -s $node->logfile;
$node->safe_psql('postgres', "INSERT INTO a SELECT g, $vec FROM generate_series(2306, 2307) g; VACUUM a;");
like(slurp_file($node->logfile, $off), $pass_re, 'two inserts: a VACUUM run by hand runs the pass');
is(since_reconnect(), '0', 'and the count starts again');

$node->safe_psql('postgres', 'ALTER TABLE a SET (autovacuum_enabled = true)');
$log = after_autovacuum('DELETE FROM a WHERE id <= 3');
like($log, $pass_re, 'deletions: autovacuum runs the pass');
is($node->safe_psql('postgres', "SELECT deleted, unreachable, ok FROM vectorx_hnsw_check('a_v')"),
	'0|0|t', 'the deleted elements were repaired around and the graph is whole');
$node->safe_psql('postgres', 'ALTER TABLE a SET (autovacuum_enabled = false)');

# ---------------------------------------------------------------- 2. cancel, throttle
# 40000 elements with m = 2: the pass reads every list (about 1100 pauses,
# one per 64 lists and one per page of the stream walk).  Twin tables, so
# that each VACUUM below finds a pass to run after one insert; the heap
# is all-visible, so VACUUM's heap phase reads one page.
$node->safe_psql('postgres', q{
	SELECT setseed(0.25);
	CREATE TABLE base AS SELECT g AS id, ARRAY[random(), random()]::vector(2) AS v
		FROM generate_series(1, 40000) g;
});
for my $t (qw(b c d e))
{
	$node->safe_psql('postgres', qq{
		CREATE TABLE $t (id int, v vector(2)) WITH (autovacuum_enabled = false);
		INSERT INTO $t SELECT * FROM base;
		CREATE INDEX ${t}_v ON $t USING hnsw (v) WITH (m = 2, ef_construction = 8);
		VACUUM $t;
		INSERT INTO $t VALUES (0, '[0.5,0.5]');
	});
}

# unthrottled: the pass is quick
my $t0 = time;
$off = -s $node->logfile;
$node->safe_psql('postgres', 'VACUUM b');
my $quick = time - $t0;
like(slurp_file($node->logfile, $off), $pass_re, 'an unthrottled VACUUM ran the pass');
cmp_ok($quick, '<', 1.5 * $scale, sprintf('in %.2f s', $quick));

# throttled: every pause sleeps at least vacuum_cost_delay
$t0 = time;
$off = -s $node->logfile;
$node->safe_psql('postgres', "SET vacuum_cost_delay = '5ms'; SET vacuum_cost_limit = 1; VACUUM c;");
my $slow = time - $t0;
like(slurp_file($node->logfile, $off), $pass_re, 'a throttled VACUUM ran the pass');
cmp_ok($slow, '>', $quick + 2, sprintf('vacuum_cost_delay throttled it: %.2f s instead of %.2f s', $slow, $quick));

# a statement_timeout cancels the throttled pass inside the index cleanup
$t0 = time;
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET vacuum_cost_delay = '$cancel_delay'; SET vacuum_cost_limit = 1; SET statement_timeout = '" . 2 * $scale . "s'; VACUUM d;");
my $took = time - $t0;
like($stderr, qr/canceling statement due to statement timeout/, 'statement_timeout cancelled the VACUUM');
like($stderr, qr/while cleaning up index "d_v"/, 'in the index cleanup, i.e. the reconnect pass');
cmp_ok($took, '<', 10 * $scale, sprintf('promptly (%.2f s)', $took));

# pg_cancel_backend from another session, while progress shows the cleanup
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[
		$node->installed_command('psql'), '-X', '-d',
		$node->connstr('postgres')
		  . " application_name=slowvac options='-c vacuum_cost_delay=$cancel_delay -c vacuum_cost_limit=1'",
		'-c', 'VACUUM e'
	],
	'>', \$out, '2>', \$err);
my $deadline = time + 60 * $scale;
my $phase = '';
my $seen = 0;
while (time < $deadline)
{
	$phase = $node->safe_psql('postgres', q{
		SELECT coalesce((SELECT coalesce(p.phase, 'starting') FROM pg_stat_activity a
			LEFT JOIN pg_stat_progress_vacuum p USING (pid)
			WHERE a.application_name = 'slowvac'), 'gone')});
	# 'gone' before the session showed up is psql still connecting
	$seen ||= $phase ne 'gone';
	last if $phase eq 'cleaning up indexes' || ($phase eq 'gone' && $seen);
	usleep(50_000);
}
is($phase, 'cleaning up indexes', 'the VACUUM is in its index cleanup');
sleep 1;
$t0 = time;
$node->safe_psql('postgres',
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'slowvac'");
$h->finish;
$took = time - $t0;
like($err, qr/canceling statement due to user request/, 'pg_cancel_backend cancelled the pass');
cmp_ok($took, '<', 5 * $scale, sprintf('promptly (%.2f s)', $took));

# a cancelled pass is still due, and the next VACUUM runs it
cmp_ok($node->safe_psql('postgres',
		"SELECT value FROM vectorx_index_stats('e_v') WHERE stat = 'records_since_reconnect'"),
	'>', 0, 'the cancelled pass is still due');
$off = -s $node->logfile;
$node->safe_psql('postgres', 'VACUUM e');
like(slurp_file($node->logfile, $off), $pass_re, 'the next VACUUM runs the pass it missed');
is(vx_check_ok($node, 'e_v'), 't|{}', 'and the index passes vectorx_hnsw_check');

$node->stop;
done_testing();

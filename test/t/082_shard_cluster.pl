# Cluster sharding on postgres_fdw (src/planner/shard.h, CLUSTER
# SHARDING): a coordinator and three shard servers.  The coordinator trains
# a routing of 12 cells on the Fashion-MNIST images of vx_fashion_node,
# spreads the cells over the shards (balanced by the training sample's
# counts), and fills the table citems, PARTITION BY LIST
# (vectorx_shard_cell(v, 'fm')), half by INSERT and half by COPY through the
# coordinator.  Checked:
#  - every row is on the shard whose cells include its nearest centroid;
#  - a k-NN query contacts vectorx.shard_probes shards (EXPLAIN: Subplans
#    Removed, the kept shard is vectorx_shard_route's first), with the
#    LIMIT pushed down and async scans;
#  - the fan-out curve: recall@10 rises with shard_probes and is exact with
#    every shard probed (exact scans in the shards), and with an HNSW index
#    in each shard it stays close to the exact shards' at the same probes;
#  - generic plans and per-row query vectors (run-time pruning);
#  - a filter on the partition key prunes to one shard and stays on the
#    coordinator; a shard given the routing (vectorx_shard_routing_sql)
#    agrees with the coordinator's placement;
#  - vectorx_shard_balance and vectorx_shard_move_cell;
#  - a stopped shard that the routing prunes away does not stop the query;
#    one that is needed gives an error naming it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;
use File::Spec;

my ($coord, @shards) = vx_shard_nodes('c');
my $n = vx_n(10000, 2000);

for my $i (0 .. 2)
{
	my ($host, $port) = ($shards[$i]->host, $shards[$i]->port);
	$shards[$i]->safe_psql('postgres', 'CREATE TABLE items (id int PRIMARY KEY, label int, v vector(784))');
	$coord->safe_psql('postgres', qq{
		CREATE SERVER shard$i FOREIGN DATA WRAPPER postgres_fdw
			OPTIONS (host '$host', port '$port', dbname 'postgres',
			         extensions 'vectorx', async_capable 'true', batch_size '200');
		CREATE USER MAPPING FOR CURRENT_USER SERVER shard$i;
	});
}

is($coord->safe_psql('postgres', q{SELECT vectorx_shard_train('fm', 'SELECT v FROM items', 12)}), $n,
	'the routing is trained on every row');

# cells to shards: largest first, each to the shard with the fewest sample rows
my @counts = split /,/, $coord->safe_psql('postgres',
	q{SELECT array_to_string(sample_counts, ',') FROM vectorx_shard_routing WHERE name = 'fm'});
my @load = (0, 0, 0);
my @cells = ([], [], []);
for my $c (sort { $counts[$b] <=> $counts[$a] || $a <=> $b } 0 .. $#counts)
{
	my ($s) = sort { $load[$a] <=> $load[$b] || $a <=> $b } 0 .. 2;
	push @{ $cells[$s] }, $c;
	$load[$s] += $counts[$c];
}
note("cells per shard: " . join(' | ', map { join(',', @$_) } @cells) . "; sample rows: @load");

$coord->safe_psql('postgres', q{
	CREATE TABLE citems (id int, label int, v vector(784)) PARTITION BY LIST (vectorx_shard_cell(v, 'fm'));
} . join('', map { "CREATE FOREIGN TABLE citems_$_ PARTITION OF citems FOR VALUES IN ("
		  . join(',', @{ $cells[$_] }) . ") SERVER shard$_ OPTIONS (table_name 'items');\n" } 0 .. 2));
my $copyfile = File::Spec->rel2abs($coord->basedir) . '/half.copy';
$coord->safe_psql('postgres', qq{
	INSERT INTO citems SELECT * FROM items WHERE id % 2 = 0;
	COPY (SELECT * FROM items WHERE id % 2 = 1) TO '$copyfile';
	COPY citems FROM '$copyfile';
});
$_->safe_psql('postgres', 'VACUUM ANALYZE items') for @shards;

for my $i (0 .. 2)
{
	my $list = join(',', @{ $cells[$i] });
	is($shards[$i]->safe_psql('postgres', 'SELECT count(*) || \'/\' || sum(id) FROM items'),
		$coord->safe_psql('postgres', "SELECT count(*) || '/' || sum(id) FROM items WHERE vectorx_shard_cell(v, 'fm') IN ($list)"),
		"shard $i holds exactly the rows of its cells ($list)");
}

my $q1 = '(SELECT v FROM queries WHERE id = 1)';
my $v1 = $coord->safe_psql('postgres', 'SELECT v FROM queries WHERE id = 1');

# --- the plan ---
my $first = $coord->safe_psql('postgres', "SET vectorx.shard_probes = 1; SELECT partition FROM vectorx_shard_route('citems', '$v1') WHERE contacted");
my $plan = $coord->safe_psql('postgres',
	"SET vectorx.shard_probes = 1; EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM citems ORDER BY v <-> '$v1' LIMIT 10");
like($plan, qr/Subplans Removed: 2/, 'shard_probes 1: two shards pruned');
is(scalar(() = $plan =~ /Async Foreign Scan on public\.citems_\d/g), 1, 'one asynchronous foreign scan');
like($plan, qr/Async Foreign Scan on public\.\Q$first\E /, "the one vectorx_shard_route ranks first ($first)");
like($plan, qr/ASC NULLS LAST LIMIT 10$/m, 'with the LIMIT pushed down');
like($plan, qr/^Shard Routing: routing "fm" \(12 cells\), vectorx\.shard_probes = 1: contacted \Q$first\E \(rank 1, distance [-+.e\d]+\), pruned \S+ \(rank 2, distance [-+.e\d]+\), pruned \S+ \(rank 3, /m,
	'EXPLAIN says why: the partitions ranked by distance, the first contacted');
$plan = $coord->safe_psql('postgres',
	"SET vectorx.shard_probes = 2; EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM citems ORDER BY v <-> '$v1' LIMIT 10");
like($plan, qr/Subplans Removed: 1/, 'shard_probes 2: one shard pruned');
my $analyze = $coord->safe_psql('postgres',
	"SET vectorx.shard_probes = 1; EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id FROM citems ORDER BY v <-> $q1 LIMIT 10");
is(scalar(() = $analyze =~ /\(never executed\)/g), 2,
	'a query vector from an InitPlan: pruned when the query runs (two scans never executed)');
like($analyze, qr/^Shard Routing: routing "fm" \(12 cells\), vectorx\.shard_probes = 1: the 1 of 3 partitions nearest the query vector \(by their nearest cell\), chosen when the query runs/m,
	'EXPLAIN says what decides for a query vector known only when the query runs');
# the coordinator preloads the library in every database, vectorx created or not
$coord->safe_psql('postgres', 'CREATE DATABASE plain');
is($coord->safe_psql('plain', 'EXPLAIN (COSTS OFF) SELECT 1'), 'Result',
	'EXPLAIN in a database without the extension, the library preloaded');

# --- the fan-out curve ---
my %r;
$r{$_} = vx_recall_at_10($coord, "SET vectorx.shard_probes = $_;", 'citems') for 1 .. 3;
note("exact shards, recall\@10 by shard_probes: 1: $r{1}, 2: $r{2}, 3: $r{3}");
cmp_ok($r{2}, '>=', $r{1}, 'recall rises from 1 to 2 probes');
cmp_ok($r{3}, '>=', $r{2}, 'and to 3');
is($r{3}, '1.0000', 'every shard probed: exact');
cmp_ok($r{1}, '>=', 0.8, "one shard of three already finds $r{1} of the neighbours");
is(vx_recall_at_10($coord, 'SET vectorx.shard_probes = 0;', 'citems'), '1.0000', 'shard_probes 0 probes every shard');

# generic plan, and the query vector from each outer row (lateral)
my $gen = $coord->safe_psql('postgres', qq{
	SET plan_cache_mode = force_generic_plan;
	SET vectorx.shard_probes = 1;
	PREPARE knn(vector) AS SELECT id FROM citems ORDER BY v <-> \$1 LIMIT 10;
	EXPLAIN (COSTS OFF) EXECUTE knn('$v1');
});
like($gen, qr/Subplans Removed: 2/, 'generic plan: pruned when it runs');
is($coord->safe_psql('postgres', q{
	SET vectorx.shard_probes = 1;
	SELECT count(*) FROM queries q WHERE (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM citems ORDER BY v <-> q.v LIMIT 10) s)
	  IS DISTINCT FROM (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM items i
	      WHERE vectorx_shard_cell(i.v, 'fm') IN (SELECT unnest(cells) FROM vectorx_shard_route('citems', q.v) WHERE contacted)
	      ORDER BY v <-> q.v LIMIT 10) s)}), '0',
	'per outer row, one probe answers exactly from the shard vectorx_shard_route names');

# --- an index in each shard ---
$_->safe_psql('postgres', 'CREATE INDEX items_h ON items USING hnsw (v) WITH (m = 16, ef_construction = 64)') for @shards;
my $hnsw2 = vx_recall_at_10($coord, 'SET vectorx.shard_probes = 2;', 'citems');
note("HNSW in each shard, recall\@10 at shard_probes 2: $hnsw2 (exact shards $r{2})");
cmp_ok($hnsw2, '>=', $r{2} - 0.02, "HNSW in each shard at 2 probes: $hnsw2");

# --- a filter on the partition key stays on the coordinator ---
# (postgres_fdw does not ship a function of a text constant's collation),
# so the shards need not hold the routing; a shard given a copy
# (vectorx_shard_routing_sql) places its own rows in its own cells.
my $c0 = $cells[0][0];
like($coord->safe_psql('postgres', "EXPLAIN (VERBOSE, COSTS OFF) SELECT count(*) FROM citems WHERE vectorx_shard_cell(v, 'fm') = $c0"),
	qr/Filter: \(vectorx_shard_cell\(citems\.v, 'fm'::text\) = $c0\)\n\s+Remote SQL: SELECT v FROM public\.items$/m,
	'a filter on the partition key prunes to one shard and is evaluated on the coordinator');
is($coord->safe_psql('postgres', "SELECT count(*) FROM citems WHERE vectorx_shard_cell(v, 'fm') = $c0"),
	$coord->safe_psql('postgres', "SELECT count(*) FROM items WHERE vectorx_shard_cell(v, 'fm') = $c0"),
	'and counts the rows of its cell');
my $copy = $coord->safe_psql('postgres', q{SELECT vectorx_shard_routing_sql('fm')});
for my $i (0 .. 2)
{
	$shards[$i]->safe_psql('postgres', $copy);
	is($shards[$i]->safe_psql('postgres', "SELECT count(*) FROM items WHERE vectorx_shard_cell(v, 'fm') NOT IN (" . join(',', @{ $cells[$i] }) . ')'),
		'0', "shard $i, given the routing, finds every row of its own in its own cells");
}

# the index part is done: exact scans in the shards again
$_->safe_psql('postgres', 'DROP INDEX items_h') for @shards;

# --- balance and rebalancing ---
my $bal = $coord->safe_psql('postgres', q{SELECT string_agg(partition || ':' || "rows", ' ' ORDER BY partition), sum("rows") FROM vectorx_shard_balance('citems')});
note("rows per shard: $bal");
like($bal, qr/\|$n$/, 'vectorx_shard_balance counts every row');
my ($from) = sort { scalar(@{ $cells[$b] }) <=> scalar(@{ $cells[$a] }) || $a <=> $b } 0 .. 2;
my $to = ($from + 1) % 3;
my $cell = $cells[$from][-1];
my $want = $coord->safe_psql('postgres', "SELECT count(*) FROM items WHERE vectorx_shard_cell(v, 'fm') = $cell");
is($coord->safe_psql('postgres', "SELECT vectorx_shard_move_cell('citems', $cell, 'citems_$to')"), $want,
	"moving cell $cell from shard $from to shard $to moves its $want rows");
pop @{ $cells[$from] };
push @{ $cells[$to] }, $cell;
for my $i ($from, $to)
{
	my $list = join(',', @{ $cells[$i] });
	is($shards[$i]->safe_psql('postgres', 'SELECT count(*) || \'/\' || sum(id) FROM items'),
		$coord->safe_psql('postgres', "SELECT count(*) || '/' || sum(id) FROM items WHERE vectorx_shard_cell(v, 'fm') IN ($list)"),
		"after the move shard $i holds exactly the rows of its cells ($list)");
}
is(vx_recall_at_10($coord, 'SET vectorx.shard_probes = 3;', 'citems'), '1.0000', 'after the move, every shard probed still finds every neighbour');

# --- a stopped shard ---
my $far = $coord->safe_psql('postgres',
	"SET vectorx.shard_probes = 1; SELECT substring(partition::text FROM 'citems_(\\d)') FROM vectorx_shard_route('citems', '$v1') WHERE rank = 3");
$shards[$far]->stop('fast');
is($coord->safe_psql('postgres', "SET vectorx.shard_probes = 1; SELECT count(*) FROM (SELECT id FROM citems ORDER BY v <-> '$v1' LIMIT 10) s"),
	'10', 'with the farthest shard down, a one-probe query that prunes it still answers');
my ($ret, $out, $err) = $coord->psql('postgres', "SET vectorx.shard_probes = 3; SELECT count(*) FROM (SELECT id FROM citems ORDER BY v <-> '$v1' LIMIT 10) s");
like($err, qr/could not connect to server "shard$far"/, 'a query that needs it fails, naming the shard');
$shards[$far]->start;

done_testing();

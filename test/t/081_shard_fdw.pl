# Sharded k-NN on postgres_fdw (src/planner/shard.h): a coordinator and
# three shard servers on this machine.  The coordinator holds the
# Fashion-MNIST images of vx_fashion_node twice: as the single-node table
# items, and as sitems, partitioned by hash of id over three foreign tables
# (one per shard, written by hand with standard DDL), filled by INSERT
# through the coordinator.  Checked:
#  - rows are routed to the shard their hash partition names, and INSERT,
#    UPDATE and DELETE through the coordinator reach the shard;
#  - the plan: each shard's remote SQL carries ORDER BY and LIMIT, the
#    shards run as Async Foreign Scans under an Append, a Sort merges them,
#    and each shard sends k rows (EXPLAIN ANALYZE); with
#    vectorx.shard_pushdown off, PostgreSQL's own Merge Append;
#  - answers equal the single-node exact answers when the shards scan
#    exactly: constant and lateral queries, a shipped filter, a filter that
#    cannot be shipped, OFFSET, a prepared statement with a generic plan
#    and LIMIT as a parameter, a partitioned table with a local partition;
#  - with an index inside each shard (HNSW, then IVF-PQ: the hybrid
#    layout), recall@10 at least the single-node index's;
#  - a shard stopped mid-test: the error names its server; restarted, the
#    queries answer again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

# The rewrite is a planner hook: the coordinator loads vectorx in every
# session before its first query is planned (README, Sharding).
my ($coord, @shards) = vx_shard_nodes('');
my $n = vx_n(10000, 2000);

for my $i (0 .. 2)
{
	my ($host, $port) = ($shards[$i]->host, $shards[$i]->port);
	$shards[$i]->safe_psql('postgres', q{
		CREATE TABLE items (id int PRIMARY KEY, label int, v vector(784));
		CREATE TABLE items4 (id int PRIMARY KEY, label int, v vector(784));
	});
	$coord->safe_psql('postgres', qq{
		CREATE SERVER shard$i FOREIGN DATA WRAPPER postgres_fdw
			OPTIONS (host '$host', port '$port', dbname 'postgres',
			         extensions 'vectorx', async_capable 'true', batch_size '200');
		CREATE USER MAPPING FOR CURRENT_USER SERVER shard$i;
	});
}
$coord->safe_psql('postgres', q{
	CREATE TABLE sitems (id int, label int, v vector(784)) PARTITION BY HASH (id);
	CREATE FOREIGN TABLE sitems_0 PARTITION OF sitems FOR VALUES WITH (MODULUS 3, REMAINDER 0)
		SERVER shard0 OPTIONS (table_name 'items');
	CREATE FOREIGN TABLE sitems_1 PARTITION OF sitems FOR VALUES WITH (MODULUS 3, REMAINDER 1)
		SERVER shard1 OPTIONS (table_name 'items');
	CREATE FOREIGN TABLE sitems_2 PARTITION OF sitems FOR VALUES WITH (MODULUS 3, REMAINDER 2)
		SERVER shard2 OPTIONS (table_name 'items');
	INSERT INTO sitems SELECT * FROM items;
});
for my $i (0 .. 2)
{
	$shards[$i]->safe_psql('postgres', 'VACUUM ANALYZE items');
	my $want = $coord->safe_psql('postgres',
		"SELECT count(*) FROM items WHERE satisfies_hash_partition('sitems'::regclass, 3, $i, id)");
	is($shards[$i]->safe_psql('postgres', 'SELECT count(*) FROM items'), $want,
		"shard $i holds the $want rows its hash partition names");
}
is($coord->safe_psql('postgres', 'SELECT count(*) FROM sitems'), $n, 'the coordinator sees every row');

# The k nearest ids of each query, ordered by (distance, id), one line per
# query.  Ties at equal distance are ordered by id in the outer query so
# that the comparison does not depend on which of two equal rows a plan
# meets first.
sub knn_lists
{
	my ($table, $settings, $filter, $k, $offset) = @_;
	$settings //= '';
	$filter //= 'true';
	$k //= 10;
	my $off = $offset ? "OFFSET $offset" : '';
	return $coord->safe_psql('postgres', qq{
		$settings
		SELECT string_agg(r, E'\\n' ORDER BY q.id) FROM queries q,
		LATERAL (SELECT string_agg(id::text, ',' ORDER BY d, id) AS r FROM
		         (SELECT id, v <-> q.v AS d FROM $table WHERE $filter
		          ORDER BY v <-> q.v LIMIT $k $off) s) x;
	});
}

my $q1 = '(SELECT v FROM queries WHERE id = 1)';

# --- the plan ---
my $plan = $coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM sitems ORDER BY v <-> $q1 LIMIT 10");
note($plan);
like($plan, qr/^Limit\n(?:.*\n)*?  ->  Sort\n(?:.*\n){2}        ->  Append\n/, 'Limit over Sort over Append');
is(scalar(() = $plan =~ /Async Foreign Scan on public\.sitems_\d/g), 3, 'three asynchronous foreign scans');
is(scalar(() = $plan =~ /Remote SQL: SELECT .* ORDER BY \(v OPERATOR\(public\.<->\) \$1::public\.vector\(784\)\) ASC NULLS LAST LIMIT 10$/mg),
	3, "each shard's remote SQL has the ORDER BY and LIMIT 10");

my $analyze = $coord->safe_psql('postgres',
	"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id FROM sitems ORDER BY v <-> $q1 LIMIT 10");
is(scalar(() = $analyze =~ /Async Foreign Scan on sitems_\d sitems_\d \(actual rows=10 loops=1\)/g), 3,
	'each shard sends 10 rows');

my $off = $coord->safe_psql('postgres',
	"SET vectorx.shard_pushdown = off; EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM sitems ORDER BY v <-> $q1 LIMIT 10");
like($off, qr/Merge Append/, 'shard_pushdown off: PostgreSQL\'s Merge Append');
unlike($off, qr/LIMIT|Async/, 'shard_pushdown off: no remote LIMIT, no async');

# --- exact answers (no index on the shards) ---
my $truth = knn_lists('items');
is(knn_lists('sitems'), $truth, 'sharded answers equal single-node exact answers (100 queries, lateral)');
is(knn_lists('sitems', 'SET vectorx.shard_pushdown = off;'), $truth, 'and so do PostgreSQL\'s own');
is(knn_lists('sitems', '', 'label = 3'), knn_lists('items', '', 'label = 3'), 'a shipped filter');
like($coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM sitems WHERE label = 3 ORDER BY v <-> $q1 LIMIT 10"),
	qr/WHERE \(\(label = 3\)\) ORDER BY .* LIMIT 10/, 'the filter is in the remote SQL before the ORDER BY and LIMIT');
is(knn_lists('sitems', '', 'true', 5, 7), knn_lists('items', '', 'true', 5, 7), 'LIMIT 5 OFFSET 7');
like($coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM sitems ORDER BY v <-> $q1 LIMIT 5 OFFSET 7"),
	qr/LIMIT 12$/m, 'with OFFSET 7 each shard sends 12 rows');

$coord->safe_psql('postgres', q{
	CREATE FUNCTION odd_id(int) RETURNS bool LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1 % 2 = 1; END';
});
is(knn_lists('sitems', '', 'odd_id(id)'), knn_lists('items', '', 'odd_id(id)'),
	'a filter that cannot be shipped (a plpgsql function) stays on the coordinator');
unlike($coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM sitems WHERE odd_id(id) ORDER BY v <-> $q1 LIMIT 10"),
	qr/LIMIT/, 'and no LIMIT is shipped with it');

# a prepared statement, generic plan, the query vector and k as parameters
my $prep = $coord->safe_psql('postgres', q{
	SET plan_cache_mode = force_generic_plan;
	PREPARE knn(vector, bigint) AS SELECT id, v <-> $1 AS d FROM sitems ORDER BY v <-> $1 LIMIT $2;
	EXPLAIN (VERBOSE, COSTS OFF) EXECUTE knn('[1,2,3]', 10);
});
like($prep, qr/LIMIT \$2::bigint/, 'generic plan: the LIMIT is a remote parameter');
my $generic = '';
my $nq = 0;
for my $qid (@{[ split /\n/, $coord->safe_psql('postgres', 'SELECT id FROM queries ORDER BY id') ]})
{
	my $vec = $coord->safe_psql('postgres', "SELECT v FROM queries WHERE id = $qid");
	$generic .= ($generic eq '' ? '' : "\n") . $coord->safe_psql('postgres', qq{
		SET plan_cache_mode = force_generic_plan;
		PREPARE knn(vector, bigint) AS SELECT id, v <-> \$1 AS d FROM sitems ORDER BY v <-> \$1 LIMIT \$2;
		CREATE TEMP TABLE r AS EXECUTE knn('$vec', 10);
		SELECT string_agg(id::text, ',' ORDER BY d, id) FROM r;
	});
	last if ++$nq == 20;
}
my @truth20 = (split /\n/, $truth)[0 .. 19];
# LIMIT and OFFSET as parameters: count + offset saturates instead of
# overflowing (the Limit node itself lets it overflow)
is($coord->safe_psql('postgres', q{
	SET plan_cache_mode = force_generic_plan;
	PREPARE big(bigint, bigint) AS SELECT count(*) FROM (SELECT id FROM sitems ORDER BY v <-> (SELECT v FROM queries WHERE id = 1) LIMIT $1 OFFSET $2) s;
	EXECUTE big(9223372036854775807, 1);
}), $n - 1, 'LIMIT 9223372036854775807 OFFSET 1 as parameters: every row but one, no overflow');
is($generic, join("\n", @truth20), 'generic plan: the exact answers (20 queries)');

# a partitioned table with three foreign partitions and a local one
$coord->safe_psql('postgres', q{
	CREATE TABLE mitems (id int, label int, v vector(784)) PARTITION BY HASH (id);
	CREATE FOREIGN TABLE mitems_0 PARTITION OF mitems FOR VALUES WITH (MODULUS 4, REMAINDER 0)
		SERVER shard0 OPTIONS (table_name 'items4');
	CREATE FOREIGN TABLE mitems_1 PARTITION OF mitems FOR VALUES WITH (MODULUS 4, REMAINDER 1)
		SERVER shard1 OPTIONS (table_name 'items4');
	CREATE FOREIGN TABLE mitems_2 PARTITION OF mitems FOR VALUES WITH (MODULUS 4, REMAINDER 2)
		SERVER shard2 OPTIONS (table_name 'items4');
	CREATE TABLE mitems_3 PARTITION OF mitems FOR VALUES WITH (MODULUS 4, REMAINDER 3);
	INSERT INTO mitems SELECT * FROM items;
	ANALYZE mitems_3;
});
my $mplan = $coord->safe_psql('postgres',
	"EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM mitems ORDER BY v <-> $q1 LIMIT 10");
like($mplan, qr/->  Limit\n.*\n\s+->  Sort\n(.*\n)+\s+->  Seq Scan on public\.mitems_3/,
	'a local partition: a Limit over its own sorted scan');
is(scalar(() = $mplan =~ /LIMIT 10$/mg), 3, 'the three foreign partitions take the LIMIT remotely');
is(knn_lists('mitems'), $truth, 'with a local partition: the exact answers');

# a partitioned table with one foreign partition: no Merge Append is left,
# the Limit sits on the foreign scan, and the LIMIT still goes remote
$coord->safe_psql('postgres', q{
	CREATE TABLE oitems (id int, label int, v vector(784)) PARTITION BY HASH (id);
	CREATE FOREIGN TABLE oitems_0 PARTITION OF oitems FOR VALUES WITH (MODULUS 1, REMAINDER 0)
		SERVER shard0 OPTIONS (table_name 'items');
});
like($coord->safe_psql('postgres', "EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM oitems ORDER BY v <-> $q1 LIMIT 10"),
	qr/Limit\n(?:.*\n)*?  ->  Foreign Scan on public\.oitems_0 .*\n(?:.*\n)*?\s+Remote SQL: .* ORDER BY .* LIMIT 10$/m,
	'one foreign partition: the LIMIT goes remote');
is(knn_lists('oitems'), knn_lists('sitems_0'), 'and its answers are the exact ones of that shard');

# --- inserts, updates and deletes through the coordinator ---
$coord->safe_psql('postgres', q{
	INSERT INTO sitems SELECT 900000 + id, 42, v FROM queries WHERE id BETWEEN 1 AND 5;
});
for my $i (0 .. 2)
{
	my $want = $coord->safe_psql('postgres', "SELECT string_agg(id::text, ',' ORDER BY id) FROM generate_series(900001, 900005) id
		WHERE satisfies_hash_partition('sitems'::regclass, 3, $i, id)");
	is($shards[$i]->safe_psql('postgres', q{SELECT string_agg(id::text, ',' ORDER BY id) FROM items WHERE id > 900000}),
		$want, "inserted rows routed to shard $i: '$want'");
}
is($coord->safe_psql('postgres', q{
	SELECT string_agg((SELECT id FROM sitems ORDER BY v <-> q.v LIMIT 1)::text, ',' ORDER BY q.id) FROM queries q WHERE id BETWEEN 1 AND 5}),
	'900001,900002,900003,900004,900005', 'the inserted rows are each their own nearest neighbour');
$coord->safe_psql('postgres', 'UPDATE sitems SET label = 43 WHERE id = 900003');
my $owner = $coord->safe_psql('postgres', "SELECT tableoid::regclass FROM sitems WHERE id = 900003");
my ($oi) = $owner =~ /sitems_(\d)/;
is($shards[$oi]->safe_psql('postgres', 'SELECT label FROM items WHERE id = 900003'), '43', 'an UPDATE reaches the shard');
$coord->safe_psql('postgres', 'DELETE FROM sitems WHERE id > 900000');
is(join(',', map { $_->safe_psql('postgres', 'SELECT count(*) FROM items WHERE id > 900000') } @shards), '0,0,0',
	'a DELETE reaches every shard');

# --- indexes inside the shards ---
$coord->safe_psql('postgres', 'CREATE INDEX items_h ON items USING hnsw (v) WITH (m = 16, ef_construction = 64)');
$_->safe_psql('postgres', 'CREATE INDEX items_h ON items USING hnsw (v) WITH (m = 16, ef_construction = 64)') for @shards;
# A narrow beam (ef_search 10) so that recall has room to differ.  The
# shards get it the way a DBA would set any vectorx GUC for the remote
# sessions: the server's libpq options.
$coord->safe_psql('postgres', "ALTER SERVER shard$_ OPTIONS (ADD options '-c hnsw.ef_search=10')") for 0 .. 2;
my $single = vx_recall_at_10($coord, 'SET enable_seqscan = off; SET hnsw.ef_search = 10;');
my $sharded = vx_recall_at_10($coord, '', 'sitems');
note("HNSW recall\@10, ef_search 10: single node $single, three shards $sharded");
cmp_ok($sharded, '>=', $single - 0.005, "HNSW in each shard: recall\@10 $sharded, single node $single");
cmp_ok($sharded, '>=', 0.9, 'and at least 0.9');
cmp_ok(vx_recall_at_10($coord, "SET vectorx.shard_pushdown = off;", 'sitems'), '==', $sharded, 'the same recall with the pushdown off');
like($shards[0]->safe_psql('postgres', 'EXPLAIN (COSTS OFF) SELECT id, v FROM items ORDER BY v <-> (SELECT v FROM items LIMIT 1) LIMIT 10'),
	qr/Index Scan using items_h/, 'a shard answers such a remote query by its index');

# the hybrid layout with IVF-PQ inside each shard
$_->safe_psql('postgres', 'DROP INDEX items_h; CREATE INDEX items_p ON items USING ivfpq (v) WITH (lists = 20, m = 98)') for @shards;
$coord->safe_psql('postgres', 'DROP INDEX items_h; CREATE INDEX items_p ON items USING ivfpq (v) WITH (lists = 60, m = 98)');
$coord->safe_psql('postgres', "ALTER SERVER shard$_ OPTIONS (SET options '-c ivfpq.probes=1')") for 0 .. 2;
$single = vx_recall_at_10($coord, 'SET enable_seqscan = off; SET ivfpq.probes = 1;');
$sharded = vx_recall_at_10($coord, '', 'sitems');
note("IVF-PQ recall\@10, probes 1: single node (60 lists) $single, three shards (20 lists each) $sharded");
cmp_ok($sharded, '>=', $single - 0.005, "IVF-PQ in each shard: recall\@10 $sharded, single node $single");
is(knn_lists('sitems', '', 'true', 3), knn_lists('sitems', 'SET vectorx.shard_pushdown = off;', 'true', 3),
	'pushdown on or off, the shards\' indexes give the same answers');

# --- a shard stopped mid-test ---
$shards[1]->stop('fast');
my ($ret, $out, $err) = $coord->psql('postgres', "SELECT id FROM sitems ORDER BY v <-> $q1 LIMIT 10");
isnt($ret, 0, 'a query with a shard down fails');
like($err, qr/could not connect to server "shard1"/, 'and the error names the shard');
$shards[1]->start;
is($coord->safe_psql('postgres', "SELECT count(*) FROM (SELECT id FROM sitems ORDER BY v <-> $q1 LIMIT 10) s"), '10',
	'restarted, it answers again');

done_testing();

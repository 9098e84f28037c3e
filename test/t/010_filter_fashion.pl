# Filtered k-NN on real data: 10000 Fashion-MNIST images (Debian's
# dataset-fashion-mnist) with their class labels (10 classes, correlated
# with the vectors) and seeded random attributes matching 1%, 10% and 50%
# of rows (independent of them), 100 test images as queries.  For every
# filter and strategy: recall@10 against the exact filtered answer and
# exactly 10 rows per query.  The label filter takes each query's own label
# as a parameter of a correlated subquery: a generic plan that chooses its
# strategy when it runs.  The data files are prepared by scripts/vx-test
# in $ENV{VX_TAP_DATA}.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_fashion_node('filterfashion', conf => "maintenance_work_mem = 256MB\nshared_buffers = 256MB\n");
$node->safe_psql('postgres', qq{
	ALTER TABLE items ADD a1 bool, ADD a10 bool, ADD a50 bool;
	SELECT setseed(0.1);
	UPDATE items SET a1 = random() < 0.01, a10 = random() < 0.1, a50 = random() < 0.5;
	CREATE INDEX ON items (label);
	CREATE INDEX ON items (a1);
	CREATE INDEX ON items (a10);
	CREATE INDEX ON items (a50);
	VACUUM ANALYZE items;
});
# 100 queries (20 in light mode: VxTap.pm)
my $nq = $node->safe_psql('postgres', 'SELECT count(*) FROM queries');

# recall@10 and rows returned for one filter (SQL over items i and queries q)
sub filtered_recall
{
	my ($settings, $filter) = @_;
	my $res = $node->safe_psql('postgres', qq{
		$settings
		WITH exact AS (
			SELECT q.id AS qid, (SELECT max(d) FROM (
				SELECT (i.v <-> q.v) + 0 AS d FROM items i WHERE $filter ORDER BY 1 LIMIT 10) s) AS kth
			FROM queries q),
		approx AS (
			SELECT q.id AS qid, r.d
			FROM queries q, LATERAL (SELECT i.v <-> q.v AS d FROM items i WHERE $filter
			                         ORDER BY i.v <-> q.v LIMIT 10) r)
		SELECT round(count(*) FILTER (WHERE a.d <= e.kth + 1e-6)::numeric / (10 * (SELECT count(*) FROM queries)), 4),
		       count(*)
		FROM approx a JOIN exact e USING (qid);
	});
	return split /\|/, $res;
}

my %filters = (
	'label (10%, correlated)' => 'i.label = q.label',
	'1%' => 'i.a1',
	'10%' => 'i.a10',
	'50%' => 'i.a50');

for my $am ('hnsw', 'ivfpq')
{
	my ($index, $search) = $am eq 'hnsw'
	  ? ('USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64)', 'SET hnsw.ef_search = 40;')
	  : ('USING ivfpq (v vector_l2_ops) WITH (lists = 40, m = 56)', 'SET ivfpq.probes = 8; SET ivfpq.rerank = 100;');
	$node->safe_psql('postgres', "DROP INDEX IF EXISTS items_v; CREATE INDEX items_v ON items $index");
	for my $f (sort keys %filters)
	{
		for my $strategy ('auto', 'prefilter', 'inscan', 'postfilter')
		{
			my ($recall, $rows) = filtered_recall("$search SET vectorx.filter_strategy = $strategy;", $filters{$f});
			note("$am, filter $f, $strategy: recall\@10 $recall, rows $rows");
			is($rows, 10 * $nq, "$am, filter $f, $strategy: 10 rows for each of $nq queries");
			my $floor = $strategy eq 'auto' || $strategy eq 'prefilter' ? 0.95 : 0.80;
			cmp_ok($recall, '>=', $floor, "$am, filter $f, $strategy: recall\@10 >= $floor (got $recall)");
		}
	}
}

# the plans say which strategy they took and why
my $plan = $node->safe_psql('postgres', q{
	EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)
	SELECT q.id, r.id FROM queries q, LATERAL (SELECT i.id FROM items i WHERE i.label = q.label
	                                           ORDER BY i.v <-> q.v LIMIT 10) r WHERE q.id < 3});
like($plan, qr/Strategy: adaptive \(chosen at execution\)/, 'a parameterized filter chooses at execution');
like($plan, qr/Chosen Strategy: \w+/, 'EXPLAIN ANALYZE shows the strategy taken');
$plan = $node->safe_psql('postgres', q{
	EXPLAIN (COSTS OFF) SELECT id FROM items WHERE a1 ORDER BY v <-> (SELECT v FROM queries WHERE id = 1) LIMIT 10});
like($plan, qr/Strategy: prefilter \(auto\)/, 'a 1% filter is applied first');
$plan = $node->safe_psql('postgres', q{
	EXPLAIN (COSTS OFF) SELECT id FROM items WHERE a50 ORDER BY v <-> (SELECT v FROM queries WHERE id = 1) LIMIT 10});
# (in light mode, 2000 images, any strategy may be cheapest)
like($plan, vx_light() ? qr/Strategy: \w+ \(auto/ : qr/Strategy: postfilter \(auto/,
	'a 50% filter is applied after the index scan');

$node->stop;
done_testing();

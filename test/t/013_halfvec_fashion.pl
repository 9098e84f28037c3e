# Recall on real data with halfvec columns: the Fashion-MNIST images of
# VxTap's vx_fashion_node cast to halfvec(784), queried with the test images
# as halfvec.  HNSW (halfvec_l2_ops, halfvec_cosine_ops) and IVF-PQ
# (halfvec_l2_ops) against an exact scan of the same halfvec column, and
# HNSW against a vector index of the same data and settings: the indexes
# hold halfvec in their float form, so halfvec must lose nothing to it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_fashion_node('halfvec_fashion', conf => "maintenance_work_mem = 256MB\nshared_buffers = 256MB\n");
my $n = vx_n(10000, 2000);
$node->safe_psql('postgres', q{
	CREATE TABLE hitems (id int PRIMARY KEY, h halfvec(784));
	INSERT INTO hitems SELECT id, v FROM items;
	CREATE TABLE hqueries (id int PRIMARY KEY, h halfvec(784));
	INSERT INTO hqueries SELECT id, v FROM queries;
	VACUUM ANALYZE hitems;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM hitems'), $n, "$n images as halfvec");
is($node->safe_psql('postgres', q{SELECT count(*) FROM items i JOIN hitems h USING (id)
	WHERE h.h::vector <> i.v}), '0', 'pixel values 0-255 are exact in binary16');

# recall@10 of the index on table.col against an exact scan (tie-aware)
sub recall
{
	my ($table, $qtable, $col, $op, $settings) = @_;
	return $node->safe_psql('postgres', qq{
		$settings
		WITH exact AS (
			SELECT q.id AS qid, (SELECT max(d) FROM (
				SELECT (i.$col $op q.$col) + 0 AS d FROM $table i ORDER BY 1 LIMIT 10) s) AS kth
			FROM $qtable q),
		approx AS (
			SELECT q.id AS qid, i.$col $op q.$col AS d
			FROM $qtable q, LATERAL (SELECT $col FROM $table ORDER BY $col $op q.$col LIMIT 10) i)
		SELECT round(count(*) FILTER (WHERE a.d <= e.kth + 1e-6)::numeric / (10 * (SELECT count(*) FROM $qtable)), 4)
		FROM approx a JOIN exact e USING (qid);
	});
}

$node->safe_psql('postgres', q{
	CREATE INDEX hitems_l2 ON hitems USING hnsw (h halfvec_l2_ops) WITH (m = 16, ef_construction = 64);
	CREATE INDEX items_l2 ON items USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64);
});
is(vx_check_ok($node, 'hitems_l2'), 't|{}', 'the halfvec index passes vectorx_hnsw_check');
my $plan = $node->safe_psql('postgres',
	'EXPLAIN (COSTS OFF) SELECT id FROM hitems ORDER BY h <-> (SELECT h FROM hqueries WHERE id = 1) LIMIT 10');
like($plan, qr/Index Scan using hitems_l2/, 'ORDER BY h <-> q LIMIT 10 uses it');

for my $ef (10, 40)
{
	my $half = recall('hitems', 'hqueries', 'h', '<->', "SET hnsw.ef_search = $ef;");
	my $full = recall('items', 'queries', 'v', '<->', "SET hnsw.ef_search = $ef;");
	note("recall\@10 at ef_search $ef: halfvec $half, vector $full");
	cmp_ok($half, '>=', $full - 0.01, "ef_search $ef: halfvec recall $half is vector's $full or within 0.01");
	cmp_ok($half, '>=', $ef == 40 ? 0.95 : 0.85, "ef_search $ef: recall\@10 $half");
}
# the same element size; the builds draw their levels apart, so the upper
# levels' records (a few per cent of the index) may differ by a page or two
my ($hsize, $vsize) = split /\|/, $node->safe_psql('postgres',
	q{SELECT pg_relation_size('hitems_l2'), pg_relation_size('items_l2')});
note("index sizes: halfvec $hsize, vector $vsize bytes");
cmp_ok(abs($hsize - $vsize), '<=', 0.02 * $vsize,
	'the halfvec index is the size of the vector index within 2% (both hold 8-bit codes)');
is($node->safe_psql('postgres', q{SELECT h.value = v.value FROM vectorx_index_stats('hitems_l2') h, vectorx_index_stats('items_l2') v
	WHERE h.stat = 'elements' AND v.stat = 'elements'}), 't', 'and the same number of elements');

$node->safe_psql('postgres', q{
	DROP INDEX hitems_l2;
	CREATE INDEX hitems_cos ON hitems USING hnsw (h halfvec_cosine_ops) WITH (m = 16, ef_construction = 64);
});
my $cos = recall('hitems', 'hqueries', 'h', '<=>', 'SET hnsw.ef_search = 40;');
note("cosine recall\@10 at ef_search 40: $cos");
cmp_ok($cos, '>=', 0.95, "halfvec_cosine_ops recall\@10 $cos");

$node->safe_psql('postgres', q{
	DROP INDEX hitems_cos;
	CREATE INDEX hitems_ivf ON hitems USING ivfpq (h halfvec_l2_ops) WITH (lists = 32, m = 56);
});
is($node->safe_psql('postgres', q{SELECT ok FROM vectorx_ivfpq_check('hitems_ivf')}), 't',
	'the halfvec IVF-PQ index passes vectorx_ivfpq_check');
my $ivf = recall('hitems', 'hqueries', 'h', '<->', 'SET ivfpq.probes = 8;');
note("IVF-PQ recall\@10 at probes 8: $ivf");
cmp_ok($ivf, '>=', 0.9, "halfvec IVF-PQ recall\@10 $ivf");

done_testing();

# Recall on real data with sparsevec indexes: a sparse set derived from
# Fashion-MNIST.  An image's non-zero pixels (about half of them: the
# background is black) become the non-zero elements of a sparsevec of
# 30522 dimensions (a SPLADE vocabulary's size, beyond any dense type's
# limit), pixel p at index 37p + 1: a spread of the same values, so every
# distance equals the dense image's and the dense tables give the truth.
#  1. sparsevec_l2_ops with the capacity the build takes from the rows (the
#     most non-zeros of an image, so nothing is cut), and with nnz 256, where
#     most images keep their 256 largest elements and the executor's
#     re-check restores the exact order (src/common/vxcodec.h, SPARSE CODES).
#     Each is held to the vector index on the same images at the same m,
#     ef_construction and ef_search.
#  2. sparsevec_cosine_ops, sparsevec_ip_ops and sparsevec_l1_ops against
#     brute force.
#  3. Results in exact order with exact distances; the sizes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_fashion_node('sparse_fashion', conf => "maintenance_work_mem = 256MB\nshared_buffers = 256MB\njit = off\n");
my $n = vx_n(10000, 2000);
$node->safe_psql('postgres', q{
	CREATE FUNCTION spread(v vector) RETURNS sparsevec LANGUAGE sql IMMUTABLE AS $$
		SELECT format('{%s}/30522', string_agg(format('%s:%s', (p - 1) * 37 + 1, x), ',' ORDER BY p))::sparsevec
		FROM unnest(v::real[]) WITH ORDINALITY u(x, p) WHERE x <> 0 $$;
	CREATE TABLE sitems (id int PRIMARY KEY, s sparsevec(30522));
	INSERT INTO sitems SELECT id, spread(v) FROM items;
	CREATE TABLE squeries (id int PRIMARY KEY, s sparsevec(30522));
	INSERT INTO squeries SELECT id, spread(v) FROM queries;
	VACUUM ANALYZE sitems;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM sitems'), $n, "$n images as sparse vectors");
is($node->safe_psql('postgres', q{
	SELECT bool_and(abs((s.s <-> q.s) - (i.v <-> qq.v)) <= 1e-5 * (i.v <-> qq.v))
	FROM sitems s JOIN items i USING (id), squeries q JOIN queries qq USING (id) WHERE s.id <= 50 AND q.id <= 5}),
	't', 'sparse distances equal the dense images\'');
my ($avg, $max, $above) = split /\|/, $node->safe_psql('postgres', q{
	SELECT round(avg(nnz)), max(nnz), round(avg((nnz > 256)::int), 3) FROM (
		SELECT length(s::text) - length(replace(s::text, ':', '')) AS nnz FROM sitems) a});
note("non-zeros per image: $avg on average, $max at most; $above of the images have more than 256");
cmp_ok($above, '>', 0.5, "most images ($above) have more non-zeros than the default capacity");

# tie-aware recall@10 of ORDER BY $col $op q.$col through the index on
# $table, against the exact distance (integer pixels make ties)
sub recall
{
	my ($table, $qtable, $col, $op, $settings) = @_;
	return $node->safe_psql('postgres', qq{
		$settings
		SET enable_seqscan = off;
		WITH exact AS (
			SELECT q.id AS qid, (SELECT max(d) FROM (
				SELECT (i.$col $op q.$col) + 0 AS d FROM $table i ORDER BY 1 LIMIT 10) s) AS kth
			FROM $qtable q),
		approx AS (
			SELECT q.id AS qid, i.d
			FROM $qtable q, LATERAL (SELECT i.$col $op q.$col AS d FROM $table i ORDER BY i.$col $op q.$col LIMIT 10) i)
		SELECT round(count(*) FILTER (WHERE a.d <= e.kth + 1e-6)::numeric / (10 * (SELECT count(*) FROM $qtable)), 4)
		FROM approx a JOIN exact e USING (qid);
	});
}

# 1. L2: the capacity from the rows, nnz 256, and the vector index
$node->safe_psql('postgres', q{
	CREATE INDEX sitems_l2 ON sitems USING hnsw (s sparsevec_l2_ops) WITH (m = 16, ef_construction = 64);
	CREATE INDEX items_l2 ON items USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64);
});
is(vx_check_ok($node, 'sitems_l2'), 't|{}', 'the sparse index passes vectorx_hnsw_check');
my $cap = $node->safe_psql('postgres', "SELECT value FROM vectorx_index_stats('sitems_l2') WHERE stat = 'nnz'");
ok($cap >= $max && $cap < $max + 8, "the build took its capacity from the rows: $cap for at most $max non-zeros");
my $plan = $node->safe_psql('postgres', q{EXPLAIN (COSTS OFF)
	SELECT id FROM sitems ORDER BY s <-> (SELECT s FROM squeries WHERE id = 1) LIMIT 10});
like($plan, qr/Index Scan using sitems_l2/, 'ORDER BY s <-> q LIMIT 10 uses it');
my %dense;
for my $ef (40, 100)
{
	my $r = recall('sitems', 'squeries', 's', '<->', "SET hnsw.ef_search = $ef;");
	$dense{$ef} = recall('items', 'queries', 'v', '<->', "SET hnsw.ef_search = $ef;");
	note("L2 recall\@10 at ef_search $ef: sparse $r, vector $dense{$ef}");
	cmp_ok($r, '>=', $dense{$ef} - 0.01, "ef_search $ef: recall $r within 0.01 of the vector index's $dense{$ef}");
}
my %bytes = map {
	$_ => $node->safe_psql('postgres', "SELECT round(value) FROM vectorx_index_stats('$_') WHERE stat = 'bytes_per_vector'")
} qw(sitems_l2 items_l2);
note("bytes per vector: sparse $bytes{sitems_l2}, vector $bytes{items_l2}");

$node->safe_psql('postgres', q{
	DROP INDEX sitems_l2;
	CREATE INDEX sitems_cut ON sitems USING hnsw (s sparsevec_l2_ops) WITH (m = 16, ef_construction = 64, nnz = 256);
});
is(vx_check_ok($node, 'sitems_cut'), 't|{}', 'the nnz 256 index passes vectorx_hnsw_check');
my %cut;
for my $ef (40, 100)
{
	$cut{$ef} = recall('sitems', 'squeries', 's', '<->', "SET hnsw.ef_search = $ef;");
	note("L2 recall\@10 at ef_search $ef: sparse nnz 256 $cut{$ef}");
	cmp_ok($cut{$ef}, '>=', $dense{$ef} - 0.03,
		"nnz 256, ef_search $ef: recall $cut{$ef} within 0.03 of the vector index's $dense{$ef}");
}

# 3. exact order, exact distances
is($node->safe_psql('postgres', q{
	SET hnsw.ef_search = 100;
	SET enable_seqscan = off;
	SELECT bool_and(d >= prev) AND bool_and(d = e)
	FROM (SELECT d, e, lag(d, 1, 0.0) OVER (ORDER BY n) AS prev FROM (
		SELECT i.s <-> q.s AS d, (i.s <-> q.s) + 0 AS e, row_number() OVER () AS n
		FROM squeries q, LATERAL (SELECT s FROM sitems ORDER BY s <-> q.s LIMIT 200) i WHERE q.id = 3) a) b}),
	't', 'results in exact order with exact distances (200 rows)');

# 2. the other metrics, the capacity from the rows
$node->safe_psql('postgres', q{
	DROP INDEX sitems_cut;
	CREATE INDEX sitems_cos ON sitems USING hnsw (s sparsevec_cosine_ops) WITH (m = 16, ef_construction = 64);
	CREATE INDEX sitems_ip ON sitems USING hnsw (s sparsevec_ip_ops) WITH (m = 16, ef_construction = 64);
	CREATE INDEX sitems_l1 ON sitems USING hnsw (s sparsevec_l1_ops) WITH (m = 16, ef_construction = 64);
});
for my $idx (qw(sitems_cos sitems_ip sitems_l1))
{
	is(vx_check_ok($node, $idx), 't|{}', "$idx passes vectorx_hnsw_check");
}
my %floor = ('<=>' => 0.98, '<#>' => 0.95, '<+>' => 0.98);
for my $op ('<=>', '<#>', '<+>')
{
	my $r = recall('sitems', 'squeries', 's', $op, 'SET hnsw.ef_search = 100;');
	note("$op recall\@10 at ef_search 100: $r");
	cmp_ok($r, '>=', $floor{$op}, "$op: recall\@10 $r at ef_search 100");
}

done_testing();

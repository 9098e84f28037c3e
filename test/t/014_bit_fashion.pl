# Recall on real data with bit indexes: Fashion-MNIST binary-quantized, as
# pgvector applications do it.
#  1. pgvector's pattern on the raw column: an expression index
#     USING hnsw ((binary_quantize(v)::bit(784)) bit_hamming_ops), and the
#     two-phase query (100 candidates by Hamming distance through the index,
#     re-ranked by the exact L2 distance in SQL).
#  2. The same on bits of the mean-centred images (a stored bit(784)
#     column): pixels are never negative, so centring is what makes the
#     bits say something about the image.
#  3. Jaccard (bit_jaccard_ops) on the centred bits.
# Each index is held to its own exact answer (tie-aware recall@10 of the
# bit distance), and each two-phase answer to exact L2 and to the same
# two phases computed exactly (the index may lose little to brute force).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_fashion_node('bit_fashion', conf => "maintenance_work_mem = 256MB\nshared_buffers = 256MB\njit = off\n");
my $n = vx_n(10000, 2000);
$node->safe_psql('postgres', q{
	CREATE TABLE mean AS SELECT avg(v) AS m FROM items;
	ALTER TABLE items ADD COLUMN b bit(784);
	UPDATE items SET b = binary_quantize(v - (SELECT m FROM mean));
	ALTER TABLE queries ADD COLUMN b bit(784);
	UPDATE queries SET b = binary_quantize(v - (SELECT m FROM mean));
	VACUUM ANALYZE items;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM items WHERE b IS NOT NULL'), $n, "$n images as bits");

# tie-aware recall@10 of ORDER BY $expr $op <query's $qexpr> through the
# index, against the exact bit distance
sub bit_recall
{
	my ($expr, $qexpr, $op, $settings) = @_;
	return $node->safe_psql('postgres', qq{
		$settings
		SET enable_seqscan = off;
		WITH exact AS (
			SELECT q.id AS qid, (SELECT max(d) FROM (
				SELECT ($expr $op $qexpr) + 0 AS d FROM items i ORDER BY 1 LIMIT 10) s) AS kth
			FROM queries q),
		approx AS (
			SELECT q.id AS qid, i.d
			FROM queries q, LATERAL (SELECT $expr $op $qexpr AS d FROM items i ORDER BY $expr $op $qexpr LIMIT 10) i)
		SELECT round(count(*) FILTER (WHERE a.d <= e.kth + 1e-9)::numeric / (10 * (SELECT count(*) FROM queries)), 4)
		FROM approx a JOIN exact e USING (qid);
	});
}

# recall@10 against exact L2 of the two-phase query: $cand candidates by
# ORDER BY $expr $op $qexpr (through the index, or exactly with
# $exact), re-ranked by v <-> q.v
sub two_phase
{
	my ($expr, $qexpr, $op, $cand, $exact, $settings) = @_;
	my $key = $exact ? "($expr $op $qexpr) + 0" : "$expr $op $qexpr";
	return $node->safe_psql('postgres', qq{
		$settings
		SET enable_seqscan = off;
		WITH truth AS (
			SELECT q.id AS qid, t.id FROM queries q,
				LATERAL (SELECT id FROM items i ORDER BY (i.v <-> q.v) + 0 LIMIT 10) t),
		found AS (
			SELECT q.id AS qid, r.id FROM queries q,
				LATERAL (SELECT c.id FROM (SELECT id, v FROM items i ORDER BY $key LIMIT $cand) c
						 ORDER BY c.v <-> q.v LIMIT 10) r)
		SELECT round(count(*)::numeric / (10 * (SELECT count(*) FROM queries)), 4)
		FROM found JOIN truth USING (qid, id);
	});
}

# 1. pgvector's pattern: expression index on the raw column
$node->safe_psql('postgres', q{
	CREATE INDEX items_bq ON items USING hnsw ((binary_quantize(v)::bit(784)) bit_hamming_ops)
		WITH (m = 16, ef_construction = 64);
});
is(vx_check_ok($node, 'items_bq'), 't|{}', 'the expression index passes vectorx_hnsw_check');
my $plan = $node->safe_psql('postgres', q{EXPLAIN (COSTS OFF)
	SELECT id FROM items ORDER BY binary_quantize(v)::bit(784) <~> binary_quantize((SELECT v FROM queries WHERE id = 1)) LIMIT 100});
like($plan, qr/Index Scan using items_bq/, 'ORDER BY binary_quantize(v)::bit(784) <~> binary_quantize(q) uses it');

my $raw = 'binary_quantize(i.v)::bit(784)';
my $rawq = 'binary_quantize(q.v)';
for my $ef (40, 100)
{
	my $r = bit_recall($raw, $rawq, '<~>', "SET hnsw.ef_search = $ef;");
	note("raw bits, Hamming recall\@10 at ef_search $ef: $r");
	cmp_ok($r, '>=', $ef == 40 ? 0.9 : 0.95, "raw bits: the index finds the Hamming nearest (ef_search $ef: $r)");
}
{
	my $idx = two_phase($raw, $rawq, '<~>', 100, 0, 'SET hnsw.ef_search = 100;');
	my $ex = two_phase($raw, $rawq, '<~>', 100, 1, '');
	note("raw bits, 100 candidates re-ranked by L2: recall\@10 $idx through the index, $ex exact");
	cmp_ok($idx, '>=', $ex - 0.02, "raw bits: two phases through the index ($idx) lose at most 0.02 to exact ($ex)");
	cmp_ok($idx, '>=', 0.6, "raw bits: two-phase recall\@10 against L2 $idx");
}

# 2. centred bits, stored
$node->safe_psql('postgres', q{
	DROP INDEX items_bq;
	CREATE INDEX items_b ON items USING hnsw (b bit_hamming_ops) WITH (m = 16, ef_construction = 64);
});
is(vx_check_ok($node, 'items_b'), 't|{}', 'the centred-bits index passes vectorx_hnsw_check');
my %cent;
for my $ef (40, 100)
{
	my $r = bit_recall('i.b', 'q.b', '<~>', "SET hnsw.ef_search = $ef;");
	note("centred bits, Hamming recall\@10 at ef_search $ef: $r");
	cmp_ok($r, '>=', $ef == 40 ? 0.9 : 0.95, "centred bits: the index finds the Hamming nearest (ef_search $ef: $r)");
}
for my $cand (100, 200)
{
	my $idx = two_phase('i.b', 'q.b', '<~>', $cand, 0, 'SET hnsw.ef_search = ' . ($cand == 100 ? 100 : 200) . ';');
	my $ex = two_phase('i.b', 'q.b', '<~>', $cand, 1, '');
	$cent{$cand} = $idx;
	note("centred bits, $cand candidates re-ranked by L2: recall\@10 $idx through the index, $ex exact");
	cmp_ok($idx, '>=', $ex - 0.02, "centred bits, $cand candidates: through the index ($idx) within 0.02 of exact ($ex)");
}
cmp_ok($cent{100}, '>=', 0.85, "centred bits: 100 candidates re-ranked give recall\@10 $cent{100}");
cmp_ok($cent{200}, '>=', $cent{100}, 'more candidates do not lower recall');
is($node->safe_psql('postgres', q{SELECT recall >= 0.9 FROM vectorx_recall('items_b', 50, 10)}), 't',
	'vectorx_recall measures a bit index with its own rows');
my $size = $node->safe_psql('postgres', q{SELECT pg_relation_size('items_b')});
note("centred bits index: $size bytes for $n rows");
cmp_ok($size / $n, '<', 400, 'a 784-bit element with m 16 takes under 400 bytes (98 code bytes, not 784)');

# 3. Jaccard on the centred bits
$node->safe_psql('postgres', q{
	DROP INDEX items_b;
	CREATE INDEX items_bj ON items USING hnsw (b bit_jaccard_ops) WITH (m = 16, ef_construction = 64);
});
is(vx_check_ok($node, 'items_bj'), 't|{}', 'the Jaccard index passes vectorx_hnsw_check');
my $j = bit_recall('i.b', 'q.b', '<%>', 'SET hnsw.ef_search = 40;');
note("centred bits, Jaccard recall\@10 at ef_search 40: $j");
cmp_ok($j, '>=', 0.9, "Jaccard: the index finds the nearest (ef_search 40: $j)");

done_testing();

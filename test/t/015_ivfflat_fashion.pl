# ivfflat recall on real data: the Fashion-MNIST images of VxTap's
# vx_fashion_node, the test images as queries.  An IVFFlat scan returns the
# exact nearest rows of the lists it probes (src/ivfpq/ivfpq.h, IVFFLAT),
# so:
#  - with every list probed it equals an exact scan;
#  - at each probes setting its recall is that of an exact search of the
#    probed lists, which rises with probes (floors here: 0.94 at probes 4,
#    0.985 at 8, of 40 lists; the comparison with pgvector and faiss at
#    pgvector's 245 lists on all 60000 images is bench/run ivfflat's);
#  - halfvec answers as vector does (pixel values are exact in binary16);
#  - the index is a quarter of the vectors' size plus the TIDs.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_fashion_node('ivfflat_fashion', conf => "maintenance_work_mem = 256MB\nshared_buffers = 256MB\njit = off\n");
my $n = vx_n(10000, 2000);
my $lists = vx_n(40, 8);

my ($ret, $out, $err, $perr) = vx_build_with_progress($node,
	"CREATE INDEX items_f ON items USING ivfflat (v vector_l2_ops) WITH (lists = $lists)");
is($ret, 0, 'index built');
like($perr, qr/phases:.*building index: training centroids/, 'progress shows training');
is($node->safe_psql('postgres', q{SELECT ok, problems FROM vectorx_ivfpq_check('items_f')}), 't|{}',
	'it passes vectorx_ivfpq_check');
my $plan = $node->safe_psql('postgres',
	'EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <-> (SELECT v FROM queries WHERE id = 1) LIMIT 10');
like($plan, qr/Index Scan using items_f on items/, 'the planner uses it for ORDER BY ... LIMIT');

my $bytes = $node->safe_psql('postgres', "SELECT value FROM vectorx_index_stats('items_f') WHERE stat = 'bytes_per_vector'");
note("bytes per vector: $bytes");
cmp_ok($bytes, '<', 3136 / 3, "the index takes under a third of the raw vectors' bytes ($bytes per vector)");

my %r;
for my $p (1, 2, 4, 8)
{
	$r{$p} = vx_recall_at_10($node, "SET ivfflat.probes = $p;");
	note("recall\@10 at probes $p: $r{$p}");
}
cmp_ok($r{2}, '>=', $r{1}, 'recall rises from probes 1 to 2');
cmp_ok($r{4}, '>=', $r{2}, 'and to 4');
cmp_ok($r{8}, '>=', $r{4}, 'and to 8');
cmp_ok($r{4}, '>=', 0.94, "probes 4: recall\@10 $r{4}");
cmp_ok($r{8}, '>=', 0.985, "probes 8: recall\@10 $r{8}");
is(vx_recall_at_10($node, "SET ivfflat.probes = $lists;"), '1.0000', 'every list probed: exact');

# the rows of one query come in exact distance order with exact distances
is($node->safe_psql('postgres', q{
	SET ivfflat.probes = 4;
	SELECT bool_and(d >= prev) AND bool_and(d = e)
	FROM (SELECT d, e, lag(d, 1, 0.0) OVER (ORDER BY n) AS prev FROM (
		SELECT i.v <-> q.v AS d, (i.v <-> q.v) + 0 AS e, row_number() OVER () AS n
		FROM queries q, LATERAL (SELECT v FROM items ORDER BY v <-> q.v LIMIT 50) i WHERE q.id = 3) a) b}),
	't', 'results in exact order with exact distances');

# halfvec: the same answers
$node->safe_psql('postgres', qq{
	CREATE TABLE hitems (id int PRIMARY KEY, v halfvec(784));
	INSERT INTO hitems SELECT id, v FROM items;
	CREATE INDEX hitems_f ON hitems USING ivfflat (v halfvec_l2_ops) WITH (lists = $lists);
});
my $half = $node->safe_psql('postgres', q{
	SET ivfflat.probes = 4;
	WITH exact AS (
		SELECT q.id AS qid, (SELECT max(d) FROM (
			SELECT (i.v <-> q.v::halfvec) + 0 AS d FROM hitems i ORDER BY 1 LIMIT 10) s) AS kth
		FROM queries q),
	approx AS (
		SELECT q.id AS qid, i.v <-> q.v::halfvec AS d
		FROM queries q, LATERAL (SELECT v FROM hitems ORDER BY v <-> q.v::halfvec LIMIT 10) i)
	SELECT round(count(*) FILTER (WHERE a.d <= e.kth + 1e-6)::numeric / (10 * (SELECT count(*) FROM queries)), 4)
	FROM approx a JOIN exact e USING (qid)});
note("halfvec recall\@10 at probes 4: $half");
cmp_ok($half, '>=', $r{4} - 0.02, "halfvec ($half) answers as vector ($r{4}) within 0.02 (its own k-means sample)");

$node->stop;
done_testing();

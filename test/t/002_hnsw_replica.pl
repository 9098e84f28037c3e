# A streaming replica answers the same k-NN queries as its primary, through
# builds, inserts, deletes and vacuum replayed from WAL.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $primary = vx_node('primary', streaming => 1);
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

my $rowvec = vx_rand_vec_sql(32, 'g');
$primary->safe_psql('postgres', qq{
	CREATE TABLE items (id bigserial PRIMARY KEY, v vector(32));
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, 3000) g;
});
# built after the table is visible to the standby: the build's pages arrive as WAL
$primary->safe_psql('postgres', 'CREATE INDEX items_v ON items USING hnsw (v vector_cosine_ops) WITH (m = 12, ef_construction = 40)');
$primary->safe_psql('postgres', qq{
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, 1000) g;
	DELETE FROM items WHERE id % 5 = 0;
	VACUUM items;
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, 500) g;
	CREATE TABLE queries AS SELECT g AS qid, $rowvec AS v FROM generate_series(1, 20) g;
});
$primary->wait_for_catchup($standby);

my $knn = q{
	SET enable_seqscan = off;
	SET hnsw.ef_search = 60;
	SELECT string_agg(ids, ' ' ORDER BY qid) FROM (
		SELECT q.qid, (SELECT string_agg(id::text, ',' ORDER BY rn) FROM
			(SELECT id, row_number() OVER () AS rn FROM
				(SELECT id FROM items ORDER BY v <=> q.v LIMIT 10) s) t) AS ids
		FROM queries q) r;
};
my $on_primary = $primary->safe_psql('postgres', $knn);
my $on_standby = $standby->safe_psql('postgres', $knn);
isnt($on_primary, '', 'primary answers');
is($on_standby, $on_primary, 'the standby returns the same neighbours, in the same order');
is(vx_check_ok($standby, 'items_v'), vx_check_ok($primary, 'items_v'),
	'the replayed index gets the same vectorx_hnsw_check verdict as the primary');
# inserts can leave a few elements cut off until the next VACUUM (hnsw.h,
# I6); after it, both indexes pass the check
$primary->safe_psql('postgres', 'VACUUM items');
$primary->wait_for_catchup($standby);
is(vx_check_ok($standby, 'items_v'), 't|{}', 'after VACUUM the replayed index passes vectorx_hnsw_check');
is($standby->safe_psql('postgres', "SELECT heap_tids FROM vectorx_hnsw_check('items_v')"),
	$primary->safe_psql('postgres', "SELECT heap_tids FROM vectorx_hnsw_check('items_v')"),
	'primary and standby indexes hold the same number of rows');

# a bit index (its codes are the bits, hnsw.h VECTORS) through the same
# WAL: build, inserts, deletes, VACUUM; ties are broken by id so both
# answers are one list
my $rowbits = q{(('x' || md5(g::text || 'a'))::bit(128)::text || ('x' || md5(g::text || 'b'))::bit(128)::text)::bit(256)};
$primary->safe_psql('postgres', qq{
	CREATE TABLE bitems (id bigserial PRIMARY KEY, b bit(256));
	INSERT INTO bitems (b) SELECT $rowbits FROM generate_series(1, 2000) g;
	CREATE INDEX bitems_b ON bitems USING hnsw (b bit_jaccard_ops) WITH (m = 8);
	INSERT INTO bitems (b) SELECT $rowbits FROM generate_series(2001, 2600) g;
	DELETE FROM bitems WHERE id % 7 = 0;
	VACUUM bitems;
});
$primary->wait_for_catchup($standby);
my $bknn = q{
	SET enable_seqscan = off;
	SELECT string_agg(ids, ' ' ORDER BY qid) FROM (
		SELECT q.id AS qid, (SELECT string_agg(id::text || ':' || round(d::numeric, 6), ',' ORDER BY d, id) FROM
			(SELECT id, b <%> q.b AS d FROM bitems ORDER BY b <%> q.b LIMIT 10) s) AS ids
		FROM bitems q WHERE q.id % 97 = 1) r;
};
my $bprimary = $primary->safe_psql('postgres', $bknn);
isnt($bprimary, '', 'primary answers through the bit index');
is($standby->safe_psql('postgres', $bknn), $bprimary, 'the standby answers the same through the replayed bit index');
is(vx_check_ok($standby, 'bitems_b'), 't|{}', 'the replayed bit index passes vectorx_hnsw_check');

$standby->stop;
$primary->stop;
done_testing();

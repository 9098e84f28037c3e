# IVF-PQ on a streaming standby, with wal_consistency_checking on the
# primary: the standby replays the build's pages and every generic record
# of inserts (new list pages, directory updates) and vacuum (compaction,
# insert pointers), compares each replayed page with its logged image,
# answers the same k-NN queries as the primary, in the same order, and its
# indexes pass vectorx_ivfpq_check with the primary's figures.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $primary = vx_node('ivf_primary', streaming => 1,
	conf => "wal_consistency_checking = 'all'\n");
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('ivf_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

my $rowvec = vx_rand_vec_sql(24, 'g');
$primary->safe_psql('postgres', qq{
	-- no autovacuum: an autoanalyze running beside the VACUUM below once
	-- kept it from removing some deleted rows, and the entry counts differed
	CREATE TABLE items (id bigserial PRIMARY KEY, v vector(24)) WITH (autovacuum_enabled = false);
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, 2000) g;
	CREATE INDEX items_v ON items USING ivfpq (v) WITH (lists = 16, m = 6);
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, 3000) g;
	DELETE FROM items WHERE id % 3 <> 0;
	VACUUM items;
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, 800) g;
	CREATE TABLE empty_then (v vector(24));
	CREATE INDEX empty_then_v ON empty_then USING ivfpq (v vector_cosine_ops);
	INSERT INTO empty_then SELECT $rowvec FROM generate_series(1, 100) g;
	CREATE UNLOGGED TABLE scratch (v vector(3));
	CREATE INDEX ON scratch USING ivfpq (v);
	-- ivfflat: the same pages and records, entries of 8-bit codes
	CREATE TABLE fitems (id bigserial PRIMARY KEY, v vector(24)) WITH (autovacuum_enabled = false);
	INSERT INTO fitems (v) SELECT $rowvec FROM generate_series(1, 2000) g;
	CREATE INDEX fitems_v ON fitems USING ivfflat (v) WITH (lists = 16);
	INSERT INTO fitems (v) SELECT $rowvec FROM generate_series(1, 3000) g;
	DELETE FROM fitems WHERE id % 3 <> 0;
	VACUUM fitems;
	INSERT INTO fitems (v) SELECT $rowvec FROM generate_series(1, 800) g;
});
$primary->wait_for_catchup($standby);

ok($standby->safe_psql('postgres', 'SELECT 1') eq '1', 'the standby replayed everything and is alive');
unlike(slurp_file($standby->logfile), qr/inconsistent page found/, 'no replayed page differs from its logged image');

my $knn = q{
	SET enable_seqscan = off;
	SET ivfpq.probes = 4;
	SET ivfpq.rerank = 50;
	SELECT string_agg(r, ';' ORDER BY q.id) FROM (SELECT id, v FROM items WHERE id % 97 = 0) q,
	LATERAL (SELECT string_agg(i.id::text, ',') AS r FROM
	         (SELECT id FROM items ORDER BY v <-> q.v LIMIT 10) i) s;
};
my $on_primary = $primary->safe_psql('postgres', $knn);
ok(length($on_primary) > 100, 'the primary answers');
is($standby->safe_psql('postgres', $knn), $on_primary, 'the standby answers the same k-NN queries alike');
my $fknn = q{
	SET enable_seqscan = off;
	SET ivfflat.probes = 4;
	SELECT string_agg(r, ';' ORDER BY q.id) FROM (SELECT id, v FROM fitems WHERE id % 97 = 0) q,
	LATERAL (SELECT string_agg(i.id::text, ',') AS r FROM
	         (SELECT id FROM fitems ORDER BY v <-> q.v LIMIT 10) i) s;
};
my $f_primary = $primary->safe_psql('postgres', $fknn);
ok(length($f_primary) > 100, 'the primary answers through ivfflat');
is($standby->safe_psql('postgres', $fknn), $f_primary, 'the standby answers the same through the replayed ivfflat index');
is($standby->safe_psql('postgres', "SELECT value FROM vectorx_index_stats('items_v') WHERE stat = 'entries'"),
	$primary->safe_psql('postgres', 'SELECT count(*) FROM items'), 'the replayed index holds every row');

# the check reads the replayed pages as the primary's (read-only: it runs
# on the standby too); the unlogged index cannot be read during recovery
my $figures = q{SELECT ok, pages, lists, empty_lists, list_pages, max_chain, entries, heap_tids, new_pages, problems
	FROM vectorx_ivfpq_check('%s')};
for my $idx ('items_v', 'empty_then_v', 'fitems_v')
{
	is(vx_ivfpq_check_ok($primary, $idx), 't|{}', "$idx passes vectorx_ivfpq_check on the primary");
	is(vx_ivfpq_check_ok($standby, $idx), 't|{}', "$idx passes vectorx_ivfpq_check on the standby");
	is($standby->safe_psql('postgres', sprintf($figures, $idx)), $primary->safe_psql('postgres', sprintf($figures, $idx)),
		"$idx: the standby's check counts what the primary's does");
}
is($primary->safe_psql('postgres', "SELECT heap_tids FROM vectorx_ivfpq_check('items_v')"),
	$primary->safe_psql('postgres', 'SELECT count(*) FROM items'), 'one entry per row');
is(vx_ivfpq_check_ok($primary, 'scratch_v_idx'), 't|{}', 'the unlogged index passes on the primary');

$standby->stop;
$primary->stop;
done_testing();

# wal_consistency_checking: a standby replays every HNSW WAL record (the
# build's full pages, generic records of inserts, vacuum and list repairs)
# and compares each replayed page with the full-page image the primary
# logged with it; any difference stops the standby with FATAL.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $primary = vx_node('walcheck_primary', streaming => 1,
	conf => "wal_consistency_checking = 'all'\n");
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('walcheck_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

my $rowvec = vx_rand_vec_sql(24, 'g');
$primary->safe_psql('postgres', qq{
	CREATE TABLE items (id bigserial PRIMARY KEY, v vector(24));
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, 1500) g;
});
$primary->safe_psql('postgres', 'CREATE INDEX items_v ON items USING hnsw (v) WITH (m = 6, ef_construction = 24)');
# inserts that allocate, extend, prune full lists and move the entry point;
# deletes and vacuum that repair, reconnect and free; inserts that reuse
$primary->safe_psql('postgres', qq{
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, 1500) g;
	DELETE FROM items WHERE id % 3 <> 0;
	VACUUM items;
	INSERT INTO items (v) SELECT $rowvec FROM generate_series(1, 800) g;
	VACUUM items;
});
# an unlogged index's init fork
$primary->safe_psql('postgres', qq{
	CREATE UNLOGGED TABLE scratch (v vector(3));
	CREATE INDEX ON scratch USING hnsw (v);
});
$primary->wait_for_catchup($standby);

ok($standby->safe_psql('postgres', 'SELECT 1') eq '1', 'the standby replayed everything and is alive');
my $log = slurp_file($standby->logfile);
unlike($log, qr/inconsistent page found/, 'no replayed page differs from its logged image');
is(vx_check_ok($standby, 'items_v'), 't|{}', 'the replayed index passes vectorx_hnsw_check');

$standby->stop;
$primary->stop;
done_testing();

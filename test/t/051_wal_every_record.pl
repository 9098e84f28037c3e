# wal_consistency_checking = 'all' over every kind of WAL record the two
# access methods write: a streaming standby replays each record and
# compares every page it touched with the full-page image the primary
# logged with it; a difference stops the standby with FATAL "inconsistent
# page found".  Each phase below is a range of WAL whose records
# pg_waldump counts (the test requires records in every range, and the
# counts are printed as the WAL figures of the harness):
#   hnsw build       serial in memory, parallel, serial and parallel builds
#                    that outgrow maintenance_work_mem and continue on disk
#                    (hnsw.h W5), an unlogged index's init fork
#   hnsw wide        elements that span pages: 4096 and 16000 dimensions,
#                    built, inserted (W1-W3), deleted and vacuumed
#   hnsw dml         inserts that allocate, extend, prune and move the entry
#                    point (W1-W4); deletes and VACUUM that repair,
#                    reconnect and free; inserts that reuse freed space
#   ivfpq build      trained (4096 dimensions: centroids and codebooks span
#                    pages), untrained, unlogged
#   ivfpq dml        inserts into pages with room, first pages of empty
#                    lists, chain extensions (ivfpq.h W1-W3); VACUUM's
#                    compaction and insert pointer (W4, W5); inserts after it
# Afterwards both structural checks (vectorx_hnsw_check,
# vectorx_ivfpq_check) pass on the standby and it answers k-NN queries as
# the primary does.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $primary = vx_node('walall_primary', streaming => 1,
	conf => "wal_consistency_checking = 'all'\nmax_worker_processes = 8\n"
	  . "max_parallel_maintenance_workers = 1\nmaintenance_work_mem = 64MB\n");
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('walall_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

my %records;    # phase => { rmgr/kind => count }
my @phases;

# run $sql on the primary as phase $name and count its WAL records
sub phase
{
	my ($name, $sql) = @_;
	my $start = $primary->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
	my ($ret, $out, $err) = $primary->psql('postgres', $sql);
	is($ret, 0, "$name: ran") or diag($err);
	my $end = $primary->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
	$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
	my ($stdout, $stderr) = run_command(
		[ 'pg_waldump', '--stats=record', '-p', $primary->data_dir . '/pg_wal', '-s', $start, '-e', $end ]);
	my %n;
	for (split /\n/, $stdout)
	{
		$n{$1} = $2 if /^(\w+\/\w+)\s+(\d+)\s+\(/ && $2 > 0;
	}
	my $total = 0;
	$total += $_ for values %n;
	cmp_ok($total, '>', 0, "$name: WAL records written ($total)");
	note("$name: " . join(', ', map { "$_ $n{$_}" } sort keys %n));
	$records{$name} = \%n;
	push @phases, $name;
	return $err;
}

my $v16 = vx_rand_vec_sql(16, 'g');
my $err = phase('hnsw build', qq{
	SET client_min_messages = debug1;
	CREATE TABLE hb (id int PRIMARY KEY, v vector(16)) WITH (parallel_workers = 1);
	INSERT INTO hb SELECT g, $v16 FROM generate_series(1, 300) g;
	ANALYZE hb;
	SET max_parallel_maintenance_workers = 0;
	CREATE INDEX hb_mem ON hb USING hnsw (v) WITH (m = 8, ef_construction = 32);
	INSERT INTO hb SELECT g, $v16 FROM generate_series(301, @{[vx_n(4000, 1500)]}) g;
	CREATE INDEX hb_mem_grown ON hb USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 32);
	-- a serial build grows its arena up to maintenance_work_mem, then
	-- continues on disk: 4000 elements of 256 dimensions need more than 1 MB
	CREATE TABLE hbs (id int PRIMARY KEY, v vector(256));
	INSERT INTO hbs SELECT g, @{[vx_rand_vec_sql(256, 'g')]} FROM generate_series(1, 4000) g;
	SET maintenance_work_mem = '1MB';
	CREATE INDEX hb_spill ON hbs USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 32);
	RESET maintenance_work_mem;
	RESET max_parallel_maintenance_workers;
	CREATE INDEX hb_parallel_spill ON hb USING hnsw (v vector_l1_ops) WITH (m = 8, ef_construction = 32);
	ANALYZE hb;
	CREATE INDEX hb_parallel ON hb USING hnsw (v vector_ip_ops) WITH (m = 8, ef_construction = 32);
	CREATE UNLOGGED TABLE hu (v vector(3));
	CREATE INDEX ON hu USING hnsw (v);
});
like($err, qr/hnsw build: parallel, 1 workers and the leader/, 'hnsw build: a parallel build ran');
like($err, qr/no longer fits in maintenance_work_mem/, 'hnsw build: a build continued on disk');

phase('hnsw wide', qq{
	CREATE TABLE hw4 (id int PRIMARY KEY, v vector(4096));
	INSERT INTO hw4 SELECT g, @{[vx_rand_vec_sql(4096, 'g')]} FROM generate_series(1, @{[vx_n(120, 40)]}) g;
	CREATE INDEX hw4_v ON hw4 USING hnsw (v) WITH (m = 4, ef_construction = 16);
	INSERT INTO hw4 SELECT g, @{[vx_rand_vec_sql(4096, 'g')]} FROM generate_series(1001, @{[vx_n(1060, 1020)]}) g;
	CREATE TABLE hw16 (id int PRIMARY KEY, v vector(16000));
	INSERT INTO hw16 SELECT g, @{[vx_rand_vec_sql(16000, 'g')]} FROM generate_series(1, @{[vx_n(30, 12)]}) g;
	CREATE INDEX hw16_v ON hw16 USING hnsw (v vector_cosine_ops) WITH (m = 4, ef_construction = 16);
	INSERT INTO hw16 SELECT g, @{[vx_rand_vec_sql(16000, 'g')]} FROM generate_series(1001, @{[vx_n(1020, 1008)]}) g;
	DELETE FROM hw4 WHERE id % 3 = 0;
	DELETE FROM hw16 WHERE id % 3 = 0;
	VACUUM hw4;
	VACUUM hw16;
	INSERT INTO hw4 SELECT g, @{[vx_rand_vec_sql(4096, 'g')]} FROM generate_series(2001, 2010) g;
	INSERT INTO hw16 SELECT g, @{[vx_rand_vec_sql(16000, 'g')]} FROM generate_series(2001, 2005) g;
});

phase('hnsw dml', qq{
	CREATE TABLE hd (id int PRIMARY KEY, v vector(16)) WITH (autovacuum_enabled = false);
	INSERT INTO hd SELECT g, $v16 FROM generate_series(1, 500) g;
	CREATE INDEX hd_v ON hd USING hnsw (v) WITH (m = 4, ef_construction = 16);
	INSERT INTO hd SELECT g, $v16 FROM generate_series(501, @{[vx_n(2500, 1200)]}) g;
	DELETE FROM hd WHERE id % 3 <> 0;
	VACUUM hd;
	INSERT INTO hd SELECT g, $v16 FROM generate_series(5001, 5400) g;
	DELETE FROM hd WHERE id % 5 = 0;
	VACUUM hd;
});

phase('ivfpq build', qq{
	CREATE TABLE ib (id int PRIMARY KEY, v vector(4096));
	INSERT INTO ib SELECT g, @{[vx_rand_vec_sql(4096, 'g')]} FROM generate_series(1, @{[vx_n(300, 100)]}) g;
	CREATE INDEX ib_v ON ib USING ivfpq (v) WITH (lists = 4, m = 64, nbits = 4);
	CREATE TABLE ie (id int, v vector(16));
	CREATE INDEX ie_v ON ie USING ivfpq (v vector_cosine_ops);
	CREATE UNLOGGED TABLE iu (v vector(3));
	CREATE INDEX ON iu USING ivfpq (v);
});

phase('ivfpq dml', qq{
	CREATE TABLE id_ (id int PRIMARY KEY, v vector(16)) WITH (autovacuum_enabled = false);
	INSERT INTO id_ SELECT g, $v16 FROM generate_series(1, 2000) g;
	CREATE INDEX id_v ON id_ USING ivfpq (v) WITH (lists = 16, m = 4);
	INSERT INTO id_ SELECT g, $v16 FROM generate_series(2001, @{[vx_n(6000, 3000)]}) g;
	INSERT INTO ie SELECT g, $v16 FROM generate_series(1, 300) g;
	INSERT INTO ib SELECT g, @{[vx_rand_vec_sql(4096, 'g')]} FROM generate_series(1001, 1020) g;
	DELETE FROM id_ WHERE id % 3 <> 0;
	VACUUM id_;
	INSERT INTO id_ SELECT g, $v16 FROM generate_series(10001, 10500) g;
});

$primary->wait_for_catchup($standby);
ok($standby->safe_psql('postgres', 'SELECT 1') eq '1', 'the standby replayed everything and is alive');
unlike(slurp_file($standby->logfile), qr/inconsistent page found/, 'no replayed page differs from its logged image');

# built and left alone, or vacuumed last: whole
for my $idx (qw(hb_spill hb_mem_grown hb_parallel_spill hb_parallel hd_v))
{
	is(vx_check_ok($standby, $idx), 't|{}', "$idx passes vectorx_hnsw_check on the standby");
}
# inserted into since the last VACUUM: an insert's pruning may cut off (I6)
for my $idx (qw(hb_mem hw4_v hw16_v))
{
	is(vx_check_ok_but_cutoffs($standby, $idx), 't|{}', "$idx passes vectorx_hnsw_check on the standby (cut-offs aside)");
}

for my $idx (qw(ib_v ie_v id_v))
{
	is($standby->safe_psql('postgres', "SELECT ok || '|' || problems::text FROM vectorx_ivfpq_check('$idx')"),
		'true|{}', "$idx passes vectorx_ivfpq_check on the standby");
}

# the standby answers as the primary does, through every index
my %queries = (hb => [ 'hb', '<->', 'hnsw.ef_search = 40' ], hw4 => [ 'hw4', '<->', 'hnsw.ef_search = 40' ],
	hw16 => [ 'hw16', '<=>', 'hnsw.ef_search = 40' ], hd => [ 'hd', '<->', 'hnsw.ef_search = 40' ],
	ib => [ 'ib', '<->', 'ivfpq.probes = 2' ], id_ => [ 'id_', '<->', 'ivfpq.probes = 4' ]);
for my $q (sort keys %queries)
{
	my ($t, $op, $set) = @{ $queries{$q} };
	my $knn = qq{
		SET enable_seqscan = off; SET $set;
		SELECT string_agg(r, ';' ORDER BY q.id) FROM (SELECT id, v FROM $t WHERE id % 7 = 1) q,
		LATERAL (SELECT string_agg(i.id::text, ',') AS r FROM
		         (SELECT id FROM $t ORDER BY v $op q.v LIMIT 5) i) s;
	};
	my $p = $primary->safe_psql('postgres', $knn);
	isnt($p, '', "$t: the primary answers");
	is($standby->safe_psql('postgres', $knn), $p, "$t: the standby answers alike");
}

# the access methods' own records: generic WAL (inserts, vacuum) in every
# phase that changes an index after its build, the builds' page images
# (XLOG/FPI) in the build phases
my ($generic, $fpi) = (0, 0);
for my $ph (@phases)
{
	my $g = $records{$ph}{'Generic/Generic'} // 0;
	my $f = $records{$ph}{'XLOG/FPI'} // 0;
	cmp_ok($g, '>', 0, "$ph: generic WAL records ($g)") unless $ph eq 'ivfpq build';
	cmp_ok($f, '>', 0, "$ph: build page images ($f records)") if $ph =~ /build|wide/;
	$generic += $g;
	$fpi += $f;
}
note("WAL records of the access methods replayed and checked by the standby: $generic generic, $fpi page-image records");

$standby->stop;
$primary->stop;
done_testing();

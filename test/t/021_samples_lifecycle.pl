# The files of recorded query vectors (vectorx.query_sample_rate) live and
# die with their index and their database, stay out of base backups, and
# survive damage and concurrent writers: a DROP INDEX in a session that had
# not loaded vectorx removes them, so does DROP INDEX CONCURRENTLY, a
# database created with a dropped database's OID finds none, a torn or
# corrupted record is skipped rather than read as a vector, writers rotating
# at once lose nothing, and pg_basebackup copies none.
use strict;
use warnings;
use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_node('samples', streaming => 1);
my $pgdata = $node->data_dir;

# sample files anywhere in a data directory, whatever their layout: files
# in a directory whose name says vectorx.  Each as "path".
sub sample_files
{
	my ($dir) = @_;
	my @found;
	find({ wanted => sub { push @found, $File::Find::name if -f $_ && $File::Find::dir =~ /vectorx/ },
		no_chdir => 0 }, $dir);
	my @sorted = sort @found;
	return @sorted;
}

# those of one index (by OID), in the data directory
sub index_files
{
	my ($oid) = @_;
	return grep { m{[/_]$oid(\.old)?$} } sample_files($pgdata);
}

# run queries through an index with every query vector recorded
sub record_queries
{
	my ($db, $table, @queries) = @_;
	my $sql = "SET vectorx.query_sample_rate = 1;\nSET enable_seqscan = off;\n";
	$sql .= "SELECT count(*) FROM (SELECT 1 FROM $table ORDER BY v <-> '$_' LIMIT 1) s;\n" for @queries;
	$node->safe_psql($db, $sql);
}

sub oid_of
{
	my ($db, $rel) = @_;
	return $node->safe_psql($db, "SELECT '$rel'::regclass::oid");
}

$node->safe_psql('postgres', q{
	CREATE TABLE t (id int, v vector(3));
	INSERT INTO t SELECT g, ARRAY[g % 10, g % 7, g % 5] FROM generate_series(1, 300) g;
	CREATE INDEX t_a ON t USING hnsw (v);
});

# ---- DROP INDEX in a fresh session (vectorx not loaded when the drop hook fires)
my $a = oid_of('postgres', 't_a');
record_queries('postgres', 't', '[1,1,1]', '[2,2,2]');
is(scalar(index_files($a)), 1, 'recorded queries are in a file of the index');
$node->safe_psql('postgres', 'DROP INDEX t_a');
is_deeply([ index_files($a) ], [], 'DROP INDEX in a fresh session removes the index\'s samples');

# ---- DROP INDEX CONCURRENTLY (its last transaction drops the catalog rows)
$node->safe_psql('postgres', 'CREATE INDEX t_b ON t USING hnsw (v)');
my $b = oid_of('postgres', 't_b');
$node->safe_psql('postgres', q{
	SET vectorx.query_sample_rate = 1;
	SET enable_seqscan = off;
	SELECT count(*) FROM (SELECT 1 FROM t ORDER BY v <-> '[3,3,3]' LIMIT 1) s;
	DROP INDEX CONCURRENTLY t_b;
});
is_deeply([ index_files($b) ], [], 'DROP INDEX CONCURRENTLY removes them too');

# ---- a rolled-back DROP keeps them
$node->safe_psql('postgres', 'CREATE INDEX t_c ON t USING hnsw (v)');
my $c = oid_of('postgres', 't_c');
record_queries('postgres', 't', '[4,4,4]');
$node->safe_psql('postgres', 'BEGIN; DROP TABLE t; ROLLBACK;');
$node->safe_psql('postgres', 'BEGIN; SAVEPOINT s; DROP INDEX t_c; ROLLBACK TO s; COMMIT;');
is($node->safe_psql('postgres', "SELECT string_agg(q::text, ' ') FROM vectorx_sampled_queries('t_c') q"),
	'[4,4,4]', 'a rolled-back DROP keeps them, to a savepoint too');

# ---- torn and corrupted records are skipped, not read as vectors
record_queries('postgres', 't', '[5,5,5]', '[6,6,6]');
my ($file) = index_files($c);
my $rec = 12 + 3 * 4;	# header (magic, dims, CRC) and three floats
is(-s $file, 3 * $rec, 'three records of 24 bytes');
open(my $fh, '+<', $file) or die "open $file: $!";
binmode $fh;
# corrupt a float of the second record ([5,5,5]) ...
seek($fh, $rec + 12 + 1, 0);
read($fh, my $byte, 1);
seek($fh, $rec + 12 + 1, 0);
print $fh chr(ord($byte) ^ 0x40);
# ... and tear the third ([6,6,6]) as a crash or a full disk would
truncate($fh, 3 * $rec - 5) or die "truncate: $!";
close $fh;
record_queries('postgres', 't', '[7,7,7]');
is($node->safe_psql('postgres', "SELECT string_agg(q::text, ' ') FROM vectorx_sampled_queries('t_c') q"),
	'[4,4,4] [7,7,7]', 'damaged records are skipped, the records after them read');
ok($node->log_contains(qr/skipped ${\($rec + $rec - 5)} bytes of damaged query samples/),
	'and the skipped bytes are logged');
is($node->safe_psql('postgres', "SELECT queries FROM vectorx_recall_sampled('t_c', 5)"), '2',
	'vectorx_recall_sampled evaluates the intact ones');

# ---- concurrent writers and rotation lose nothing: with rotation every 10
# records, the files hold 10 + (recorded mod 10) of them
$node->safe_psql('postgres', 'DROP INDEX t_c; CREATE INDEX t_d ON t USING hnsw (v)');
my $clients = 8;
my $per_client = 101;
$node->pgbench("-n -c $clients -j 4 -t $per_client", 0,
	[qr/number of failed transactions: 0/], [qr/^$/],
	'concurrent index scans recording every query',
	{
		'sample' => q{
			SET vectorx.query_sample_rate = 1;
			SET vectorx.query_sample_size = 10;
			SET enable_seqscan = off;
			SELECT 1 FROM t ORDER BY v <-> '[1,2,3]' LIMIT 1;
		},
	});
is($node->safe_psql('postgres', "SELECT count(*) FROM vectorx_sampled_queries('t_d')"),
	10 + ($clients * $per_client) % 10, 'no sample lost to concurrent rotation');

# ---- base backups carry none of them
ok(scalar(sample_files($pgdata)) > 0, 'the primary has sample files');
$node->backup('bk');
is_deeply([ sample_files($node->backup_dir . '/bk') ], [], 'pg_basebackup copies no sample file');

# ---- DROP DATABASE removes its files; a database with the same OID starts empty
$node->safe_psql('postgres', 'CREATE DATABASE gone');
$node->safe_psql('gone', q{
	CREATE EXTENSION vectorx;
	CREATE TABLE g (v vector(3));
	INSERT INTO g SELECT ARRAY[i, 1, 2] FROM generate_series(1, 50) i;
	CREATE INDEX g_i ON g USING hnsw (v);
});
my $dboid = $node->safe_psql('postgres', "SELECT oid FROM pg_database WHERE datname = 'gone'");
record_queries('gone', 'g', '[8,8,8]');
my @db_files = grep { m{/base/$dboid/|/${dboid}_} } sample_files($pgdata);
is(scalar(@db_files), 1, 'the database has a sample file');
$node->safe_psql('postgres', 'DROP DATABASE gone');
is_deeply([ grep { m{/base/$dboid/|/${dboid}_} } sample_files($pgdata) ], [],
	'DROP DATABASE removes it');
$node->safe_psql('postgres', "CREATE DATABASE reborn OID = $dboid");
$node->safe_psql('reborn', q{
	CREATE EXTENSION vectorx;
	CREATE TABLE g (v vector(3));
	CREATE INDEX g_i ON g USING hnsw (v);
});
is($node->safe_psql('reborn', "SELECT count(*) FROM vectorx_sampled_queries('g_i')"), '0',
	'a database reusing the OID inherits no samples');

$node->stop;
done_testing();

# Corrupt index pages raise ERRCODE_INDEX_CORRUPTED (XX002), never crash the
# server, read out of bounds, divide by zero or loop forever.  Builds small
# HNSW and IVF-PQ indexes, then, with the server stopped, overwrites chosen
# fields of their files (offsets from the byte tables of src/hnsw/hnsw.h and
# src/ivfpq/ivfpq.h; 8 kB pages, the data area after a 24-byte page header),
# restarts, and runs scans, inserts, VACUUM and the checkers: each must
# succeed or fail with XX002 (the ones named per case must fail so), and no
# backend may die.  Each case starts again from the intact files.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = vx_node('corrupt', conf => "restart_after_crash = on\nautovacuum = off");
$node->safe_psql('postgres', q{
	CREATE TABLE th (id int, v vector(4));
	INSERT INTO th SELECT g, ARRAY[sin(g), cos(g), sin(2 * g), cos(3 * g)]::vector(4)
	  FROM generate_series(1, 600) g;
	CREATE INDEX th_idx ON th USING hnsw (v vector_l2_ops) WITH (m = 4);
	CREATE TABLE ti (id int, v vector(4));
	INSERT INTO ti SELECT g, ARRAY[sin(g), cos(g), sin(2 * g), cos(3 * g)]::vector(4)
	  FROM generate_series(1, 600) g;
	CREATE INDEX ti_idx ON ti USING ivfpq (v vector_l2_ops) WITH (lists = 4, m = 2);
	CHECKPOINT;
});
my %file;
for my $idx ('th_idx', 'ti_idx')
{
	$file{$idx} = $node->data_dir . '/'
	  . $node->safe_psql('postgres', "SELECT pg_relation_filepath('$idx')");
}
$node->stop;
my %orig = map { $_ => slurp_file($file{$_}) } keys %file;

use constant PAGE => 8192;
use constant HDR => 24;    # MAXALIGN(SizeOfPageHeaderData): where data starts
use constant HNSW_DATA_SIZE => PAGE - HDR - 8;

sub put
{
	my ($bytes, $off, $fmt, $val) = @_;
	my $packed = pack($fmt, $val);
	substr($$bytes, $off, length($packed)) = $packed;
}

sub get
{
	my ($bytes, $off, $fmt, $len) = @_;
	return unpack($fmt, substr($bytes, $off, $len));
}

# HNSW meta page (HnswMetaPageData at HDR)
my $h = $orig{th_idx};
my $entry = get($h, HDR + 20, 'L', 4);
# an element id's record: block 1 + off / HNSW_DATA_SIZE, at HDR + off % size
sub hnsw_pos
{
	my ($id) = @_;
	my $off = $id * 16;
	return (1 + int($off / HNSW_DATA_SIZE)) * PAGE + HDR + $off % HNSW_DATA_SIZE;
}
my $ep = hnsw_pos($entry);

# IVF-PQ meta page (IvfpqMetaPageData at HDR) and the first list's chain
my $iv = $orig{ti_idx};
my $dir_start = get($iv, HDR + 36, 'L', 4);
my $data_start = get($iv, HDR + 40, 'L', 4);
my $head = get($iv, $dir_start * PAGE + HDR, 'L', 4);
my $special = PAGE - 24;    # MAXALIGN(sizeof(IvfpqPageOpaqueData))

my @scan_h = ('scan', 'SET enable_seqscan = off; SELECT id FROM th ORDER BY v <-> \'[0.5,0.5,0.5,0.5]\' LIMIT 5');
my @insert_h = ('insert', "INSERT INTO th VALUES (100000, '[0.1,0.2,0.3,0.4]')");
my @vacuum_h = ('vacuum', 'DELETE FROM th WHERE id % 50 = 0; VACUUM th');
my @check_h = ('check', "SELECT count(*) FROM vectorx_hnsw_check('th_idx')");
my @scan_i = ('scan', "SET enable_seqscan = off; SET ivfpq.probes = 4; SELECT id FROM ti ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5");
my @insert_i = ('insert', "INSERT INTO ti VALUES (100000, '[0.1,0.2,0.3,0.4]')");
my @vacuum_i = ('vacuum', 'DELETE FROM ti WHERE id % 50 = 0; VACUUM ti');
my @stats_i = ('stats', "SELECT count(*) FROM vectorx_index_stats('ti_idx')");
my @hnsw_ops = (\@scan_h, \@insert_h, \@vacuum_h, \@check_h);
my @ivf_ops = (\@scan_i, \@insert_i, \@vacuum_i, \@stats_i);

# name, index, how to corrupt, the operations that must raise XX002
my @cases = (
	[ 'hnsw meta: dims', 'th_idx', sub { put($_[0], HDR + 8, 'L', 70000) }, [qw(scan insert vacuum check)] ],
	[ 'hnsw meta: m', 'th_idx', sub { put($_[0], HDR + 12, 'S', 60000) }, [qw(scan insert vacuum check)] ],
	[ 'hnsw meta: metric', 'th_idx', sub { put($_[0], HDR + 16, 'C', 9) }, [qw(scan insert vacuum check)] ],
	[ 'hnsw meta: entry point past the end', 'th_idx', sub { put($_[0], HDR + 20, 'L', 0x7ffffff0) }, [qw(scan insert vacuum check)] ],
	[ 'hnsw meta: entry level', 'th_idx', sub { put($_[0], HDR + 24, 'l', 200) }, [qw(scan insert vacuum check)] ],
	[ 'hnsw meta: stream end', 'th_idx', sub { put($_[0], HDR + 32, 'Q', 1 << 40) }, [qw(scan insert vacuum check)] ],
	[ 'hnsw meta: page id of ivfpq', 'th_idx', sub { put($_[0], PAGE - 2, 'S', 0xFF92) }, [qw(scan insert vacuum check)] ],
	[ 'hnsw element: ntids', 'th_idx', sub { put($_[0], $ep + 3, 'C', 200) }, [qw(scan vacuum)] ],
	[ 'hnsw element: level', 'th_idx', sub { put($_[0], $ep + 1, 'C', 200) }, [qw(scan vacuum)] ],
	# searches expand the entry point's level-0 list when the meta page says
	# the graph has one level (the entry element's own level stays valid)
	[ 'hnsw element: neighbour past the end', 'th_idx',
	  sub { put($_[0], HDR + 24, 'l', 0); put($_[0], $ep + 32, 'L', 0x7ffffff0) }, [qw(scan insert)] ],
	[ 'hnsw element: neighbour at a page end', 'th_idx',
	  sub { put($_[0], HDR + 24, 'l', 0); put($_[0], $ep + 32, 'L', (HNSW_DATA_SIZE - 16) / 16) }, [qw(scan insert)] ],
	[ 'hnsw data page: random bytes', 'th_idx',
	  sub { srand(31); substr(${ $_[0] }, PAGE + HDR, PAGE - HDR) = join('', map { chr(int(rand(256))) } HDR + 1 .. PAGE) }, [qw(scan vacuum check)] ],
	[ 'ivfpq meta: block 0', 'ti_idx', sub { put($_[0], HDR + 14, 'S', 0) }, [qw(scan insert vacuum stats)] ],
	[ 'ivfpq meta: m', 'ti_idx', sub { put($_[0], HDR + 12, 'S', 5000) }, [qw(scan insert vacuum stats)] ],
	[ 'ivfpq meta: lists', 'ti_idx', sub { put($_[0], HDR + 16, 'L', 0) }, [qw(scan insert vacuum stats)] ],
	[ 'ivfpq meta: dims', 'ti_idx', sub { put($_[0], HDR + 8, 'S', 60000) }, [qw(scan insert vacuum stats)] ],
	[ 'ivfpq meta: centroids past the end', 'ti_idx', sub { put($_[0], HDR + 28, 'L', 0x7ffffff0) }, [qw(scan insert stats)] ],
	[ 'ivfpq meta: page id of hnsw', 'ti_idx', sub { put($_[0], PAGE - 2, 'S', 0xFF91) }, [qw(scan insert vacuum stats)] ],
	[ 'ivfpq directory: list head past the end', 'ti_idx',
	  sub { put($_[0], $dir_start * PAGE + HDR, 'L', 0x7ffffff0) }, [qw(vacuum stats)] ],
	[ 'ivfpq list: chain to itself', 'ti_idx',
	  sub { put($_[0], $head * PAGE + $special, 'L', $head) }, [qw(vacuum stats)] ],
	[ 'ivfpq list: chain past the end', 'ti_idx',
	  sub { put($_[0], $head * PAGE + $special, 'L', 0x7ffffff0) }, [qw(vacuum stats)] ],
	[ 'ivfpq list: count', 'ti_idx', sub { put($_[0], $head * PAGE + $special + 4, 'S', 60000) }, [qw(vacuum stats)] ],
	[ 'ivfpq list: page id of hnsw', 'ti_idx', sub { put($_[0], $head * PAGE + PAGE - 2, 'S', 0xFF91) }, [qw(vacuum stats)] ],
	[ 'ivfpq list page: random bytes', 'ti_idx',
	  sub { srand(32); substr(${ $_[0] }, $data_start * PAGE + HDR, PAGE - HDR) = join('', map { chr(int(rand(256))) } HDR + 1 .. PAGE) },
	  [qw(vacuum stats)] ],
);

for my $case (@cases)
{
	my ($name, $idx, $mutate, $must) = @$case;
	my %must = map { $_ => 1 } @$must;
	my $bytes = $orig{$idx};
	$mutate->(\$bytes);
	# every case from the intact files (earlier cases' inserts may have grown them)
	for my $other (keys %orig)
	{
		open(my $fh, '>', $file{$other}) or die "open $file{$other}: $!";
		binmode $fh;
		print $fh ($other eq $idx ? $bytes : $orig{$other});
		close $fh;
	}
	my $log_from = -s $node->logfile;
	$node->start;
	for my $op ($idx eq 'th_idx' ? @hnsw_ops : @ivf_ops)
	{
		my ($opname, $sql) = @$op;
		# twice in one session: an error must leave no half-built cache behind
		my ($ret, $out, $err) = $node->psql('postgres',
			"\\set VERBOSITY verbose\nSET statement_timeout = '30s';\n$sql;\n$sql;\n",
			on_error_stop => 0);
		my @codes = $err =~ /ERROR:\s+([0-9A-Z]{5}):/g;
		my @bad = grep { $_ ne 'XX002' } @codes;
		ok(!@bad && $err !~ /server closed|terminated/, "$name: $opname fails only with XX002")
		  or diag($err);
		ok(scalar(@codes) == 2, "$name: $opname raises XX002 each time")
		  or diag($err)
		  if $must{$opname};
	}
	# (waits out a crash recovery, so that one crash does not hide the next)
	ok($node->poll_query_until('postgres', 'SELECT true'), "$name: the server answers");
	my $log = slurp_file($node->logfile, $log_from);
	unlike($log, qr/terminated by signal|was terminated|server process .* exited/, "$name: no backend died");
	$node->stop;
}

done_testing();

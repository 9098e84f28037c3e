# Corrupt index pages raise ERRCODE_INDEX_CORRUPTED (XX002), never crash the
# server, read out of bounds, divide by zero or loop forever.  Builds small
# HNSW and IVF-PQ indexes, then, with the server stopped, overwrites chosen
# fields of their files (offsets from the byte tables of src/hnsw/hnsw.h and
# src/ivfpq/ivfpq.h; 8 kB pages, the data area after a 24-byte page header),
# restarts, and runs scans, inserts, VACUUM and the checkers: each must
# succeed or fail with XX002 (the ones named per case must fail so), and no
# backend may die.  vectorx_ivfpq_check runs first on the damaged file: it
# must raise XX002 where a case names it (the meta page), and otherwise
# report the damage with the invariant it breaks (the case's pattern) and
# no error.  Each case starts again from the intact files.
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
my $head1 = get($iv, $dir_start * PAGE + HDR + 8, 'L', 4);    # list 1's
my $special = PAGE - 24;    # MAXALIGN(sizeof(IvfpqPageOpaqueData))
my $centroid_start = get($iv, HDR + 28, 'L', 4);
my ($nbits, $m) = (get($iv, HDR + 11, 'C', 1), get($iv, HDR + 12, 'S', 2));
# a list page's first heap TID: after the first block's codes
my $tid0 = HDR + ($nbits == 8 ? 64 : 16) * $m;
my $nblocks = length($iv) / PAGE;

my @scan_h = ('scan', 'SET enable_seqscan = off; SELECT id FROM th ORDER BY v <-> \'[0.5,0.5,0.5,0.5]\' LIMIT 5');
# every row the index can reach, in strict order: the scan hands out each
# heap TID the index holds
my @scanall_h = ('scanall', "SET enable_seqscan = off; SET hnsw.ef_search = 1000; SELECT count(*) FROM (SELECT id FROM th ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 1000) s");
my @insert_h = ('insert', "INSERT INTO th VALUES (100000, '[0.1,0.2,0.3,0.4]')");
my @vacuum_h = ('vacuum', 'DELETE FROM th WHERE id % 50 = 0; VACUUM th');
my @check_h = ('check', "SELECT count(*) FROM vectorx_hnsw_check('th_idx')");
my @scan_i = ('scan', "SET enable_seqscan = off; SET ivfpq.probes = 4; SELECT id FROM ti ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5");
my @scanall_i = ('scanall', "SET enable_seqscan = off; SET ivfpq.probes = 4; SELECT count(*) FROM (SELECT id FROM ti ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 1000) s");
my @insert_i = ('insert', "INSERT INTO ti VALUES (100000, '[0.1,0.2,0.3,0.4]')");
my @vacuum_i = ('vacuum', 'DELETE FROM ti WHERE id % 50 = 0; VACUUM ti');
my @stats_i = ('stats', "SELECT count(*) FROM vectorx_index_stats('ti_idx')");
my @check_i = ('check', "SELECT ok, new_pages, problems FROM vectorx_ivfpq_check('ti_idx')");
my @hnsw_ops = (\@scan_h, \@scanall_h, \@insert_h, \@vacuum_h, \@check_h);
# the check first, before inserts and VACUUM change the damaged index
my @ivf_ops = (\@check_i, \@scan_i, \@scanall_i, \@insert_i, \@vacuum_i, \@stats_i);

# name, index, how to corrupt, the operations that must raise XX002, and
# (IVF-PQ) what vectorx_ivfpq_check must print ("ok|new_pages|problems")
# when it is not among them
my @cases = (
	[ 'hnsw meta: dims', 'th_idx', sub { put($_[0], HDR + 8, 'L', 70000) }, [qw(scan scanall insert vacuum check)] ],
	# in range, but not the column's vector(4): every query would fail with
	# "different vector dimensions" instead
	[ 'hnsw meta: dims of another column', 'th_idx', sub { put($_[0], HDR + 8, 'L', 5) }, [qw(scan scanall insert vacuum check)] ],
	[ 'hnsw meta: m', 'th_idx', sub { put($_[0], HDR + 12, 'S', 60000) }, [qw(scan scanall insert vacuum check)] ],
	[ 'hnsw meta: metric', 'th_idx', sub { put($_[0], HDR + 16, 'C', 9) }, [qw(scan scanall insert vacuum check)] ],
	[ 'hnsw meta: entry point past the end', 'th_idx', sub { put($_[0], HDR + 20, 'L', 0x7ffffff0) }, [qw(scan scanall insert vacuum check)] ],
	[ 'hnsw meta: entry level', 'th_idx', sub { put($_[0], HDR + 24, 'l', 200) }, [qw(scan scanall insert vacuum check)] ],
	[ 'hnsw meta: stream end', 'th_idx', sub { put($_[0], HDR + 32, 'Q', 1 << 40) }, [qw(scan scanall insert vacuum check)] ],
	[ 'hnsw meta: page id of ivfpq', 'th_idx', sub { put($_[0], PAGE - 2, 'S', 0xFF92) }, [qw(scan scanall insert vacuum check)] ],
	[ 'hnsw element: ntids', 'th_idx', sub { put($_[0], $ep + 3, 'C', 200) }, [qw(scan scanall vacuum)] ],
	# heap TIDs the table cannot hold: the server's own error for them would
	# name the table's file (58P01 or XX001), not the index
	[ 'hnsw element: heap TID past the table', 'th_idx',
	  sub { put($_[0], $ep + 8, 'S', 1); put($_[0], $ep + 10, 'S', 34464) }, [qw(scanall)] ],
	[ 'hnsw element: heap TID at offset 0', 'th_idx', sub { put($_[0], $ep + 12, 'S', 0) }, [qw(scanall)] ],
	[ 'hnsw element: level', 'th_idx', sub { put($_[0], $ep + 1, 'C', 200) }, [qw(scan scanall vacuum)] ],
	# searches expand the entry point's level-0 list when the meta page says
	# the graph has one level (the entry element's own level stays valid)
	[ 'hnsw element: neighbour past the end', 'th_idx',
	  sub { put($_[0], HDR + 24, 'l', 0); put($_[0], $ep + 32, 'L', 0x7ffffff0) }, [qw(scan scanall insert)] ],
	[ 'hnsw element: neighbour at a page end', 'th_idx',
	  sub { put($_[0], HDR + 24, 'l', 0); put($_[0], $ep + 32, 'L', (HNSW_DATA_SIZE - 16) / 16) }, [qw(scan scanall insert)] ],
	[ 'hnsw data page: random bytes', 'th_idx',
	  sub { srand(31); substr(${ $_[0] }, PAGE + HDR, PAGE - HDR) = join('', map { chr(int(rand(256))) } HDR + 1 .. PAGE) }, [qw(scan scanall vacuum check)] ],
	[ 'ivfpq meta: block 0', 'ti_idx', sub { put($_[0], HDR + 14, 'S', 0) }, [qw(check scan scanall insert vacuum stats)] ],
	[ 'ivfpq meta: m', 'ti_idx', sub { put($_[0], HDR + 12, 'S', 5000) }, [qw(check scan scanall insert vacuum stats)] ],
	[ 'ivfpq meta: lists', 'ti_idx', sub { put($_[0], HDR + 16, 'L', 0) }, [qw(check scan scanall insert vacuum stats)] ],
	[ 'ivfpq meta: dims', 'ti_idx', sub { put($_[0], HDR + 8, 'S', 60000) }, [qw(check scan scanall insert vacuum stats)] ],
	[ 'ivfpq meta: dims of another column', 'ti_idx', sub { put($_[0], HDR + 8, 'S', 5) }, [qw(check scan scanall insert vacuum stats)] ],
	[ 'ivfpq meta: centroids past the end', 'ti_idx', sub { put($_[0], HDR + 28, 'L', 0x7ffffff0) }, [qw(check scan scanall insert stats)] ],
	[ 'ivfpq meta: page id of hnsw', 'ti_idx', sub { put($_[0], PAGE - 2, 'S', 0xFF91) }, [qw(check scan scanall insert vacuum stats)] ],
	# a page then holds 64 entries, fewer than the lists have: C4 for readers
	[ 'ivfpq meta: blocks per page', 'ti_idx', sub { put($_[0], HDR + 24, 'S', 1) }, [qw(scan scanall vacuum stats)],
	  qr/^f\|0\|\{"I1: the meta page says 1 blocks per page, a page holds \d+ blocks of \d+ bytes",.*"I6: list \d+, block \d+ holds \d+ entries, more than the 64 that fit"/m ],
	[ 'ivfpq centroids: a page of the wrong kind', 'ti_idx', sub { put($_[0], $centroid_start * PAGE + $special + 6, 'C', 4) },
	  [qw(scan scanall insert stats)], qr/^f\|0\|\{"C1: block $centroid_start, of the centroids, is a page of kind 4"\}$/m ],
	[ 'ivfpq directory: list head past the end', 'ti_idx',
	  sub { put($_[0], $dir_start * PAGE + HDR, 'L', 0x7ffffff0) }, [qw(vacuum stats)],
	  qr/^f\|0\|.*I4: list 0's first page, block 2147483632, lies outside the list pages.*I5: block $head is a list page on no list's chain/ ],
	[ 'ivfpq directory: insert page off the chain', 'ti_idx',
	  sub { put($_[0], $dir_start * PAGE + HDR + 4, 'L', $head1) }, [],
	  qr/^f\|0\|\{"I4: list 0's insert page, block $head1, is not on its chain"\}$/m ],
	[ 'ivfpq directory: a first page and no insert page', 'ti_idx',
	  sub { put($_[0], $dir_start * PAGE + HDR + 4, 'L', 0xFFFFFFFF) }, [],
	  qr/^f\|0\|\{"I4: list 0 has a first page, block $head, but no insert page"\}$/m ],
	[ 'ivfpq directory: two lists share a chain', 'ti_idx',
	  sub { put($_[0], $dir_start * PAGE + HDR + 8, 'L', $head); put($_[0], $dir_start * PAGE + HDR + 12, 'L', $head) }, [],
	  qr/^f\|0\|\{"I5: block $head is on the chains of lists 0 and 1","I5: block $head1 is a list page on no list's chain"\}$/m ],
	[ 'ivfpq directory: a list emptied, its page left', 'ti_idx',
	  sub { put($_[0], $dir_start * PAGE + HDR, 'L', 0xFFFFFFFF); put($_[0], $dir_start * PAGE + HDR + 4, 'L', 0xFFFFFFFF) }, [],
	  qr/^f\|0\|\{"I5: block $head is a list page on no list's chain"\}$/m ],
	[ 'ivfpq list: chain to itself', 'ti_idx',
	  sub { put($_[0], $head * PAGE + $special, 'L', $head) }, [qw(vacuum stats)],
	  qr/^f\|0\|\{"I5: list 0's chain cycles at block $head"\}$/m ],
	[ 'ivfpq list: chain past the end', 'ti_idx',
	  sub { put($_[0], $head * PAGE + $special, 'L', 0x7ffffff0) }, [qw(vacuum stats)],
	  qr/^f\|0\|\{"I5: list 0, block $head links to block 2147483632, outside the list pages \(\d+ to \d+\)"\}$/m ],
	[ 'ivfpq list: count', 'ti_idx', sub { put($_[0], $head * PAGE + $special + 4, 'S', 60000) }, [qw(vacuum stats)],
	  qr/^f\|0\|\{"I6: list 0, block $head holds 60000 entries, more than the \d+ that fit"\}$/m ],
	[ 'ivfpq list: page id of hnsw', 'ti_idx', sub { put($_[0], $head * PAGE + PAGE - 2, 'S', 0xFF91) }, [qw(vacuum stats)],
	  qr/^f\|0\|\{"C1: list 0's chain reaches block $head, not an IVF-PQ page \(page id 0xFF91\)"\}$/m ],
	[ 'ivfpq list page: random bytes', 'ti_idx',
	  sub { srand(32); substr(${ $_[0] }, $data_start * PAGE + HDR, PAGE - HDR) = join('', map { chr(int(rand(256))) } HDR + 1 .. PAGE) },
	  [qw(vacuum stats)], qr/^f\|0\|\{"C1: list \d+'s chain reaches block $data_start, not an IVF-PQ page/m ],
	[ 'ivfpq list: an entry without a heap TID', 'ti_idx', sub { put($_[0], $head * PAGE + $tid0 + 4, 'S', 0) }, [qw(scanall)],
	  qr/^f\|0\|\{"I6: list 0, block $head, entry 0 holds \(\d+,0\), not a heap TID"\}$/m ],
	# the check reads no table, so a block past the table's end is for
	# the scans to find
	[ 'ivfpq list: a heap TID past the table', 'ti_idx',
	  sub { put($_[0], $head * PAGE + $tid0, 'S', 1); put($_[0], $head * PAGE + $tid0 + 2, 'S', 34464) }, [qw(scanall)],
	  qr/^t\|0\|\{\}$/m ],
	[ 'ivfpq list: a heap TID in two lists', 'ti_idx',
	  sub { substr(${ $_[0] }, $head1 * PAGE + $tid0, 6) = substr(${ $_[0] }, $head * PAGE + $tid0, 6) }, [],
	  qr/^f\|0\|\{"I7: heap TID \(\d+,\d+\) is in 2 entries: list 0, block $head and list 1, block $head1"\}$/m ],
	# an extension a crash cut short (ivfpq.h, WAL): harmless, and counted
	[ 'ivfpq: an all-zero page at the end', 'ti_idx', sub { ${ $_[0] } .= "\0" x PAGE }, [],
	  qr/^t\|1\|\{\}$/m ],
	[ 'ivfpq: a centroid page past the list pages', 'ti_idx',
	  sub { ${ $_[0] } .= substr(${ $_[0] }, $centroid_start * PAGE, PAGE) }, [],
	  qr/^f\|0\|\{"I2: block $nblocks, past the first list page $data_start, is a page of kind 2"\}$/m ],
);

# Run the operations of one index over its damaged file: each must succeed
# or fail with XX002 (those of %$must twice, as they run twice), and no
# backend may die.  $lenient allows the executor's "index returned tuples
# in wrong order" (XX000): a random change that turns a heap TID into
# another row's is no corruption the index can see, as the row's vector is
# in the table (README, How we test).
sub run_case
{
	my ($name, $idx, $bytes, $must, $report, $lenient) = @_;
	my %must = map { $_ => 1 } @$must;
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
		my $wrong_order = () = $err =~ /ERROR:\s+XX000: index returned tuples in wrong order/g;
		my @bad = grep { $_ ne 'XX002' } @codes;
		@bad = grep { $_ ne 'XX000' } @bad if $lenient && $wrong_order == grep { $_ eq 'XX000' } @bad;
		ok(!@bad && $err !~ /server closed|terminated/, "$name: $opname fails only with XX002")
		  or diag($err);
		ok(scalar(@codes) == 2, "$name: $opname raises XX002 each time")
		  or diag($err)
		  if $must{$opname};
		if ($report && $opname eq 'check' && $idx eq 'ti_idx' && !$must{check})
		{
			ok(!@codes, "$name: check raises no error") or diag($err);
			like($out, $report, "$name: check reports it");
		}
	}
	# (waits out a crash recovery, so that one crash does not hide the next)
	ok($node->poll_query_until('postgres', 'SELECT true'), "$name: the server answers");
	my $log = slurp_file($node->logfile, $log_from);
	unlike($log, qr/terminated by signal|was terminated|server process .* exited/, "$name: no backend died");
	$node->stop;
}

for my $case (@cases)
{
	my ($name, $idx, $mutate, $must, $report) = @$case;
	my $bytes = $orig{$idx};
	$mutate->(\$bytes);
	run_case($name, $idx, $bytes, $must, $report, 0);
}

# Random damage: a page of either index (the meta page too) gets a run of
# random bytes, a few flipped bits, or a 32-bit word set to a value that
# is often plausible (0, 1, all ones, a block number of the index, a small
# count).  VX_CORRUPT_ROUNDS sets how many (the long run, README), and
# VX_CORRUPT_SEED the seed; a failure names its round, which reruns alone
# with VX_CORRUPT_SEED=<seed> VX_CORRUPT_FROM=<round>.
my $rounds = $ENV{VX_CORRUPT_ROUNDS} // vx_n(24, 8);
my $seed = $ENV{VX_CORRUPT_SEED} // 3101;
my $from = $ENV{VX_CORRUPT_FROM} // 1;
note("random damage: $rounds rounds from seed $seed");
srand($seed);
for my $round (1 .. $rounds)
{
	my $idx = $round % 2 ? 'th_idx' : 'ti_idx';
	my $bytes = $orig{$idx};
	my $npages = length($bytes) / PAGE;
	my $blk = int(rand($npages));
	my $kind = int(rand(3));
	my $what;
	if ($kind == 0)
	{
		my $len = 1 + int(rand(rand() < 0.5 ? 64 : PAGE - HDR));
		my $off = HDR + int(rand(PAGE - HDR - $len + 1));
		substr($bytes, $blk * PAGE + $off, $len) = join('', map { chr(int(rand(256))) } 1 .. $len);
		$what = "$len random bytes at $off";
	}
	elsif ($kind == 1)
	{
		my $n = 1 + int(rand(16));
		my @bits;
		for (1 .. $n)
		{
			my $bit = HDR * 8 + int(rand((PAGE - HDR) * 8));
			my $pos = $blk * PAGE + int($bit / 8);
			substr($bytes, $pos, 1) = chr(ord(substr($bytes, $pos, 1)) ^ (1 << ($bit % 8)));
			push @bits, $bit;
		}
		$what = "bits @bits flipped";
	}
	else
	{
		my @values = (0, 1, 2, 0xFFFFFFFF, 0x7FFFFFFF, $npages - 1, $npages, int(rand(64)), int(rand(1 << 16)));
		my $value = $values[int(rand(@values))];
		my $off = HDR + 4 * int(rand((PAGE - HDR) / 4));
		put(\$bytes, $blk * PAGE + $off, 'L', $value);
		$what = "the word at $off set to $value";
	}
	next if $round < $from;
	run_case("random round $round ($idx block $blk: $what)", $idx, $bytes, [], undef, 1);
}
note(sprintf('%d damaged indexes: %d cases, %d random', @cases + $rounds - $from + 1, scalar(@cases), $rounds - $from + 1));

done_testing();

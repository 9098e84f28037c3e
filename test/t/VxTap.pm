# test/t/VxTap.pm: helpers shared by vectorx's TAP tests (PostgreSQL::Test).
package VxTap;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(vx_node vx_rand_vec_sql vx_self_query_misses vx_check_ok);

# A started node with the extension created in database postgres.
# Options: streaming => 1 (allows_streaming), conf => "extra lines".
sub vx_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => $opt{streaming} ? 1 : 0);
	# a streaming primary keeps WAL for standbys that start late or lag
	# (wal_consistency_checking writes a page image with every record)
	$node->append_conf('postgresql.conf',
		"shared_buffers = 128MB\nmax_connections = 40\n"
		  . ($opt{streaming} ? "wal_keep_size = 4GB\n" : '')
		  . ($opt{conf} // ''));
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION vectorx');
	return $node;
}

# SQL for a random vector of $dim dimensions; $row names a column of the
# outer query so that PostgreSQL draws a new vector per row (an
# uncorrelated subquery would be evaluated once)
sub vx_rand_vec_sql
{
	my ($dim, $row) = @_;
	my $corr = defined $row ? " WHERE $row IS NOT NULL" : '';
	return "(SELECT array_agg(random())::vector($dim) FROM generate_series(1, $dim)$corr)";
}

# rows of $table whose own vector, as an index query, does not come back at
# distance 0 (every committed row must be findable).  A wide beam keeps
# approximate search from being the limit: the question is whether every
# row is in the graph and reachable.
sub vx_self_query_misses
{
	my ($node, $table, $ef) = @_;
	$ef //= 400;
	return $node->safe_psql('postgres', qq{
		SET enable_seqscan = off;
		SET hnsw.ef_search = $ef;
		SELECT count(*) FROM $table t
		WHERE (SELECT t2.v <-> t.v FROM $table t2 ORDER BY t2.v <-> t.v LIMIT 1) IS DISTINCT FROM 0;
	});
}

# vectorx_hnsw_check's verdict and problems, as "t|{}" when all is well
sub vx_check_ok
{
	my ($node, $index, $db) = @_;
	return $node->safe_psql($db // 'postgres', "SELECT CASE WHEN ok THEN 't' ELSE 'f' END || '|' || problems::text FROM vectorx_hnsw_check('$index')");
}

1;

# The extension name (issue "A true drop-in for pgvector", item 6):
# applications run CREATE EXTENSION IF NOT EXISTS vector, and vectorx
# answers to it (sql/alias: the same objects from the same library, under
# pgvector's name).  Checks that it works as pgvector's clients use it, that
# vectorx and vector refuse to share a database with a clear error, and
# that pg_dump writes CREATE EXTENSION vector and its output restores.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use VxTap;

my $node = PostgreSQL::Test::Cluster->new('alias');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE a');
$node->safe_psql('a', q{
	CREATE EXTENSION IF NOT EXISTS vector;
	CREATE EXTENSION IF NOT EXISTS vector;
	CREATE TABLE items (id bigint PRIMARY KEY, tenant int, embedding vector(3));
	INSERT INTO items SELECT g, g % 3, ARRAY[sin(g), cos(g), g / 100.0] FROM generate_series(1, 200) g;
	CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops);
	CREATE INDEX ON items USING ivfpq (embedding vector_l2_ops) WITH (lists = 4, m = 3);
});
is($node->safe_psql('a', "SELECT extname, extversion FROM pg_extension WHERE extname LIKE 'vector%'"),
	'vector|0.2.0', 'CREATE EXTENSION IF NOT EXISTS vector installs the alias (twice is a no-op)');
my $q = q{SET enable_seqscan = off;
	SELECT string_agg(id::text, ',') FROM (SELECT id FROM items WHERE tenant = 1
		ORDER BY embedding <=> '[0.5,0.5,1]' LIMIT 5) s};
my $exact = $node->safe_psql('a', q{SELECT string_agg(id::text, ',') FROM (SELECT id FROM items
	WHERE tenant = 1 ORDER BY embedding <=> '[0.5,0.5,1]', id LIMIT 5) s});
is($node->safe_psql('a', $q), $exact, 'a filtered k-NN query through the alias answers exactly');
is($node->safe_psql('a', "SELECT ok FROM vectorx_hnsw_check('items_embedding_idx')"), 't',
	"vectorx's own functions come with it");

# one of the two per database, with a clear error either way
my ($ret, $out, $err) = $node->psql('a', 'CREATE EXTENSION vectorx');
isnt($ret, 0, 'CREATE EXTENSION vectorx beside vector fails');
like($err, qr/extensions "vector" and "vectorx" cannot both be installed in one database/, 'and says why');
like($err, qr/HINT:  vectorx answers to CREATE EXTENSION vector on its own/, 'with a hint');
$node->safe_psql('postgres', 'CREATE DATABASE b');
$node->safe_psql('b', 'CREATE EXTENSION vectorx');
($ret, $out, $err) = $node->psql('b', 'CREATE EXTENSION vector');
like($err, qr/cannot both be installed/, 'and CREATE EXTENSION vector beside vectorx fails alike');

# pg_dump names the extension as the application created it; the dump
# restores (into a server with vectorx, or pgvector: the text format and
# the HNSW options are pgvector's)
my $file = $node->basedir . '/a.sql';
$node->command_ok([ 'pg_dump', '-d', $node->connstr('a'), '-f', $file ], 'pg_dump of the database');
my $dump = slurp_file($file);
like($dump, qr/CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;/, 'the dump creates the vector extension');
unlike($dump, qr/CREATE EXTENSION IF NOT EXISTS vectorx/, 'not vectorx');
like($dump, qr/USING hnsw \(embedding public\.vector_cosine_ops\)/, 'and the HNSW index as pgvector writes it');
$node->safe_psql('postgres', 'CREATE DATABASE c');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('c'), '-f', $file ],
	'the dump restores into a new database');
is($node->safe_psql('c', $q), $exact, 'which answers the same query alike');

# dropping the alias frees the name for vectorx itself
$node->safe_psql('a', 'DROP EXTENSION vector CASCADE; CREATE EXTENSION vectorx;');
is($node->safe_psql('a', "SELECT extname FROM pg_extension WHERE extname LIKE 'vector%'"), 'vectorx',
	'DROP EXTENSION vector, then CREATE EXTENSION vectorx');

$node->stop;
done_testing();

#!/usr/bin/env bash
# test/fuzz/make-seeds.sh: rebuild the seeds of the page fuzz targets
# (test/fuzz/corpus/fuzz_hnsw, test/fuzz/corpus/fuzz_ivfpq) from real
# indexes.  It builds and installs the extension (scripts/lib.sh), starts a
# throwaway cluster, builds a few small HNSW and IVF-PQ indexes (each
# operator class, levels above 0, deleted and free elements, duplicates,
# vectors that span pages, trained and untrained, 4 and 8 bits, IVFFlat), copies
# each relation's main fork out of the data directory
# (pg_relation_filepath, after a CHECKPOINT) and writes it, after the 16
# control bytes the targets read first (fuzz_hnsw.c, fuzz_ivfpq.c), as one
# seed.  The seeds are committed; run this again when a page format
# changes.  Data is generated from fixed seeds (setseed), so reruns give
# the same indexes up to the build's own choices.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

out="$VX_ROOT/test/fuzz/corpus"
vx_need_packages "${VX_BUILD_PACKAGES[@]}"
vx_build_install
vx_cluster_start fuzzseeds
trap vx_cluster_stop EXIT

sql() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
sql -c "CREATE EXTENSION IF NOT EXISTS vectorx"

# seed TARGET NAME INDEX CONTROL_HEX: control bytes, then the index's pages
seed() {
	local target=$1 name=$2 index=$3 control=$4 path
	path=$(sql -At -c "SELECT pg_relation_filepath('$index')")
	mkdir -p "$out/$target"
	{
		printf '%s' "$control" | xxd -r -p
		vx_as_server cat "$VX_CLUSTER/data/$path"
	} >"$out/$target/$name"
	echo "$target/$name: $(stat -c %s "$out/$target/$name") bytes" >&2
}

# rows of random vectors: table NAME, DIMS, ROWS
table() {
	sql -o /dev/null -c "SELECT setseed(0.42)" -c "DROP TABLE IF EXISTS $1" \
		-c "CREATE TABLE $1 (id int, v vector($2))" \
		-c "INSERT INTO $1 SELECT i, (SELECT array_agg(round((random() * 2 - 1)::numeric, 3)::float4) FROM generate_series(1, $2) WHERE i > 0)::vector FROM generate_series(1, $3) i"
}

# ---- HNSW
# control bytes: metric of the meta page, default GUCs, strict order, the
# query seed, element id 2 (offset 32), 20 rows; and (hctl2) ef_search 6,
# relaxed order, an allow-list (heap blocks 0 and 1, TIDs (8,1..4)), an
# excluded row (0,5), 16 rows
hctl=00000100010203040200000000140000
hctl2=00050e000102030402000000030f0005

table h1 8 60
sql -c "CREATE INDEX h1_l2 ON h1 USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16)"
table h2 3 400
sql -c "CREATE INDEX h2_cos ON h2 USING hnsw (v vector_cosine_ops) WITH (m = 2, ef_construction = 8)"
table h3 200 40
sql -c "CREATE INDEX h3_ip ON h3 USING hnsw (v vector_ip_ops) WITH (m = 4, ef_construction = 16)"
table h4 4 120
sql -c "INSERT INTO h4 SELECT id + 1000, v FROM h4 WHERE id <= 20"	# duplicates share elements
sql -c "CREATE INDEX h4_l1 ON h4 USING hnsw (v vector_l1_ops) WITH (m = 3, ef_construction = 8)"
sql -c "DELETE FROM h4 WHERE id % 5 = 0" -c "VACUUM h4"	# deleted, free and repaired elements
sql -c "INSERT INTO h4 SELECT id + 2000, v FROM h4 WHERE id % 7 = 1"	# reuse of free records
sql -c "DELETE FROM h4 WHERE id % 11 = 0"	# DELETED, not yet vacuumed
table h5 16 0
sql -c "CREATE INDEX h5_empty ON h5 USING hnsw (v vector_l2_ops)"
# sparsevec (control byte 0 bit 4): 1000 dimensions, 3 to 20 non-zeros; a
# capacity of 6 that cuts most; 4000 non-zeros in a billion dimensions,
# elements across pages
sparse() {
	sql -o /dev/null -c "SELECT setseed(0.42)" -c "DROP TABLE IF EXISTS $1" \
		-c "CREATE TABLE $1 (id int, v sparsevec($2))" \
		-c "INSERT INTO $1 SELECT i, format('{%s}/$2', (SELECT string_agg(format('%s:%s', k, x), ',') FROM (SELECT DISTINCT ON (k) k, x FROM (SELECT 1 + (random() * ($2 - 1))::int AS k, round((random() * 2 - 1)::numeric, 3) + 0.0005 AS x FROM generate_series(1, $3 + i % $4) WHERE i > 0) a) b))::sparsevec FROM generate_series(1, $5) i"
}
sparse s1 1000 3 18 60
sql -c "CREATE INDEX s1_l2 ON s1 USING hnsw (v sparsevec_l2_ops) WITH (m = 4, ef_construction = 16)"
sql -c "CREATE INDEX s1_cos ON s1 USING hnsw (v sparsevec_cosine_ops) WITH (m = 2, ef_construction = 8, nnz = 6)"
sql -c "CREATE INDEX s1_l1 ON s1 USING hnsw (v sparsevec_l1_ops) WITH (m = 3, ef_construction = 8)"
sparse s2 1000000000 4000 2 8
sql -c "CREATE INDEX s2_ip ON s2 USING hnsw (v sparsevec_ip_ops) WITH (m = 2, ef_construction = 8)"
sql -c "CHECKPOINT"
seed fuzz_hnsw l2-8d h1_l2 "$hctl"
seed fuzz_hnsw l2-8d-filtered h1_l2 "$hctl2"
seed fuzz_hnsw cosine-3d-levels h2_cos "$hctl"
seed fuzz_hnsw cosine-3d-levels-filtered h2_cos "$hctl2"
seed fuzz_hnsw ip-200d-spanning h3_ip "$hctl"
seed fuzz_hnsw l1-vacuumed h4_l1 "$hctl"
seed fuzz_hnsw empty h5_empty "$hctl"
sctl=1${hctl:1}
seed fuzz_hnsw sparse-l2 s1_l2 "$sctl"
seed fuzz_hnsw sparse-cosine-cut s1_cos "$sctl"
seed fuzz_hnsw sparse-l1 s1_l1 "1${hctl2:1}"
seed fuzz_hnsw sparse-ip-spanning s2_ip "$sctl"

# ---- IVF-PQ
# control bytes: metric of the meta page, default GUCs, strict order, the
# query seed, list 1, 20 rows; and (ictl2) probes 3, re-rank 4, relaxed
# order, an allow-list (heap blocks 0 and 1), 16 rows
ictl=00000100010203040100000000140000
ictl2=00020e050102030401000000030f0000

table i1 8 300
sql -c "CREATE INDEX i1_l2_8 ON i1 USING ivfpq (v vector_l2_ops) WITH (lists = 2, m = 2, nbits = 8)"
table i2 6 300
sql -c "CREATE INDEX i2_ip_4 ON i2 USING ivfpq (v vector_ip_ops) WITH (lists = 3, m = 3, nbits = 4)"
table i3 5 0
sql -c "CREATE INDEX i3_untrained ON i3 USING ivfpq (v vector_cosine_ops) WITH (lists = 4, m = 1, nbits = 4)"
table i4 5 50
sql -c "INSERT INTO i3 SELECT * FROM i4"	# rows in the untrained index's one list
sql -c "DELETE FROM i3 WHERE id % 3 = 0" -c "VACUUM i3"
# IVFFlat (the same pages, entries of 8-bit codes; an odd dimension count
# pads the codes)
table i5 7 300
sql -c "CREATE INDEX i5_flat ON i5 USING ivfflat (v vector_l2_ops) WITH (lists = 3)"
sql -c "DELETE FROM i5 WHERE id % 4 = 0" -c "VACUUM i5"
table i6 5 0
sql -c "CREATE INDEX i6_flat_untrained ON i6 USING ivfflat (v vector_cosine_ops) WITH (lists = 2)"
sql -c "INSERT INTO i6 SELECT * FROM i4"
sql -c "CHECKPOINT"
seed fuzz_ivfpq l2-nbits8 i1_l2_8 "$ictl"
seed fuzz_ivfpq l2-nbits8-filtered i1_l2_8 "$ictl2"
seed fuzz_ivfpq ip-nbits4 i2_ip_4 "$ictl"
seed fuzz_ivfpq ip-nbits4-filtered i2_ip_4 "$ictl2"
seed fuzz_ivfpq cosine-untrained i3_untrained "$ictl"
seed fuzz_ivfpq flat-l2-7d i5_flat "$ictl"
seed fuzz_ivfpq flat-l2-7d-filtered i5_flat "$ictl2"
seed fuzz_ivfpq flat-cosine-untrained i6_flat_untrained "$ictl"

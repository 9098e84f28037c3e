"""Debian's psycopg 3 (python3-psycopg) against vectorx, the way
pgvector-python's own psycopg support talks to pgvector: the vector and
halfvec types in text and in binary mode (pgvector's wire format: int16
dimensions, int16 zero, big-endian float4s or binary16s), sparsevec (int32
dimensions, count and zero, 0-based indexes, values), COPY in text and
binary format, and
server-side prepared statements.  Answers are checked against a
brute-force search here.  The libpq environment names the server; a
database of its own per run.  Run by scripts/vx-test clients."""
import math
import os
import random
import struct
import sys

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format

DIMS = 8


class Vector(list):
    pass


class HalfVector(list):
    pass


# the element format of each type's binary form (struct: f float4, e binary16)
ELEMENT = {'vector': 'f', 'halfvec': 'e'}
PYTHON_CLASS = {'vector': Vector, 'halfvec': HalfVector}


class VectorTextDumper(Dumper):
    def dump(self, v):
        return ('[' + ','.join(repr(float(x)) for x in v) + ']').encode()


class VectorBinaryDumper(Dumper):
    format = Format.BINARY
    element = 'f'

    def dump(self, v):
        return struct.pack('>HH%d%s' % (len(v), self.element), len(v), 0, *v)


class VectorTextLoader(Loader):
    def load(self, data):
        return [float(x) for x in bytes(data).decode()[1:-1].split(',')]


class VectorBinaryLoader(Loader):
    format = Format.BINARY
    element = 'f'

    def load(self, data):
        dim, unused = struct.unpack_from('>HH', data)
        assert unused == 0
        assert len(data) == 4 + dim * struct.calcsize(self.element), 'exactly the elements'
        return list(struct.unpack_from('>%d%s' % (dim, self.element), data, 4))


def register(conn, typname):
    """As pgvector-python's register_vector: dumpers that know the type's
    oid (COPY and binary parameters look them up by it), and loaders."""
    info = psycopg.types.TypeInfo.fetch(conn, typname)
    assert info is not None, '%s type not found' % typname
    info.register(conn)
    attrs = {'oid': info.oid, 'element': ELEMENT[typname]}
    cls = PYTHON_CLASS[typname]
    conn.adapters.register_dumper(cls, type('BinaryDumper', (VectorBinaryDumper,), attrs))
    conn.adapters.register_dumper(cls, type('TextDumper', (VectorTextDumper,), attrs))
    conn.adapters.register_loader(info.oid, VectorTextLoader)
    conn.adapters.register_loader(info.oid, type('BinaryLoader', (VectorBinaryLoader,), attrs))
    return info


def f32(x):
    return struct.unpack('f', struct.pack('f', x))[0]


def f16(x):
    """x rounded to binary16, nearest even (Python's struct does it)"""
    return struct.unpack('e', struct.pack('e', x))[0]


ROUND = {'vector': f32, 'halfvec': f16}


class Sparse(dict):
    """a sparse vector: {0-based index: value} and its dimensions"""
    def __init__(self, values, dim):
        super().__init__(values)
        self.dim = dim


class SparseTextDumper(Dumper):
    def dump(self, s):
        return ('{' + ','.join('%d:%r' % (i + 1, float(v)) for i, v in sorted(s.items())) + '}/%d' % s.dim).encode()


class SparseBinaryDumper(Dumper):
    format = Format.BINARY

    def dump(self, s):
        idx = sorted(s)
        return struct.pack('>iii%di%df' % (len(idx), len(idx)), s.dim, len(idx), 0, *idx, *[s[i] for i in idx])


class SparseTextLoader(Loader):
    def load(self, data):
        body, dim = bytes(data).decode().split('/')
        pairs = [p.split(':') for p in body[1:-1].split(',') if p]
        # (values: the fewest digits that read back as the same float4)
        return Sparse({int(i) - 1: f32(float(v)) for i, v in pairs}, int(dim))


class SparseBinaryLoader(Loader):
    format = Format.BINARY

    def load(self, data):
        dim, nnz, unused = struct.unpack_from('>iii', data)
        assert unused == 0 and len(data) == 12 + 8 * nnz
        idx = struct.unpack_from('>%di' % nnz, data, 12)
        val = struct.unpack_from('>%df' % nnz, data, 12 + 4 * nnz)
        return Sparse(dict(zip(idx, val)), dim)


def run_sparse(db):
    """sparsevec in text and binary, COPY both ways, prepared k-NN (exact scan, HNSW)"""
    rng = random.Random(11)
    dim = 100000
    rows = []
    for i in range(1, 201):
        rows.append((i, Sparse({rng.randrange(dim): f32(rng.uniform(-1, 1)) for _ in range(5)}, dim)))
    with psycopg.connect(dbname=db, autocommit=True) as conn:
        info = psycopg.types.TypeInfo.fetch(conn, 'sparsevec')
        assert info is not None, 'sparsevec type not found'
        info.register(conn)
        conn.adapters.register_dumper(Sparse, type('B', (SparseBinaryDumper,), {'oid': info.oid}))
        conn.adapters.register_dumper(Sparse, type('T', (SparseTextDumper,), {'oid': info.oid}))
        conn.adapters.register_loader(info.oid, SparseTextLoader)
        conn.adapters.register_loader(info.oid, SparseBinaryLoader)
        conn.execute('CREATE TABLE sitems (id int PRIMARY KEY, embedding sparsevec(%d))' % dim)
        with conn.cursor() as cur:
            with cur.copy('COPY sitems FROM STDIN WITH (FORMAT BINARY)') as copy:
                copy.set_types(['int4', info.oid])
                for i, s in rows[:100]:
                    copy.write_row((i, s))
            with cur.copy('COPY sitems FROM STDIN') as copy:
                for i, s in rows[100:]:
                    copy.write_row((i, s))
        for binary in (False, True):
            got = conn.execute('SELECT embedding FROM sitems WHERE id = 150', binary=binary).fetchone()[0]
            assert got == rows[149][1] and got.dim == dim, (binary, got)
        out = {}
        with conn.cursor() as cur:
            with cur.copy('COPY sitems TO STDOUT WITH (FORMAT BINARY)') as copy:
                copy.set_types(['int4', info.oid])
                for i, s in copy.rows():
                    out[i] = s
        assert out == dict(rows), 'binary COPY round trip'

        def dist(a, b):
            return math.sqrt(sum((a.get(k, 0) - b.get(k, 0)) ** 2 for k in set(a) | set(b)))

        def knn_matches_brute_force(label):
            for binary in (False, True):
                for _ in range(5):
                    q = Sparse({rng.randrange(dim): f32(rng.uniform(-1, 1)) for _ in range(5)}, dim)
                    q.update({k: 1.0 for k in list(rows[rng.randrange(200)][1])[:2]})
                    want = [i for i, _ in sorted(rows, key=lambda r: (dist(r[1], q), r[0]))[:5]]
                    got = conn.execute('SELECT id FROM sitems ORDER BY embedding <-> %b LIMIT 5' if binary
                                       else 'SELECT id FROM sitems ORDER BY embedding <-> %t LIMIT 5',
                                       (q,), prepare=True, binary=binary).fetchall()
                    assert [r[0] for r in got] == want, (label, binary, got, want)
        knn_matches_brute_force('exact scan')
        # through an HNSW index whose search covers the 200 rows: the same answers
        conn.execute('CREATE INDEX sitems_h ON sitems USING hnsw (embedding sparsevec_l2_ops)')
        conn.execute('SET enable_seqscan = off')
        conn.execute('SET hnsw.ef_search = 400')
        plan = '\n'.join(r[0] for r in conn.execute(
            'EXPLAIN SELECT id FROM sitems ORDER BY embedding <-> %t LIMIT 5', (rows[0][1],)))
        assert 'Index Scan using sitems_h' in plan, plan
        knn_matches_brute_force('hnsw')
        for data, message in [(struct.pack('>iiiif', 3, 1, 0, 0, 0.0), 'cannot contain zero values'),
                              (struct.pack('>iiiiiff', 3, 2, 0, 2, 1, 1.0, 1.0), 'ascending order'),
                              (struct.pack('>iiiif', 3, 1, 0, 3, 1.0), 'out of range for 3 dimensions'),
                              (struct.pack('>iii', 3, 1, 0), 'need 8 bytes of data, got 0')]:
            class Raw(bytes):
                pass
            conn.adapters.register_dumper(Raw, type('R', (Dumper,), {'format': Format.BINARY, 'oid': info.oid,
                                                                     'dump': lambda self, b: bytes(b)}))
            try:
                conn.execute('SELECT %b::sparsevec', (Raw(data),), binary=True)
                raise AssertionError('no error for %r' % data)
            except (psycopg.errors.DataException, psycopg.errors.InvalidBinaryRepresentation) as e:
                assert message in str(e), (message, str(e))
    print('sparsevec: text, binary, COPY, prepared statements, HNSW: ok')


def run_bits(db):
    """bit columns as pgvector applications use them: text and binary values,
    COPY both ways, HNSW bit_hamming_ops and bit_jaccard_ops through
    prepared statements against distances computed here"""
    rng = random.Random(13)
    nbits = 96
    rows = [(i, ''.join(rng.choice('0001') for _ in range(nbits))) for i in range(1, 401)]

    def packed(s):
        return struct.pack('>i', len(s)) + int(s, 2).to_bytes(len(s) // 8, 'big')

    def unpacked(data):
        n = struct.unpack('>i', data[:4])[0]
        return bin(int.from_bytes(data[4:], 'big'))[2:].zfill(len(data[4:]) * 8)[:n]

    def hamming(a, b):
        return sum(x != y for x, y in zip(a, b))

    def jaccard(a, b):
        both = sum(x == y == '1' for x, y in zip(a, b))
        either = sum(x == '1' or y == '1' for x, y in zip(a, b))
        return 1.0 if both == 0 else 1.0 - both / either

    class Bits(str):
        pass
    with psycopg.connect(dbname=db, autocommit=True) as conn:
        bit_oid = conn.execute("SELECT 'bit'::regtype::oid").fetchone()[0]
        conn.adapters.register_dumper(Bits, type('BB', (Dumper,), {'format': Format.BINARY, 'oid': bit_oid,
                                                                   'dump': lambda self, s: packed(s)}))
        conn.adapters.register_dumper(Bits, type('BT', (Dumper,), {'format': Format.TEXT, 'oid': bit_oid,
                                                                   'dump': lambda self, s: s.encode()}))
        conn.execute('CREATE TABLE bitems (id int PRIMARY KEY, b bit(%d))' % nbits)
        with conn.cursor() as cur:
            with cur.copy('COPY bitems FROM STDIN WITH (FORMAT BINARY)') as copy:
                copy.set_types(['int4', bit_oid])
                for i, s in rows[:200]:
                    copy.write_row((i, Bits(s)))
            with cur.copy('COPY bitems FROM STDIN') as copy:
                for i, s in rows[200:]:
                    copy.write_row((i, Bits(s)))
        assert conn.execute('SELECT b::text FROM bitems WHERE id = 250').fetchone()[0] == rows[249][1]
        raw = conn.execute('SELECT b FROM bitems WHERE id = 50', binary=True).pgresult.get_value(0, 0)
        assert unpacked(raw) == rows[49][1], 'binary value'
        out = {}
        with conn.cursor() as cur:
            with cur.copy('COPY bitems TO STDOUT') as copy:
                for i, s in copy.rows():
                    out[int(i)] = s
        assert out == dict(rows), 'text COPY round trip'
        conn.execute('CREATE INDEX bitems_h ON bitems USING hnsw (b bit_hamming_ops)')
        conn.execute('CREATE INDEX bitems_j ON bitems USING hnsw (b bit_jaccard_ops)')
        conn.execute('SET enable_seqscan = off')
        conn.execute('SET hnsw.ef_search = 400')
        for op, fn in (('<~>', hamming), ('<%>', jaccard)):
            for binary in (False, True):
                for _ in range(5):
                    q = ''.join(rng.choice('0001') for _ in range(nbits))
                    want = sorted(fn(s, q) for _, s in rows)[:10]
                    ph = '%b' if binary else '%t'
                    sqlop = op.replace('%', '%%')  # psycopg placeholders start with %
                    got = conn.execute('SELECT b %s %s FROM bitems ORDER BY b %s %s LIMIT 10' % (sqlop, ph, sqlop, ph),
                                       (Bits(q), Bits(q)), prepare=True, binary=binary).fetchall()
                    assert [round(r[0], 12) for r in got] == [round(d, 12) for d in want], (op, binary, got, want)
        try:
            conn.execute('SELECT id FROM bitems ORDER BY b <~> %t LIMIT 1', (Bits('101'),))
            raise AssertionError('no error for a query of another length')
        except psycopg.errors.DataException as e:
            assert 'expected 96 bits, not 3' in str(e), str(e)
    print('bit: text, binary, COPY, prepared statements, HNSW Hamming and Jaccard: ok')


def main():
    db = 'vx_psycopg_%d' % os.getpid()
    with psycopg.connect(dbname='postgres', autocommit=True) as admin:
        admin.execute('DROP DATABASE IF EXISTS %s' % db)
        admin.execute('CREATE DATABASE %s' % db)
    try:
        run(db)
    finally:
        with psycopg.connect(dbname='postgres', autocommit=True) as admin:
            admin.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % db)
    print('psycopg %s: all checks passed' % psycopg.__version__)


def run(db):
    with psycopg.connect(dbname=db, autocommit=True) as conn:
        conn.execute('CREATE EXTENSION IF NOT EXISTS vector')
    for typname in ('vector', 'halfvec'):
        run_type(db, typname)
        print('%s: text, binary, COPY, prepared statements, HNSW, ivfflat: ok' % typname)
    run_sparse(db)
    run_bits(db)


def run_type(db, typname):
    rng = random.Random(7)
    rnd = ROUND[typname]
    Vec = PYTHON_CLASS[typname]
    rows = [(i, [rnd(rng.uniform(-1, 1)) for _ in range(DIMS)]) for i in range(1, 301)]
    with psycopg.connect(dbname=db, autocommit=True) as conn:
        info = register(conn, typname)
        conn.execute('DROP TABLE IF EXISTS items')

        # COPY in binary format: pgvector's wire format, written here
        conn.execute('CREATE TABLE items (id int PRIMARY KEY, embedding %s(%d))' % (typname, DIMS))
        with conn.cursor() as cur:
            with cur.copy('COPY items (id, embedding) FROM STDIN WITH (FORMAT BINARY)') as copy:
                copy.set_types(['int4', info.oid])
                for i, v in rows[:150]:
                    copy.write_row((i, Vec(v)))
        # and in text format
        with conn.cursor() as cur:
            with cur.copy('COPY items (id, embedding) FROM STDIN') as copy:
                for i, v in rows[150:]:
                    copy.write_row((i, Vec(v)))
        assert conn.execute('SELECT count(*) FROM items').fetchone()[0] == 300

        # values come back the same, as text and as binary
        for binary in (False, True):
            # (text: the fewest digits that read back as the same float4)
            got = conn.execute('SELECT embedding FROM items WHERE id = 42', binary=binary).fetchone()[0]
            assert [rnd(x) for x in got] == rows[41][1], (binary, got, rows[41][1])
        # binary COPY out reads back every row
        out = {}
        with conn.cursor() as cur:
            with cur.copy('COPY items (id, embedding) TO STDOUT WITH (FORMAT BINARY)') as copy:
                copy.set_types(['int4', info.oid])
                for i, v in copy.rows():
                    out[i] = v
        assert out == dict(rows), 'binary COPY round trip'

        def knn_matches_brute_force(label, queries):
            for binary in (False, True):
                for _ in range(queries):
                    q = [rnd(rng.uniform(-1, 1)) for _ in range(DIMS)]
                    want = [i for i, _ in sorted(rows, key=lambda r: (math.dist(r[1], q), r[0]))[:5]]
                    # prepare=True: a server-side prepared statement from the first call
                    got = conn.execute('SELECT id FROM items ORDER BY embedding <-> %b LIMIT 5' if binary
                                       else 'SELECT id FROM items ORDER BY embedding <-> %t LIMIT 5',
                                       (Vec(q),), prepare=True, binary=binary).fetchall()
                    assert [r[0] for r in got] == want, (label, binary, got, want)

        conn.execute('CREATE INDEX ON items USING hnsw (embedding %s_l2_ops)' % typname)
        conn.execute('SET enable_seqscan = off')
        conn.execute('SET hnsw.ef_search = 300')
        knn_matches_brute_force('hnsw', 10)
        # ivfflat, every list probed: the exact answer
        conn.execute('DROP INDEX items_embedding_idx')
        conn.execute('CREATE INDEX ON items USING ivfflat (embedding %s_l2_ops) WITH (lists = 4)' % typname)
        conn.execute('SET ivfflat.probes = 4')
        knn_matches_brute_force('ivfflat', 5)
        # a vector of the wrong length in binary mode is the server's error
        try:
            conn.execute('SELECT %%b::%s(8)' % typname, (Vec([1.0, 2.0]),), binary=True)
            raise AssertionError('no error for the wrong dimensions')
        except psycopg.errors.DataException as e:
            assert 'expected 8 dimensions, not 2' in str(e), str(e)

        # malformed binary values are refused with the server's error
        class Raw(bytes):
            pass
        raw = type('RawDumper', (Dumper,), {'format': Format.BINARY, 'oid': info.oid,
                                            'dump': lambda self, b: bytes(b)})
        conn.adapters.register_dumper(Raw, raw)
        width = struct.calcsize(ELEMENT[typname])
        bad = [(struct.pack('>HH', 1, 0) + b'\x00' * (width + 1), 'need %d bytes of data, got %d' % (width, width + 1)),
               (struct.pack('>HH', 1, 7) + b'\x00' * width, 'reserved field is 7'),
               (struct.pack('>HH', 0, 0), 'must have at least 1 dimension')]
        if typname == 'halfvec':
            bad += [(struct.pack('>HHH', 1, 0, 0x7c00), 'infinite value not allowed in halfvec'),
                    (struct.pack('>HHH', 1, 0, 0xfe00), 'NaN not allowed in halfvec')]
        for data, message in bad:
            try:
                conn.execute('SELECT %%b::%s' % typname, (Raw(data),), binary=True)
                raise AssertionError('no error for %r' % data)
            except (psycopg.errors.DataException, psycopg.errors.InvalidBinaryRepresentation,
                    psycopg.errors.ProgramLimitExceeded) as e:
                assert message in str(e), (message, str(e))


if __name__ == '__main__':
    sys.exit(main())

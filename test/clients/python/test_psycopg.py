"""Debian's psycopg 3 (python3-psycopg) against vectorx, the way
pgvector-python's own psycopg support talks to pgvector: the vector and
halfvec types in text and in binary mode (pgvector's wire format: int16
dimensions, int16 zero, big-endian float4s or binary16s), COPY in text and
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
        print('%s: text, binary, COPY, prepared statements, HNSW: ok' % typname)


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

        conn.execute('CREATE INDEX ON items USING hnsw (embedding %s_l2_ops)' % typname)
        conn.execute('SET enable_seqscan = off')
        conn.execute('SET hnsw.ef_search = 300')
        for binary in (False, True):
            for qi in range(10):
                q = [rnd(rng.uniform(-1, 1)) for _ in range(DIMS)]
                want = [i for i, _ in sorted(rows, key=lambda r: (math.dist(r[1], q), r[0]))[:5]]
                # prepare=True: a server-side prepared statement from the first call
                got = conn.execute('SELECT id FROM items ORDER BY embedding <-> %b LIMIT 5' if binary
                                   else 'SELECT id FROM items ORDER BY embedding <-> %t LIMIT 5',
                                   (Vec(q),), prepare=True, binary=binary).fetchall()
                assert [r[0] for r in got] == want, (binary, got, want)
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

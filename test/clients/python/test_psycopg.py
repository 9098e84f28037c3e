"""Debian's psycopg 3 (python3-psycopg) against vectorx, the way
pgvector-python's own psycopg support talks to pgvector: the vector type
in text and in binary mode (pgvector's wire format: int16 dimensions,
int16 zero, big-endian float4s), COPY in text and binary format, and
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


class VectorTextDumper(Dumper):
    def dump(self, v):
        return ('[' + ','.join(repr(float(x)) for x in v) + ']').encode()


class VectorBinaryDumper(Dumper):
    format = Format.BINARY

    def dump(self, v):
        return struct.pack('>HH%df' % len(v), len(v), 0, *v)


class VectorTextLoader(Loader):
    def load(self, data):
        return [float(x) for x in bytes(data).decode()[1:-1].split(',')]


class VectorBinaryLoader(Loader):
    format = Format.BINARY

    def load(self, data):
        dim, unused = struct.unpack_from('>HH', data)
        assert unused == 0
        return list(struct.unpack_from('>%df' % dim, data, 4))


TEXT = BINARY = None


def register(conn):
    """As pgvector-python's register_vector: dumpers that know the type's
    oid (COPY and binary parameters look them up by it), and loaders."""
    global TEXT, BINARY
    info = psycopg.types.TypeInfo.fetch(conn, 'vector')
    assert info is not None, 'vector type not found'
    info.register(conn)
    TEXT = type('TextDumper', (VectorTextDumper,), {'oid': info.oid})
    BINARY = type('BinaryDumper', (VectorBinaryDumper,), {'oid': info.oid})
    conn.adapters.register_dumper(Vector, BINARY)
    conn.adapters.register_dumper(Vector, TEXT)
    conn.adapters.register_loader(info.oid, VectorTextLoader)
    conn.adapters.register_loader(info.oid, VectorBinaryLoader)
    return info


def f32(x):
    return struct.unpack('f', struct.pack('f', x))[0]


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
    rng = random.Random(7)
    rows = [(i, [f32(rng.uniform(-1, 1)) for _ in range(DIMS)]) for i in range(1, 301)]
    with psycopg.connect(dbname=db, autocommit=True) as conn:
        conn.execute('CREATE EXTENSION IF NOT EXISTS vector')
        info = register(conn)

        # COPY in binary format: pgvector's wire format, written here
        conn.execute('CREATE TABLE items (id int PRIMARY KEY, embedding vector(%d))' % DIMS)
        with conn.cursor() as cur:
            with cur.copy('COPY items (id, embedding) FROM STDIN WITH (FORMAT BINARY)') as copy:
                copy.set_types(['int4', info.oid])
                for i, v in rows[:150]:
                    copy.write_row((i, Vector(v)))
        # and in text format
        with conn.cursor() as cur:
            with cur.copy('COPY items (id, embedding) FROM STDIN') as copy:
                for i, v in rows[150:]:
                    copy.write_row((i, Vector(v)))
        assert conn.execute('SELECT count(*) FROM items').fetchone()[0] == 300

        # values come back the same, as text and as binary
        for binary in (False, True):
            # (text: the fewest digits that read back as the same float4)
            got = conn.execute('SELECT embedding FROM items WHERE id = 42', binary=binary).fetchone()[0]
            assert [f32(x) for x in got] == rows[41][1], (binary, got, rows[41][1])
        # binary COPY out reads back every row
        out = {}
        with conn.cursor() as cur:
            with cur.copy('COPY items (id, embedding) TO STDOUT WITH (FORMAT BINARY)') as copy:
                copy.set_types(['int4', info.oid])
                for i, v in copy.rows():
                    out[i] = v
        assert out == dict(rows), 'binary COPY round trip'

        conn.execute('CREATE INDEX ON items USING hnsw (embedding vector_l2_ops)')
        conn.execute('SET enable_seqscan = off')
        conn.execute('SET hnsw.ef_search = 300')
        for binary in (False, True):
            for qi in range(10):
                q = [f32(rng.uniform(-1, 1)) for _ in range(DIMS)]
                want = [i for i, _ in sorted(rows, key=lambda r: (math.dist(r[1], q), r[0]))[:5]]
                # prepare=True: a server-side prepared statement from the first call
                got = conn.execute('SELECT id FROM items ORDER BY embedding <-> %b LIMIT 5' if binary
                                   else 'SELECT id FROM items ORDER BY embedding <-> %t LIMIT 5',
                                   (Vector(q),), prepare=True, binary=binary).fetchall()
                assert [r[0] for r in got] == want, (binary, got, want)
        # a vector of the wrong length in binary mode is the server's error
        try:
            conn.execute('SELECT %b::vector(8)', (Vector([1.0, 2.0]),), binary=True)
            raise AssertionError('no error for the wrong dimensions')
        except psycopg.errors.DataException as e:
            assert 'expected 8 dimensions, not 2' in str(e), str(e)


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/python3
"""test/diff/vxdiff.py: randomized differential testing of vectorx in SQL.

Each sequence is drawn from its seed alone (so it can be run again, and cut
down): a table of random dimension (1 to 4096; sometimes partitioned; its
column a vector or, in about 3 of 10 sequences, a halfvec, with the index
operator classes of that type) and a second one to join, then steps of
  DML       INSERT (NULL vectors, zero vectors, duplicates among them),
            UPDATE, DELETE, VACUUM, ANALYZE
  DDL       CREATE INDEX with each access method (hnsw; ivfpq, or in half
            the sequences' IVF indexes ivfflat), every operator class,
            serial, parallel, and with a small maintenance_work_mem;
            REINDEX (also CONCURRENTLY); DROP INDEX; btree indexes on the
            filter columns
  settings  hnsw.*, ivfpq.* (probes and iterative_scan also as ivfflat.*),
            vectorx.filter_strategy, enable_seqscan
  queries   ORDER BY <distance> LIMIT k (k from 1 to beyond the table) with
            filters of random shape and selectivity (=, IN, ranges, OR,
            IS NULL, a join, a partition key range), run plainly, as a
            prepared statement with a generic plan, or through a cursor
            read in parts, with a setting changed or rows skipped (MOVE)
            between the parts
Every query is checked against PostgreSQL's own exact answer (the same
query ordered by an expression no index matches):
  W  every row returned satisfies the WHERE clause
  O  rows come in nondecreasing exact distance (unless a relaxed_order
     setting asked otherwise)
  K  LIMIT rows whenever that many match, where vectorx promises it (a
     filtered query over one plain table with a constant LIMIT: README,
     "k rows whenever k match")
  E  the exact answer where the plan is exact (no vector index scan, or
     the prefilter strategy)
  R  recall against the exact answer, summed per sequence, above a floor
     (queries with settings meant for recall: hnsw.ef_search >= 40,
     ivfpq.probes >= 4, no visit budget) through indexes built for it
     (HNSW m >= 8 and ef_construction >= 32; IVF-PQ nbits 8 and
     m >= min(4, dims))
and after every step that changes the table or an index, every HNSW index
passes vectorx_hnsw_check (cut-offs of inserts aside until a VACUUM: hnsw.h
I6; --strict-reach counts them too) and every IVF-PQ index
vectorx_ivfpq_check, when the server has it.
Rows with a NULL vector (and, for cosine, a zero vector) are left out of
what "matches": no index returns them (pgvector's behaviour; see the
drop-in issue).

On a failure it prints the seed and the shortest sequence of steps it
found that still fails the same check (delta debugging), as SQL.

  vxdiff.py --seeds 1-20 --steps 40          (libpq environment: PGHOST...)
  vxdiff.py --seeds 7 --steps 40 --verbose   one sequence, every statement
Exit status 1 if any check failed.
"""

import argparse
import math
import os
import random
import re
import sys
import time

import psycopg2
import psycopg2.errors

OPS = {'l2': '<->', 'ip': '<#>', 'cosine': '<=>', 'l1': '<+>'}
HNSW_OPS = ['l2', 'ip', 'cosine', 'l1']
IVFPQ_OPS = ['l2', 'ip', 'cosine']
RECALL_FLOOR = 0.80
EPS = 1e-4


class Step:
    """One step: kind, SQL statements, and for queries the query's shape."""

    def __init__(self, kind, sql, query=None):
        self.kind = kind
        self.sql = sql if isinstance(sql, list) else [sql]
        self.query = query

    def text(self):
        return '\n'.join(s.rstrip(';') + ';' for s in self.sql)


class Failure(Exception):
    def __init__(self, check, message):
        super().__init__(message)
        self.check = check
        self.message = message


# ---------------------------------------------------------------- generation

class Generator:
    """Draws a sequence from a seed: statements as text, so that a replay
    of any subset runs the same statements."""

    def __init__(self, seed, steps):
        self.r = random.Random(seed)
        self.seed = seed
        self.nsteps = steps
        r = self.r
        self.dims = r.choice([1, 2, 3, 8, 16, 16, 32, 64, 300, 4096])
        # from a generator of its own, so that the vector sequences of every
        # seed stay what they were before halfvec
        self.typ = 'halfvec' if random.Random(seed * 7919 + 1).random() < 0.3 else 'vector'
        # the same for turning half of the IVF-PQ indexes into ivfflat ones
        self.flat_rng = random.Random(seed * 7919 + 2)
        self.partitioned = r.random() < 0.25
        self.next_id = 1
        self.vectors = []
        self.indexes = {}       # name -> (am, op)
        self.nidx = 0
        self.relaxed = False

    def vec(self):
        r = self.r
        x = r.random()
        if x < 0.04:
            return 'NULL'
        if x < 0.07:
            return "'[%s]'" % ','.join(['0'] * self.dims)
        if x < 0.17 and self.vectors:
            return r.choice(self.vectors)
        v = "'[%s]'" % ','.join('%.3f' % r.uniform(-1, 1) for _ in range(self.dims))
        if len(self.vectors) < 200:
            self.vectors.append(v)
        return v

    def query_vec(self):
        r = self.r
        x = r.random()
        if x < 0.03:
            return "'[%s]'" % ','.join(['0'] * self.dims)
        if x < 0.25 and self.vectors:
            return r.choice(self.vectors)
        return "'[%s]'" % ','.join('%.3f' % r.uniform(-1, 1) for _ in range(self.dims))

    def setup(self):
        d = self.dims
        part = ' PARTITION BY RANGE (id)' if self.partitioned else ''
        sql = ['CREATE TABLE t (id int, grp int, cat text, val int, v %s(%d), PRIMARY KEY (id))%s' % (self.typ, d, part)]
        if self.partitioned:
            sql += ['CREATE TABLE t_p0 PARTITION OF t FOR VALUES FROM (MINVALUE) TO (150)',
                    'CREATE TABLE t_p1 PARTITION OF t FOR VALUES FROM (150) TO (400)',
                    'CREATE TABLE t_p2 PARTITION OF t FOR VALUES FROM (400) TO (MAXVALUE)']
        sql += ['ALTER TABLE %s SET (autovacuum_enabled = false)' % tb for tb in self.tables()]
        sql += ['CREATE TABLE t2 (grp int PRIMARY KEY, label text)',
                "INSERT INTO t2 SELECT g, CASE WHEN g % 3 = 0 THEN 'a' ELSE 'b' END FROM generate_series(0, 19) g"]
        steps = [Step('setup', sql), self.insert(self.r.randint(20, 300))]
        # mostly through the indexes: small tables would otherwise be scanned
        if self.r.random() < 0.7:
            steps.append(Step('set', 'SET enable_seqscan = off'))
        return steps

    def tables(self):
        return ['t_p0', 't_p1', 't_p2'] if self.partitioned else ['t']

    def insert(self, n):
        rows = []
        for _ in range(n):
            i = self.next_id
            self.next_id += 1
            val = 'NULL' if self.r.random() < 0.1 else str(self.r.randint(0, 99))
            rows.append("(%d, %d, 'c%d', %s, %s)" % (i, self.r.randint(0, 19), self.r.randint(0, 4), val, self.vec()))
        return Step('dml', 'INSERT INTO t VALUES ' + ', '.join(rows))

    def index_step(self):
        r = self.r
        self.nidx += 1
        name = 'vx%d' % self.nidx
        pre = []
        how = r.choice(['serial', 'serial', 'parallel', 'small_memory'])
        if how == 'parallel':
            pre = ['SET max_parallel_maintenance_workers = 2'] + \
                  ['ALTER TABLE %s SET (parallel_workers = 2)' % tb for tb in self.tables()]
        elif how == 'small_memory':
            pre = ["SET maintenance_work_mem = '1MB'", 'SET max_parallel_maintenance_workers = 0']
        else:
            pre = ['SET max_parallel_maintenance_workers = 0']
        if r.random() < 0.6:
            op = r.choice(HNSW_OPS)
            m = r.choice([2, 4, 8, 16])
            sql = 'CREATE INDEX %s ON t USING hnsw (v %s_%s_ops) WITH (m = %d, ef_construction = %d)' % (
                name, self.typ, op, m, max(2 * m, r.choice([8, 32, 64])))
            am = 'hnsw'
        else:
            op = r.choice(IVFPQ_OPS)
            m = r.choice([x for x in (1, 2, 4, 8, 16) if x <= self.dims])
            lists = r.choice([1, 4, 16])
            nbits = r.choice([4, 8])
            sql = 'CREATE INDEX %s ON t USING ivfpq (v %s_%s_ops) WITH (lists = %d, m = %d, nbits = %d)' % (
                name, self.typ, op, lists, m, nbits)
            am = 'ivfpq'
            if self.flat_rng.random() < 0.5:
                sql = 'CREATE INDEX %s ON t USING ivfflat (v %s_%s_ops) WITH (lists = %d)' % (
                    name, self.typ, op, lists)
                am = 'ivfflat'
        self.indexes[name] = (am, op)
        return Step('ddl', pre + [sql, 'RESET maintenance_work_mem', 'RESET max_parallel_maintenance_workers'])

    def setting(self):
        r = self.r
        choices = [
            ('hnsw.ef_search', ['1', '10', '40', '40', '200']),
            ('hnsw.max_scan_tuples', ['50', '20000']),
            ('hnsw.iterative_scan', ['strict_order', 'strict_order', 'relaxed_order', 'off']),
            ('ivfpq.probes', ['1', '4', '4', '100']),
            ('ivfpq.rerank', ['0', '10', '100', '100']),
            ('ivfpq.iterative_scan', ['strict_order', 'strict_order', 'relaxed_order', 'off']),
            ('vectorx.filter_strategy', ['auto', 'auto', 'prefilter', 'inscan', 'postfilter']),
            ('enable_seqscan', ['on', 'off', 'off']),
        ]
        name, values = r.choice(choices)
        value = r.choice(values)
        # ivfflat follows IVF-PQ's probes and iterative scan
        if name in ('ivfpq.probes', 'ivfpq.iterative_scan'):
            return Step('set', ['SET %s = %s' % (name, value), 'SET %s = %s' % (name.replace('ivfpq', 'ivfflat'), value)])
        return Step('set', 'SET %s = %s' % (name, value))

    def filter(self):
        r = self.r
        g = r.randint(0, 19)
        shapes = [
            ('', False),
            ('t.grp = %d' % g, False),
            ('t.grp IN (%s)' % ', '.join(str(r.randint(0, 19)) for _ in range(r.randint(1, 5))), False),
            ('t.val BETWEEN %d AND %d' % (g, g + r.randint(0, 60)), False),
            ('t.val IS NULL', False),
            ("(t.cat = 'c%d' OR t.grp = %d)" % (r.randint(0, 4), g), False),
            ('t.id < %d' % r.randint(1, 500), False),
            ('t.val < %d AND t.grp <> %d' % (r.randint(0, 100), g), False),
            ("t2.label = '%s'" % r.choice('ab'), True),
        ]
        return r.choice(shapes)

    def query(self):
        r = self.r
        if not self.indexes:
            op = r.choice(HNSW_OPS)
        else:
            op = self.indexes[r.choice(sorted(self.indexes))][1] if r.random() < 0.85 else r.choice(HNSW_OPS)
        where, join = self.filter()
        limit = r.choice([1, 3, 10, 10, 50, self.next_id + 10])
        mode = r.choice(['plain', 'plain', 'generic', 'cursor', 'move'])
        q = {'op': OPS[op], 'opname': op, 'vec': self.query_vec(), 'where': where, 'join': join,
             'limit': limit, 'mode': mode, 'set_between': None, 'move': 0, 'typ': self.typ}
        if mode == 'cursor':
            q['set_between'] = self.setting().sql[0]
        if mode == 'move':
            q['move'] = r.randint(1, 5)
        return Step('query', [], q)

    def steps(self):
        r = self.r
        out = self.setup()
        for _ in range(self.nsteps):
            x = r.random()
            if x < 0.30:
                out.append(self.query())
            elif x < 0.42:
                out.append(self.insert(r.randint(1, 80)))
            elif x < 0.48:
                out.append(Step('dml', 'UPDATE t SET v = %s WHERE id %% %d = %d' % (
                    self.vec(), r.randint(5, 40), r.randint(0, 4))))
            elif x < 0.52:
                out.append(Step('dml', 'UPDATE t SET grp = (grp + 1) %% 20, val = val + 1 WHERE id %% %d = 0' % r.randint(2, 9)))
            elif x < 0.58:
                out.append(Step('dml', 'DELETE FROM t WHERE id %% %d = %d' % (r.randint(3, 15), r.randint(0, 2))))
            elif x < 0.64:
                out.append(Step('vacuum', r.choice(['VACUUM t', 'VACUUM (INDEX_CLEANUP ON) t', 'VACUUM ANALYZE t'])))
            elif x < 0.66:
                out.append(Step('dml', 'ANALYZE t'))
            elif x < 0.78:
                out.append(self.index_step())
            elif x < 0.81 and self.indexes:
                name = r.choice(sorted(self.indexes))
                conc = 'CONCURRENTLY ' if r.random() < 0.5 else ''
                out.append(Step('ddl', 'REINDEX INDEX %s%s' % (conc, name)))
            elif x < 0.83 and self.indexes:
                name = r.choice(sorted(self.indexes))
                del self.indexes[name]
                out.append(Step('ddl', 'DROP INDEX %s' % name))
            elif x < 0.86:
                col = r.choice(['grp', 'val', 'cat'])
                self.nidx += 1
                out.append(Step('ddl', 'CREATE INDEX b%d ON t (%s)' % (self.nidx, col)))
            else:
                out.append(self.setting())
        return out


# ---------------------------------------------------------------- running

class Runner:
    def __init__(self, conn, seed, verbose=False, tolerant=False):
        self.conn = conn
        self.cur = conn.cursor()
        self.seed = seed
        self.verbose = verbose
        self.tolerant = tolerant     # replays: a statement naming what a cut removed may fail
        self.settings = {}
        self.hits = 0
        self.wanted = 0
        self.statements = 0
        self.queries = 0
        self.plans = {}          # what answered: exact, index, prefilter, inscan, postfilter, adaptive
        self.has_ivfpq_check = None
        self.query_recall = 0.0      # a floor per query too (to chase a low recall)

    strict_reach = False             # --strict-reach: I6 also before VACUUM

    def sql(self, s, args=None):
        if self.verbose:
            print('    ' + s.rstrip(';') + ';')
        self.statements += 1
        self.cur.execute(s, args)
        return self.cur.fetchall() if self.cur.description else None

    def start(self):
        schema = 'vxd_%d' % self.seed
        self.cur.execute('DROP SCHEMA IF EXISTS %s CASCADE' % schema)
        self.cur.execute('CREATE SCHEMA %s' % schema)
        self.cur.execute('SET search_path = %s, public' % schema)
        self.cur.execute('RESET ALL')
        self.cur.execute('SET search_path = %s, public' % schema)
        self.cur.execute("SET client_min_messages = warning")
        self.cur.execute("SELECT count(*) FROM pg_proc WHERE proname = 'vectorx_ivfpq_check'")
        self.has_ivfpq_check = self.cur.fetchone()[0] > 0

    def finish(self):
        self.cur.execute('RESET ALL')
        self.cur.execute('DROP SCHEMA IF EXISTS vxd_%d CASCADE' % self.seed)

    def run(self, steps):
        """Run the steps; raise Failure (check, message) with the index of the failing step."""
        self.start()
        for i, st in enumerate(steps):
            try:
                self.step(st)
            except Failure as f:
                f.step = i
                raise
            except psycopg2.Error as e:
                if self.tolerant and st.kind != 'query' and e.pgcode in ('42704', '42P01', '42P07', '42710'):
                    continue
                f = Failure('X', 'statement failed: %s (SQLSTATE %s)\n  %s' % (
                    str(e).strip().splitlines()[0], e.pgcode, st.text() if st.kind != 'query' else describe(st.query)))
                f.step = i
                raise f
        return self

    def step(self, st):
        if st.kind == 'query':
            self.query(st.query)
            return
        for s in st.sql:
            self.sql(s)
            if s.startswith('SET '):
                name, value = s[4:].split(' = ', 1)
                self.settings[name] = value
            elif s.startswith('RESET '):
                self.settings.pop(s[6:], None)
        if st.kind in ('dml', 'vacuum', 'ddl'):
            self.check_indexes(whole=st.kind == 'vacuum')

    def check_indexes(self, whole):
        rows = self.sql("""SELECT c.oid::regclass::text, a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
                           JOIN pg_index i ON i.indexrelid = c.oid
                           WHERE c.relnamespace = current_schema()::regnamespace AND a.amname IN ('hnsw', 'ivfpq', 'ivfflat')
                           AND c.relkind = 'i' AND i.indisvalid ORDER BY 1""")
        for name, am in rows:
            if am == 'hnsw':
                ok, problems = self.sql('SELECT ok, problems FROM vectorx_hnsw_check(%s)', (name,))[0]
                bad = [p for p in problems if whole or self.strict_reach or not p.startswith('I6:')]
            elif self.has_ivfpq_check:
                ok, problems = self.sql('SELECT ok, problems FROM vectorx_ivfpq_check(%s)', (name,))[0]
                bad = list(problems)
            else:
                continue
            if bad:
                raise Failure('S', 'index %s fails its check: %s' % (name, '; '.join(bad)))

    # -- queries

    def query_sql(self, q, order_expr=None, limit=True):
        frm = 't JOIN t2 ON t2.grp = t.grp' if q['join'] else 't'
        where = ('WHERE ' + q['where']) if q['where'] else ''
        order = order_expr or ('t.v %s %s' % (q['op'], q['vec']))
        lim = ('LIMIT %d' % q['limit']) if limit else ''
        return 'SELECT t.id FROM %s %s ORDER BY %s %s' % (frm, where, order, lim)

    def query(self, q):
        self.queries += 1
        mode = q['mode']
        skipped = 0
        if mode == 'plain':
            ids = [r[0] for r in self.sql(self.query_sql(q))]
        elif mode == 'generic':
            self.sql('DEALLOCATE ALL')
            self.sql('SET plan_cache_mode = force_generic_plan')
            frm = 't JOIN t2 ON t2.grp = t.grp' if q['join'] else 't'
            where = ('WHERE ' + q['where']) if q['where'] else ''
            self.sql('PREPARE p(' + q['typ'] + ') AS SELECT t.id FROM %s %s ORDER BY t.v %s $1 LIMIT %d' % (
                frm, where, q['op'], q['limit']))
            ids = [r[0] for r in self.sql('EXECUTE p(%s)' % q['vec'])]
            self.sql('RESET plan_cache_mode')
        else:
            self.conn.autocommit = False
            try:
                self.sql('DECLARE c NO SCROLL CURSOR FOR ' + self.query_sql(q))
                ids = [r[0] for r in self.sql('FETCH 2 FROM c')]
                if mode == 'cursor':
                    # read once, when the scan starts (README): the change must not disturb it
                    self.sql(q['set_between'])
                else:
                    self.sql('MOVE %d FROM c' % q['move'])
                    skipped = self.cur.rowcount
                ids += [r[0] for r in self.sql('FETCH ALL FROM c')]
                self.sql('CLOSE c')
            finally:
                self.conn.rollback()
                self.conn.autocommit = True
        self.verify(q, ids, skipped)

    def verify(self, q, ids, skipped):
        op = q['op']
        frm = 't JOIN t2 ON t2.grp = t.grp' if q['join'] else 't'
        where = q['where'] or 'true'
        # rows that match: the WHERE clause, a vector, and for cosine a
        # direction (no index returns the others: see the module comment)
        cond = where + ' AND t.v IS NOT NULL'
        zero_query = q['vec'].strip("'[]").replace('0', '').replace(',', '') == ''
        if q['opname'] == 'cosine':
            cond += ' AND vector_norm(t.v::vector) > 0' + (' AND false' if zero_query else '')
        where_ok = set(r[0] for r in self.sql('SELECT t.id FROM %s WHERE %s' % (frm, where)))
        exact = [d for _, d in self.sql('SELECT t.id, (t.v %s %s)::float8 + 0 FROM %s WHERE %s ORDER BY 2, 1 LIMIT %d' % (
            op, q['vec'], frm, cond, q['limit']))]
        nmatch = self.sql('SELECT count(*) FROM %s WHERE %s' % (frm, cond))[0][0]
        desc = describe(q)
        # W
        bad = [i for i in ids if i not in where_ok]
        if bad:
            raise Failure('W', '%d rows returned that fail the WHERE clause (ids %s)\n  %s' % (len(bad), bad[:5], desc))
        if len(set(ids)) != len(ids):
            raise Failure('W', 'a row returned twice\n  %s' % desc)
        dist = {}
        if ids:
            for i, d in self.sql('SELECT t.id, (t.v %s %s)::float8 FROM t WHERE t.id = ANY(%%s)' % (op, q['vec']), (ids,)):
                dist[i] = d
        ds = [dist.get(i) for i in ids]
        # O
        relaxed = self.settings.get('hnsw.iterative_scan') == 'relaxed_order' or \
            self.settings.get('ivfpq.iterative_scan') == 'relaxed_order' or \
            self.settings.get('ivfflat.iterative_scan') == 'relaxed_order'
        if not relaxed:
            for a, b in zip(ds, ds[1:]):
                if number(a) and number(b) and b < a - EPS * max(1.0, abs(a)):
                    raise Failure('O', 'rows out of order: distance %r after %r\n  %s' % (b, a, desc))
        plan = '\n'.join(r[0] for r in self.sql('EXPLAIN (COSTS OFF) ' + self.query_sql(q)))
        words = set(plan.replace('\n', ' ').split())
        uses_index = any(n in words for n in self.vector_indexes()) or 'VectorX' in plan
        # exact: no vector index scanned, and every filtered-search node
        # prefilters (a Merge Append over partitions can mix strategies)
        strategies = re.findall(r'Strategy: (\w+)', plan)
        exact_plan = not any(n in words for n in self.vector_indexes()) and \
            all(s == 'prefilter' for s in strategies)
        kind = 'exact' if not uses_index else 'index'
        for k in ('prefilter', 'inscan', 'postfilter', 'adaptive'):
            if 'Strategy: ' + k in plan:
                kind = k
        self.plans[kind] = self.plans.get(kind, 0) + 1
        want = min(q['limit'], nmatch)
        # K
        promised = bool(q['where']) and not q['join'] and not self.partitioned and \
            q['mode'] in ('plain', 'generic') and 'VectorX Filtered Search' in plan
        # (an exact strategy also returns rows without a distance, last)
        if promised and not want <= len(ids) <= min(q['limit'], len(where_ok)):
            raise Failure('K', '%d rows where %d match and the LIMIT is %d\n  %s\n%s' % (
                len(ids), nmatch, q['limit'], desc, plan))
        if skipped:
            return
        # E: PostgreSQL's own answer, NULL distances (last) included
        # (a cursor's plan is made for its first rows (cursor_tuple_fraction):
        # it may not be the plan EXPLAIN shows for the query)
        if exact_plan and q['mode'] not in ('cursor', 'move'):
            pg = [d for _, d in self.sql(self.query_sql(q, order_expr='(t.v %s %s) + 0, t.id' % (op, q['vec'])).replace(
                'SELECT t.id FROM', 'SELECT t.id, (t.v %s %s)::float8 FROM' % (op, q['vec']), 1))]
            if len(ids) != len(pg) or any(not same(d, e) for d, e in zip(ds, pg)):
                raise Failure('E', 'an exact plan answered %d rows, distances %s, where PostgreSQL answers %d rows, %s\n  %s\n%s' % (
                    len(ids), fmt(ds[:5]), len(pg), fmt(pg[:5]), desc, plan))
        # R
        if uses_index and not exact_plan and want > 0 and self.recall_settings() and self.good_graphs(words):
            kth = exact[want - 1]
            hits = sum(1 for d in ds[:want] if number(d) and d <= kth + EPS * max(1.0, abs(kth)))
            self.hits += hits
            self.wanted += want
            if hits < self.query_recall * want:
                raise Failure('Q', 'recall %d/%d below --query-recall %.2f\n  %s\n%s' % (
                    hits, want, self.query_recall, desc, plan))
            if self.verbose:
                print('    -- recall %d/%d through %s' % (hits, want, ', '.join(
                    n for n in self.vector_indexes() if n in words) or kind))

    def vector_indexes(self):
        return [r[0] for r in self.sql("""SELECT c.relname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
                                           WHERE c.relnamespace = current_schema()::regnamespace
                                           AND a.amname IN ('hnsw', 'ivfpq', 'ivfflat')""")]

    def good_graphs(self, words):
        """No index in the plan is built to miss: an HNSW graph of m < 8 or
        ef_construction < 32, or PQ codes of nbits 4, of fewer than
        min(4, dims) sub-quantizers or more than 16 dimensions per
        sub-quantizer, or trained on fewer rows than a sub-quantizer has
        codes (the build's NOTICE; on this uniform random data their
        estimates misorder so much that strict order skips many rows:
        README, "ORDER BY is a promise")."""
        for name, am, opts in self.sql("""SELECT c.relname, a.amname, coalesce(c.reloptions, '{}') FROM pg_class c
                                          JOIN pg_am a ON a.oid = c.relam
                                          WHERE c.relnamespace = current_schema()::regnamespace
                                          AND a.amname IN ('hnsw', 'ivfpq', 'ivfflat')"""):
            if name not in words:
                continue
            o = dict(x.split('=') for x in opts)
            if am == 'hnsw' and (int(o.get('m', 16)) < 8 or int(o.get('ef_construction', 64)) < 32):
                return False
            # inner product on 1-3 dimensions: every query's answer is the
            # same few extremes, and strict order skips many rows that the
            # graph walk finds after farther ones (no triangle inequality
            # bounds what lies behind its frontier; seed 43)
            if am == 'hnsw' and self.dims < 4 and self.index_opclass(name) == 'ip':
                return False
            if am == 'ivfpq' and (int(o.get('nbits', 8)) < 8 or 0 < int(o.get('m', 0)) < min(4, self.dims)):
                return False
            # ivfflat probes pgvector's default of 1 list unless told more
            if am == 'ivfflat' and (int(self.settings.get('ivfflat.probes', '1')) < 4 or
                                    self.settings.get('ivfflat.iterative_scan') == 'off'):
                return False
            if am == 'ivfpq':
                stats = dict(self.sql("SELECT stat, value FROM vectorx_index_stats(%s) "
                                      "WHERE stat IN ('m', 'training_rows', 'trained')", (name,)))
                if stats.get('trained') and (self.dims > 16 * stats['m'] or
                                             stats['training_rows'] < 2 ** int(o.get('nbits', 8))):
                    return False
        return True

    def index_opclass(self, name):
        """The operator class of an index: l2, ip, cosine or l1."""
        return self.sql("""SELECT regexp_replace(o.opcname, '^(vector|halfvec)_(.*)_ops$', '\\2')
                           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                           JOIN pg_opclass o ON o.oid = i.indclass[0]
                           WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace""",
                        (name,))[0][0]

    def recall_settings(self):
        s = self.settings
        return (int(s.get('hnsw.ef_search', '40')) >= 40 and int(s.get('ivfpq.probes', '4')) >= 4 and
                s.get('hnsw.max_scan_tuples', '20000') == '20000' and s.get('hnsw.iterative_scan') != 'off' and
                s.get('ivfpq.iterative_scan') != 'off' and s.get('ivfpq.rerank', '100') != '0')


def number(d):
    return d is not None and not math.isnan(d)


def same(d, e):
    if d is None or e is None:
        return d is None and e is None
    if math.isnan(d) or math.isnan(e):
        return math.isnan(d) and math.isnan(e)
    return abs(d - e) <= EPS * max(1.0, abs(e))


def fmt(ds):
    return '[' + ', '.join('-' if d is None else '%.4g' % d for d in ds) + ']'


def short(text):
    """Vector literals cut to their first elements, VALUES lists to a count."""
    out = []
    for line in text.split('\n'):
        if line.startswith('INSERT INTO t VALUES') and len(line) > 150:
            line = 'INSERT INTO t VALUES ... (%d rows)' % line.count("'c")
        out.append(re.sub(r"'\[([^\]]{40})[^\]]*\]'", r"'[\1...]'", line))
    return '\n'.join(out)


def full_query(q):
    """The query as SQL that runs (the cursor and prepared forms as such)."""
    frm = 't JOIN t2 ON t2.grp = t.grp' if q['join'] else 't'
    where = (' WHERE ' + q['where']) if q['where'] else ''
    base = 'SELECT t.id FROM %s%s ORDER BY t.v %s %s LIMIT %d' % (frm, where, q['op'], q['vec'], q['limit'])
    if q['mode'] == 'generic':
        return ('SET plan_cache_mode = force_generic_plan;\nPREPARE p(%s) AS %s;\nEXECUTE p(%s);\nDEALLOCATE p;' %
                (q['typ'], base.replace(q['vec'], '$1'), q['vec']))
    if q['mode'] in ('cursor', 'move'):
        mid = q['set_between'] if q['mode'] == 'cursor' else 'MOVE %d FROM c' % q['move']
        return 'BEGIN;\nDECLARE c NO SCROLL CURSOR FOR %s;\nFETCH 2 FROM c;\n%s;\nFETCH ALL FROM c;\nCOMMIT;' % (base, mid)
    return base + ';'


def describe(q):
    frm = 't JOIN t2 ON t2.grp = t.grp' if q['join'] else 't'
    where = (' WHERE ' + q['where']) if q['where'] else ''
    vec = q['vec'] if len(q['vec']) < 60 else q['vec'][:40] + "...]'"
    extra = ''
    if q['mode'] == 'cursor':
        extra = ' [cursor: FETCH 2, %s, FETCH ALL]' % q['set_between']
    elif q['mode'] == 'move':
        extra = ' [cursor: FETCH 2, MOVE %d, FETCH ALL]' % q['move']
    elif q['mode'] == 'generic':
        extra = ' [prepared, generic plan]'
    return 'SELECT t.id FROM %s%s ORDER BY t.v %s %s LIMIT %d%s' % (frm, where, q['op'], vec, q['limit'], extra)


# ---------------------------------------------------------------- shrinking

def fails_same(conn, seed, steps, check, partitioned, query_recall=0.0):
    r = Runner(conn, seed, tolerant=True)
    r.query_recall = query_recall
    r.partitioned = partitioned
    r.dims = 16
    try:
        r.run(steps)
    except Failure as f:
        return f.check == check and f.step == len(steps) - 1
    finally:
        try:
            conn.rollback()
            conn.autocommit = True
            r.finish()
        except psycopg2.Error:
            pass
    return False


def shrink(conn, seed, steps, check, partitioned, budget, query_recall=0.0):
    """ddmin over the steps before the failing one (the setup stays)."""
    head, body, last = steps[:1], steps[1:-1], steps[-1:]
    n = 2
    t0 = time.time()
    while len(body) >= 1 and time.time() - t0 < budget:
        chunk = max(1, len(body) // n)
        reduced = False
        for i in range(0, len(body), chunk):
            cand = body[:i] + body[i + chunk:]
            if fails_same(conn, seed, head + cand + last, check, partitioned, query_recall):
                body = cand
                n = max(n - 1, 2)
                reduced = True
                break
        if not reduced:
            if chunk == 1:
                break
            n = min(len(body), n * 2)
    return head + body + last


# ---------------------------------------------------------------- main

def seeds_arg(s):
    out = []
    for part in s.split(','):
        if '-' in part:
            a, b = part.split('-')
            out += list(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seeds', type=seeds_arg, default=seeds_arg('1-10'))
    ap.add_argument('--steps', type=int, default=40)
    ap.add_argument('--dbname', default='vx_diff')
    ap.add_argument('--verbose', action='store_true')
    ap.add_argument('--shrink-seconds', type=int, default=300)
    ap.add_argument('--out-dir', default='.', help='where the SQL of a failing sequence is written')
    ap.add_argument('--query-recall', type=float, default=0.0,
                    help='fail (and cut down) any single query below this recall')
    ap.add_argument('--strict-reach', action='store_true',
                    help='fail on elements cut off before VACUUM too (hnsw.h I6: inserts reconnect '
                         'most, not all; for chasing what they miss)')
    args = ap.parse_args()
    Runner.strict_reach = args.strict_reach

    admin = psycopg2.connect(dbname='postgres')
    admin.autocommit = True
    with admin.cursor() as c:
        c.execute('SELECT 1 FROM pg_database WHERE datname = %s', (args.dbname,))
        if not c.fetchone():
            c.execute('CREATE DATABASE %s' % args.dbname)
    admin.close()
    conn = psycopg2.connect(dbname=args.dbname)
    conn.autocommit = True
    with conn.cursor() as c:
        c.execute('CREATE EXTENSION IF NOT EXISTS vectorx')

    totals = {'sequences': 0, 'statements': 0, 'queries': 0, 'failures': 0}
    plans = {}
    hits = wanted = 0
    t0 = time.time()
    for seed in args.seeds:
        gen = Generator(seed, args.steps)
        steps = gen.steps()
        runner = Runner(conn, seed, verbose=args.verbose)
        runner.partitioned = gen.partitioned
        runner.dims = gen.dims
        runner.query_recall = args.query_recall
        totals['sequences'] += 1
        try:
            runner.run(steps)
            if runner.wanted and runner.hits / runner.wanted < RECALL_FLOOR:
                raise Failure('R', 'recall %.3f over %d results, below %.2f' % (
                    runner.hits / runner.wanted, runner.wanted, RECALL_FLOOR))
            runner.finish()
        except Failure as f:
            totals['failures'] += 1
            try:
                conn.rollback()
            except psycopg2.Error:
                pass
            conn.autocommit = True
            print('FAIL seed %d (dims %d%s), check %s: %s' % (
                seed, gen.dims, ', partitioned' if gen.partitioned else '', f.check, f.message))
            if f.check != 'R':
                cut = shrink(conn, seed, steps[:f.step + 1], f.check, gen.partitioned, args.shrink_seconds,
                             args.query_recall)
                path = os.path.join(args.out_dir, 'vxdiff-seed-%d.sql' % seed)
                with open(path, 'w') as out:
                    out.write('-- vxdiff seed %d, check %s: the shortest failing sequence found\n' % (seed, f.check))
                    for st in cut:
                        out.write((full_query(st.query) if st.kind == 'query' else st.text()) + '\n')
                print('  shortest failing sequence found: %d of %d steps, in full in %s:' % (len(cut), f.step + 1, path))
                for st in cut:
                    print('    ' + short(describe(st.query) if st.kind == 'query' else st.text()).replace('\n', '\n    '))
            Runner(conn, seed).finish()
        totals['statements'] += runner.statements
        totals['queries'] += runner.queries
        for k, n in runner.plans.items():
            plans[k] = plans.get(k, 0) + n
        hits += runner.hits
        wanted += runner.wanted
        if args.verbose:
            print('seed %d: dims %d%s, %d statements, %d queries' % (
                seed, gen.dims, ', partitioned' if gen.partitioned else '', runner.statements, runner.queries))
    print('vxdiff: %d sequences, %d statements, %d queries checked (%s), recall %.3f over %d results, %d failures, %.0f s' % (
        totals['sequences'], totals['statements'], totals['queries'],
        ', '.join('%s %d' % kv for kv in sorted(plans.items())),
        hits / wanted if wanted else 1.0, wanted, totals['failures'], time.time() - t0))
    return 1 if totals['failures'] else 0


if __name__ == '__main__':
    sys.exit(main())

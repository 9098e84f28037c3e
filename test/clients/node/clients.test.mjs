// pgvector's Node.js client library (npm "pgvector") with the drivers its
// README covers first, node-postgres ("pg") and Postgres.js ("postgres"),
// used as their users do, against a server with vectorx: the application
// runs CREATE EXTENSION IF NOT EXISTS vector, creates a table, inserts
// through pgvector.toSql, and queries nearest neighbours through an HNSW
// index, in text mode and with prepared statements; the same for halfvec
// columns, read back through the library's halfvec parser.  Answers
// are checked against a brute-force search done here.  The libpq
// environment (PGHOST, PGPORT, PGUSER) names the server; each run uses a
// database of its own, created and dropped here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import postgres from 'postgres';
import pgvector from 'pgvector/pg';
import { toSql, SparseVector } from 'pgvector';

const DB = `vx_clients_${process.pid}`;
const DIMS = 16;
const N = 500;

// seeded data: the same rows and queries every run
let seed = 42;
function rand() {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const rows = Array.from({ length: N }, (_, i) => ({
  id: i + 1,
  tenant: i % 4,
  v: Array.from({ length: DIMS }, () => Math.fround(rand() * 2 - 1)),
}));
const queries = Array.from({ length: 10 }, () => Array.from({ length: DIMS }, () => Math.fround(rand() * 2 - 1)));

function l2(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}
function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return 1 - ab / Math.sqrt(aa * bb);
}
function exact(q, k, dist, filter = () => true) {
  return rows.filter(filter).map((r) => [r.id, dist(r.v, q)]).sort((x, y) => x[1] - y[1] || x[0] - y[0])
    .slice(0, k).map((x) => x[0]);
}

let admin;
before(async () => {
  admin = new pg.Client({ database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`CREATE DATABASE ${DB}`);
});
after(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.end();
});

test('node-postgres: the README example of pgvector-node', async () => {
  const client = new pg.Client({ database: DB });
  await client.connect();
  try {
  await client.query('CREATE EXTENSION IF NOT EXISTS vector');
  await pgvector.registerTypes(client);
  await client.query(`CREATE TABLE items (id bigint PRIMARY KEY, tenant int, embedding vector(${DIMS}))`);
  for (const r of rows)
    await client.query('INSERT INTO items (id, tenant, embedding) VALUES ($1, $2, $3)', [r.id, r.tenant, pgvector.toSql(r.v)]);
  await client.query('CREATE INDEX ON items USING hnsw (embedding vector_l2_ops)');
  await client.query('SET enable_seqscan = off');

  // values read back are arrays of the same float4s (printed with the
  // fewest digits that read back as the same float4)
  const back = await client.query('SELECT embedding FROM items WHERE id = 7');
  assert.deepEqual(back.rows[0].embedding.map(Math.fround), rows[6].v);

  let hits = 0;
  for (const q of queries) {
    const res = await client.query('SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 5', [pgvector.toSql(q)]);
    const want = exact(q, 5, l2);
    hits += res.rows.filter((r) => want.includes(Number(r.id))).length;
  }
  assert.ok(hits >= 0.9 * 5 * queries.length, `recall ${hits}/${5 * queries.length}`);

  // a prepared statement (named: the driver prepares it once), with a filter
  for (const q of queries) {
    const res = await client.query({
      name: 'knn_tenant',
      text: 'SELECT id, embedding <=> $1 AS distance FROM items WHERE tenant = $2 ORDER BY embedding <=> $1 LIMIT 3',
      values: [pgvector.toSql(q), 2],
    });
    assert.equal(res.rows.length, 3);
    for (const r of res.rows) assert.equal((Number(r.id) - 1) % 4, 2, 'rows of tenant 2 only');
    const want = exact(q, 3, cosine, (row) => row.tenant === 2);
    assert.deepEqual(res.rows.map((r) => Number(r.id)), want);
    const d = res.rows.map((r) => r.distance);
    assert.deepEqual([...d].sort((a, b) => a - b), d, 'rows in distance order');
  }
  } finally {
    await client.end();
  }
});

test('node-postgres: cosine index, exact answers at high ef_search', async () => {
  const client = new pg.Client({ database: DB });
  await client.connect();
  try {
  await pgvector.registerTypes(client);
  await client.query('CREATE INDEX items_cos ON items USING hnsw (embedding vector_cosine_ops)');
  await client.query('SET enable_seqscan = off; SET hnsw.ef_search = 400');
  for (const q of queries) {
    const res = await client.query('SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 10', [pgvector.toSql(q)]);
    assert.deepEqual(res.rows.map((r) => Number(r.id)), exact(q, 10, cosine));
  }
  // binary quantization with an exact re-rank (pgvector's docs)
  const q = queries[0];
  const res = await client.query(
    `SELECT id FROM (SELECT id, embedding FROM items ORDER BY binary_quantize(embedding)::bit(${DIMS}) <~> binary_quantize($1::vector) LIMIT 50) s
     ORDER BY embedding <=> $1 LIMIT 5`, [pgvector.toSql(q)]);
  assert.equal(res.rows.length, 5);
  } finally {
    await client.end();
  }
});

test('Postgres.js: the same, with its tagged templates', async () => {
  const sql = postgres({ database: DB, onnotice: () => {} });
  try {
  await sql`CREATE EXTENSION IF NOT EXISTS vector`;
  await sql`CREATE TABLE docs (id int PRIMARY KEY, embedding vector(${sql.unsafe(String(DIMS))}))`;
  await sql`INSERT INTO docs ${sql(rows.slice(0, 200).map((r) => ({ id: r.id, embedding: toSql(r.v) })))}`;
  await sql`CREATE INDEX ON docs USING hnsw (embedding vector_l2_ops)`;
  const q = queries[1];
  const got = await sql`SELECT id, embedding::text AS e FROM docs ORDER BY embedding <-> ${toSql(q)} LIMIT 5`;
  const want = rows.slice(0, 200).map((r) => [r.id, l2(r.v, q)]).sort((a, b) => a[1] - b[1]).slice(0, 5).map((x) => x[0]);
  assert.deepEqual(got.map((r) => r.id), want);
  assert.deepEqual(JSON.parse(got[0].e).map(Math.fround), rows[want[0] - 1].v);
  } finally {
    await sql.end();
  }
});

// binary16 rounding, nearest even: what a halfvec stores of a number
function f16round(x) {
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  let e = Math.max(Math.floor(Math.log2(a)), -14);
  if (2 ** e > a && e > -14) e--;
  if (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (e - 10);
  const q = a / ulp;
  const f = Math.floor(q);
  const r = q - f > 0.5 || (q - f === 0.5 && f % 2 === 1) ? f + 1 : f;
  return Math.sign(x) * r * ulp;
}

test('node-postgres: halfvec columns, HNSW and IVF-PQ on them', async () => {
  const client = new pg.Client({ database: DB });
  await client.connect();
  try {
  await pgvector.registerTypes(client);
  const hrows = rows.map((r) => ({ ...r, h: r.v.map(f16round) }));
  await client.query(`CREATE TABLE hitems (id bigint PRIMARY KEY, tenant int, embedding halfvec(${DIMS}))`);
  for (const r of hrows)
    await client.query('INSERT INTO hitems (id, tenant, embedding) VALUES ($1, $2, $3)', [r.id, r.tenant, pgvector.toSql(r.v)]);

  // the server rounds to nearest even exactly as binary16 does; the
  // library's halfvec parser gives the stored values back
  const back = await client.query('SELECT embedding FROM hitems WHERE id = 9');
  assert.deepEqual(back.rows[0].embedding.map(Math.fround), hrows[8].h);
  assert.equal((await client.query("SELECT '[65504,1.00048828125]'::halfvec AS h")).rows[0].h.join(), '65504,1');
  await assert.rejects(client.query("SELECT '[70000]'::halfvec"), /out of range for type halfvec/);

  const hl2 = (a, b) => l2(a, b);
  const hexact = (q, k, dist, filter = () => true) => hrows.filter(filter).map((r) => [r.id, dist(r.h, q)])
    .sort((x, y) => x[1] - y[1] || x[0] - y[0]).slice(0, k).map((x) => x[0]);
  await client.query('CREATE INDEX hitems_l2 ON hitems USING hnsw (embedding halfvec_l2_ops)');
  await client.query('CREATE INDEX hitems_cos ON hitems USING hnsw (embedding halfvec_cosine_ops)');
  await client.query('SET enable_seqscan = off; SET hnsw.ef_search = 400');
  for (const q0 of queries) {
    const q = q0.map(f16round);
    const res = await client.query({
      name: 'half_knn',
      text: 'SELECT id FROM hitems ORDER BY embedding <-> $1 LIMIT 10',
      values: [pgvector.toSql(q)],
    });
    assert.deepEqual(res.rows.map((r) => Number(r.id)), hexact(q, 10, hl2));
    const cos = await client.query('SELECT id FROM hitems WHERE tenant = 1 ORDER BY embedding <=> $1 LIMIT 5', [pgvector.toSql(q)]);
    assert.deepEqual(cos.rows.map((r) => Number(r.id)), hexact(q, 5, cosine, (row) => row.tenant === 1));
  }
  await client.query('DROP INDEX hitems_l2, hitems_cos');
  await client.query('CREATE INDEX ON hitems USING ivfpq (embedding halfvec_l2_ops) WITH (lists = 4, m = 4)');
  await client.query('SET ivfpq.probes = 4');
  const q = queries[3].map(f16round);
  const plan = await client.query('EXPLAIN SELECT id FROM hitems ORDER BY embedding <-> $1 LIMIT 10', [pgvector.toSql(q)]);
  assert.match(plan.rows.map((r) => r['QUERY PLAN']).join('\n'), /Index Scan using hitems_embedding_idx/);
  const res = await client.query('SELECT id FROM hitems ORDER BY embedding <-> $1 LIMIT 10', [pgvector.toSql(q)]);
  assert.deepEqual(res.rows.map((r) => Number(r.id)), hexact(q, 10, hl2));
  } finally {
    await client.end();
  }
});

test('node-postgres: sparsevec columns through the library\'s SparseVector', async () => {
  const client = new pg.Client({ database: DB });
  await client.connect();
  try {
  await pgvector.registerTypes(client);
  // every other element zero, and never a vector of zeros only
  const srows = rows.slice(0, 200).map((r) => ({ id: r.id, dense: r.v.map((x, i) => (i % 2 === r.id % 2 ? x : 0)) }));
  await client.query(`CREATE TABLE sitems (id bigint PRIMARY KEY, embedding sparsevec(${DIMS}))`);
  for (const r of srows)
    await client.query('INSERT INTO sitems VALUES ($1, $2)', [r.id, pgvector.toSql(new SparseVector(r.dense))]);
  const back = await client.query('SELECT embedding FROM sitems WHERE id = 11');
  const sv = back.rows[0].embedding;
  assert.ok(sv instanceof SparseVector, 'parsed as a SparseVector');
  assert.equal(sv.dimensions, DIMS);
  assert.deepEqual(sv.toArray().map(Math.fround), srows[10].dense);
  assert.equal(sv.indices.length, DIMS / 2, 'zeros are not stored');
  // a sparse literal with the map form, and k-NN against brute force
  const m = new SparseVector({ 0: 0.5, 5: -0.25 }, DIMS);
  assert.equal((await client.query('SELECT $1::sparsevec::text AS t', [pgvector.toSql(m)])).rows[0].t, `{1:0.5,6:-0.25}/${DIMS}`);
  for (const q0 of queries.slice(0, 5)) {
    const q = q0.map((x, i) => (i % 3 === 0 ? x : 0));
    const res = await client.query('SELECT id FROM sitems ORDER BY embedding <-> $1 LIMIT 5', [pgvector.toSql(new SparseVector(q))]);
    const want = srows.map((r) => [r.id, l2(r.dense, q)]).sort((a, b) => a[1] - b[1] || a[0] - b[0]).slice(0, 5).map((x) => x[0]);
    assert.deepEqual(res.rows.map((r) => Number(r.id)), want);
  }
  await assert.rejects(client.query("SELECT '{1:1,1:2}/3'::sparsevec"), /indexes must not contain duplicates/);
  } finally {
    await client.end();
  }
});

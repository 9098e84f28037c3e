// pgvector's Node.js library with the query builders its README covers:
// Knex.js (a migration through its schema builder, pgvector's column type
// and distance helpers) and pg-promise, against a server with vectorx.
// The libpq environment names the server; a database of its own per run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import knexFactory from 'knex';
import pgvectorKnex from 'pgvector/knex';
import pgpFactory from 'pg-promise';
import pgvector from 'pgvector/pg-promise';

const DB = `vx_orm_${process.pid}`;
const items = [[1, 1, 1], [2, 2, 2], [1, 1, 2], [-1, 0, 3], [0.5, 0.25, -2]];
const l2 = (a, b) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0));
const nearest = (q, k) => items.map((v, i) => [i + 1, l2(v, q)]).sort((a, b) => a[1] - b[1] || a[0] - b[0])
  .slice(0, k).map((x) => x[0]);

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

test('Knex.js: a migration, inserts and k-NN through the schema and query builders', async () => {
  const knex = knexFactory({ client: 'pg', connection: { database: DB } });
  try {
    // the migration an application keeps: extension, table, index
    await knex.schema.createExtensionIfNotExists('vector');
    await knex.schema.createTable('knex_items', (table) => {
      table.increments('id');
      table.vector('embedding', 3);
    });
    await knex.schema.alterTable('knex_items', (table) => {
      table.index(knex.raw('embedding vector_l2_ops'), 'knex_items_embedding_idx', 'hnsw');
    });
    await knex('knex_items').insert(items.map((v) => ({ embedding: pgvectorKnex.toSql(v) })));
    const q = [1, 1, 1.4];
    const rows = await knex('knex_items').orderBy(knex.l2Distance('embedding', q)).limit(3);
    assert.deepEqual(rows.map((r) => r.id), nearest(q, 3));
    assert.deepEqual(pgvectorKnex.fromSql(rows[0].embedding), items[rows[0].id - 1]);
    const idx = await knex.raw("SELECT indexdef FROM pg_indexes WHERE indexname = 'knex_items_embedding_idx'");
    // (vector_l2_ops is the default operator class: pg_indexes leaves it out)
    assert.match(idx.rows[0].indexdef, /USING hnsw \(embedding\)/);
    const cos = await knex('knex_items').orderBy(knex.cosineDistance('embedding', q)).limit(1);
    assert.equal(cos.length, 1);
    // rolling the migration back
    await knex.schema.dropTable('knex_items');
  } finally {
    await knex.destroy();
  }
});

test('pg-promise: registerTypes on connect, parameters, k-NN', async () => {
  const pgp = pgpFactory({
    async connect(e) {
      await pgvector.registerTypes(e.client);
    },
  });
  const db = pgp({ database: DB });
  try {
    await db.none('CREATE EXTENSION IF NOT EXISTS vector');
    await db.none('CREATE TABLE pgp_items (id serial PRIMARY KEY, embedding vector(3))');
    for (const v of items) await db.none('INSERT INTO pgp_items (embedding) VALUES ($1)', [pgvector.toSql(v)]);
    await db.none('CREATE INDEX ON pgp_items USING hnsw (embedding vector_l2_ops)');
    const q = [0, 0, 2.5];
    const rows = await db.any('SELECT id, embedding FROM pgp_items ORDER BY embedding <-> $1 LIMIT 3', [pgvector.toSql(q)]);
    assert.deepEqual(rows.map((r) => r.id), nearest(q, 3));
    assert.deepEqual(rows[0].embedding, items[rows[0].id - 1]);
  } finally {
    // wait for the pool's connections to close: pgp.end() does not, and a
    // connection still open when the database is dropped WITH (FORCE) is
    // terminated, an error the test runner reports after the test ended
    await db.$pool.end();
  }
});

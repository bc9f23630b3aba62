/**
 * A fresh PostgreSQL database per portal, on the server TEST_POSTGRES_URL points at (the
 * same server the integration suites use; scripts/pg-cluster.sh starts a throwaway one).
 * Dropped when the portal that made it stops for good, or when the test process exits.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface E2eDatabase {
  /** postgres://…/pc_e2e_…, for DATABASE_URL. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

const undropped = new Set<string>();
const dropSql = (name: string) => `drop database if exists ${name} with (force)`;

process.on('exit', () => {
  // Synchronous here, so a child node drops what a crashed or aborted spec left behind.
  if (undropped.size === 0 || !process.env.TEST_POSTGRES_URL || process.env.PORTCULLIS_E2E_KEEP === '1') return;
  const script = `const pg=require('pg');const c=new pg.Client(process.argv[1]);c.connect().then(async()=>{for(const n of process.argv.slice(2))await c.query('drop database if exists '+n+' with (force)').catch(()=>{});await c.end();}).catch(()=>process.exit(0));`;
  spawnSync(process.execPath, ['-e', script, process.env.TEST_POSTGRES_URL, ...undropped], { stdio: 'ignore', timeout: 10_000 });
});

export function postgresUrlOrThrow(): string {
  const url = process.env.TEST_POSTGRES_URL;
  if (!url) {
    throw new Error('PORTCULLIS_E2E_DATABASE=postgres needs TEST_POSTGRES_URL (e.g. export TEST_POSTGRES_URL=$(bash scripts/pg-cluster.sh start))');
  }
  return url;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrlOrThrow() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database (the portal migrates it when it starts). */
export async function createE2eDatabase(): Promise<E2eDatabase> {
  const name = `pc_e2e_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  undropped.add(name);
  const url = new URL(postgresUrlOrThrow());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (!undropped.has(name)) return;
      if (process.env.PORTCULLIS_E2E_KEEP === '1') return;
      await admin((c) => c.query(dropSql(name)));
      undropped.delete(name);
    },
  };
}

// `npm run db:migrate`: bring the configured database to the latest schema.
import { createDb, migrateToLatest } from '../db';
import { readEnv } from '../lib/config/env';
import { log } from '../lib/log';

const db = createDb(readEnv().databaseUrl);
migrateToLatest(db)
  .then((applied) => log.info({ applied }, applied.length ? `Applied: ${applied.join(', ')}` : 'Already up to date'))
  .finally(() => db.close());

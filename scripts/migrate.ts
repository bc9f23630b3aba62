// `npm run db:migrate`: bring the configured database to the latest schema.
import { createDb, migrateToLatest } from '../db';
import { readEnv } from '../lib/config/env';
import { log } from '../lib/log';
import { checkConfigAtStart } from '../lib/config/start-check';

// A bad variable ends the process here: one line naming it, exit code 78 (lib/config/start-check.ts).
checkConfigAtStart();
const db = createDb(readEnv().databaseUrl);
migrateToLatest(db)
  .then((applied) => log.info({ applied }, applied.length ? `Applied: ${applied.join(', ')}` : 'Already up to date'))
  .finally(() => db.close());

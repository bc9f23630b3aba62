import { it } from 'vitest';
import { dialects, freshDb } from './support/dialects';
it('times freshDb', async () => {
  for (const d of dialects) {
    await (await freshDb(d)).close();
    const t = Date.now();
    for (let i = 0; i < 10; i++) { const db = await freshDb(d); await db.close(); }
    console.log(d, (Date.now() - t) / 10, 'ms per freshDb');
  }
}, 120_000);

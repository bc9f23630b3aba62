import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The engine must stay pure: data in, decision out. It imports only its own files.
const dir = path.resolve(__dirname, '../../../lib/policy');
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

describe('lib/policy purity', () => {
  it.each(files)('%s imports only sibling modules', (file) => {
    const source = readFileSync(path.join(dir, file), 'utf8');
    const specifiers = [...source.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
    for (const s of specifiers) expect(s, `${file} imports ${s}`).toMatch(/^\.\/[a-z-]+$/);
  });

  it.each(files)('%s does not read the clock or randomness', (file) => {
    const source = readFileSync(path.join(dir, file), 'utf8');
    expect(source).not.toMatch(/Date\.now|new Date\(|performance\.now|Math\.random|process\./);
  });
});

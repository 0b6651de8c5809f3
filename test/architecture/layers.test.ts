/** The layer rule of the README's Architecture section, checked on the import statements of src/. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../src/', import.meta.url).pathname;

/** Every relative import of every .ts file below src/, as src-relative paths: `domain/errors.ts` → `upstream/index.ts`. */
function imports(): { from: string; to: string }[] {
  const edges: { from: string; to: string }[] = [];
  for (const file of readdirSync(SRC, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(path.join(SRC, file), 'utf8');
    for (const match of text.matchAll(
      /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g,
    )) {
      const target = match[1] ?? match[2]!;
      edges.push({ from: file, to: path.relative(SRC, path.resolve(SRC, path.dirname(file), target)) });
    }
  }
  return edges;
}

const arrows = (fromLayer: string, toLayers: string[]) =>
  imports()
    .filter((e) => e.from.startsWith(`${fromLayer}/`) && toLayers.some((l) => e.to.startsWith(`${l}/`)))
    .map((e) => `${e.from} → ${e.to}`);

describe('layers', () => {
  it('finds the imports it checks', () => {
    expect(arrows('domain', ['upstream'])).toContain('domain/errors.ts → upstream/index.ts');
    expect(arrows('app', ['sandbox'])).toContain('app/index.ts → sandbox/index.ts');
  });

  it('src/domain imports nothing from src/graphql or src/app', () => {
    expect(arrows('domain', ['graphql', 'app'])).toEqual([]);
  });

  it('src/upstream imports nothing from src/domain, src/graphql or src/app', () => {
    expect(arrows('upstream', ['domain', 'graphql', 'app'])).toEqual([]);
  });

  it('src/stores imports nothing but src/platform (and, for payload types, nothing of the layers above)', () => {
    expect(arrows('stores', ['app', 'graphql', 'domain', 'upstream', 'sandbox'])).toEqual([]);
  });

  it('src/platform imports nothing from the other layers', () => {
    expect(arrows('platform', ['app', 'graphql', 'domain', 'upstream', 'stores', 'sandbox'])).toEqual([]);
  });

  it("src/sandbox imports nothing from the gateway but the clock and the upstream's documented limits", () => {
    expect(
      arrows('sandbox', ['app', 'graphql', 'domain', 'upstream', 'platform']).filter(
        (a) => !a.endsWith('→ platform/clock.ts') && !a.endsWith('→ platform/upstream-limits.ts'),
      ),
    ).toEqual([]);
  });
});

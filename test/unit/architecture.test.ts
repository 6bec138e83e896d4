import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');

const sourceFiles = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** Module specifiers a file imports, statically or dynamically, type-only imports included. */
const importsOf = (file: string): string[] =>
  [...read(file).matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1] ?? '');

/** Pure core: no I/O, no framework, no environment (house-style.md, "Boundaries"). */
const PURE_CORE = [
  ...sourceFiles('lambda/catalog'),
  ...sourceFiles('lambda/paging'),
  ...sourceFiles('lambda/problems'),
  'lambda/proxy/normalize-response.ts',
  'lambda/proxy/parse-request.ts',
  'lambda/proxy/validate-request.ts',
  'lambda/auth/partner-directory.ts',
  'lambda/auth/body-references.ts',
  'lambda/config/access.ts',
  'lambda/upstream/token-provider.ts',
];

describe('module boundaries', () => {
  it.each(PURE_CORE)(
    '%s imports no AWS SDK, middy or Powertools and reads no env or network',
    (file) => {
      const text = read(file);
      expect(
        importsOf(file).filter((s) => /^@(aws-sdk|middy|aws-lambda-powertools)\//.test(s)),
      ).toEqual([]);
      expect(text).not.toMatch(/process\.env/);
      expect(text).not.toMatch(/(?<![#.\w])fetch\(/);
    },
  );

  it('reads process.env only in lambda/config/env.ts', () => {
    const readers = sourceFiles('lambda').filter((file) => /process\.env/.test(read(file)));
    expect(readers).toEqual(['lambda/config/env.ts']);
  });

  it('lets nothing import a handler module', () => {
    const importers = [...sourceFiles('lambda'), ...sourceFiles('bin'), ...sourceFiles('test')]
      // Handler tests load the composition roots on purpose, as Lambda does.
      .filter((file) => !file.startsWith('test/handlers/'))
      .filter((file) => importsOf(file).some((s) => /\/handlers\//.test(s)));
    expect(importers).toEqual([]);
  });

  it('lets lib/ import only the shared, dependency-free modules of lambda/', () => {
    const shared = [
      'lambda/catalog/index',
      'lambda/config/access',
      'lambda/config/issues',
      'lambda/problems/problem-error',
      'lambda/problems/to-problem',
    ];
    const reaches = sourceFiles('lib').flatMap((file) =>
      importsOf(file)
        .filter((s) => s.includes('lambda/'))
        .map((s) => `${file} -> ${s.replace(/^(\.\.\/)+/, '')}`),
    );
    expect(reaches.length).toBeGreaterThan(0);
    for (const line of reaches) expect(shared).toContain(line.split(' -> ')[1]);
  });

  it('keeps the catalog free of runtime dependencies other than zod', () => {
    const external = sourceFiles('lambda/catalog')
      .flatMap(importsOf)
      .filter((s) => !s.startsWith('.'));
    expect([...new Set(external)]).toEqual(['zod']);
  });
});

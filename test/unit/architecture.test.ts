import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/**
 * The layout of the repository, as docs/architecture.md and the README describe it, enforced:
 * `lambda/` holds only what a deployed handler runs, `dev/` what runs only on a developer's
 * machine, `bin/` thin entry points, `test/` tests and their fixtures.
 */
const ROOT = join(__dirname, '..', '..');

const sourceFiles = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** Module specifiers a file imports, statically or dynamically, type-only imports included. */
const importsOf = (file: string): string[] =>
  [...read(file).matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1] ?? '');

/**
 * Specifiers of runtime imports only (type-only imports are erased by the compiler), static or
 * dynamic (`import('...')`, which loads a module on first use).
 */
const runtimeImportsOf = (file: string): string[] => [
  ...[...read(file).matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^']+)'/gms)].map(
    (m) => m[1] ?? '',
  ),
  ...[...read(file).matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? ''),
];

/** The repository path (without extension) a relative specifier of `file` resolves to. */
const resolveFrom = (file: string, specifier: string): string =>
  normalize(join(dirname(file), specifier)).replace(/\.(ts|js|json)$/, '');

const localImportsOf = (file: string, imports = importsOf(file)) =>
  imports.filter((s) => s.startsWith('.')).map((s) => resolveFrom(file, s));

const within = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

/** Pure core: no I/O, no framework, no environment (docs/development.md, "Module boundaries"). */
const PURE_CORE = [
  ...sourceFiles('lambda/catalog'),
  ...sourceFiles('lambda/paging'),
  ...sourceFiles('lambda/problems'),
  'lambda/proxy/normalize-response.ts',
  'lambda/proxy/parse-request.ts',
  'lambda/proxy/validate-request.ts',
  'lambda/proxy/headers.ts',
  'lambda/auth/partner-directory.ts',
  'lambda/auth/body-references.ts',
  'lambda/config/access.ts',
  'lambda/config/settings.ts',
  'lambda/upstream/token-provider.ts',
  'lambda/upstream/upstream-message.ts',
  'lambda/idempotency/idempotency-key.ts',
  'lambda/docs/openapi-document.ts',
  'lambda/docs/request-schemas.ts',
  'lambda/docs/schema-registry.ts',
  'lambda/docs/error-responses.ts',
  'lambda/docs/docs-core.ts',
  'lambda/docs/docs-page.ts',
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
    const importers = [...sourceFiles('lambda'), ...sourceFiles('bin'), ...sourceFiles('dev')]
      .concat(sourceFiles('test').filter((file) => !file.startsWith('test/handlers/')))
      .filter((file) => localImportsOf(file).some((path) => within(path, 'lambda/handlers')));
    // Handler tests load the composition roots on purpose, as Lambda does; the one that needs
    // sockets (the deployed proxy over moto's Secrets Manager) runs with the integration tests.
    expect(importers).toEqual(['test/integration/proxy-handler-secrets-manager.test.ts']);
  });

  it('lets lambda/ import nothing outside lambda/', () => {
    const outside = sourceFiles('lambda').flatMap((file) =>
      localImportsOf(file)
        .filter((path) => !within(path, 'lambda'))
        .map((path) => `${file} -> ${path}`),
    );
    expect(outside).toEqual([]);
  });

  it('lets lib/ import only the lambda/ modules meant for synth: catalog, config, problems', () => {
    const reaches = sourceFiles('lib').flatMap((file) =>
      localImportsOf(file)
        .filter((path) => within(path, 'lambda'))
        .map((path) => [file, path] as const),
    );
    expect(reaches.length).toBeGreaterThan(0);
    const forSynth = ['lambda/catalog', 'lambda/config', 'lambda/problems'];
    expect(reaches.filter(([, path]) => !forSynth.some((folder) => within(path, folder)))).toEqual(
      [],
    );
    // config/env.ts reads the process environment: a function's business, not synth's.
    expect(reaches.filter(([, path]) => path === 'lambda/config/env')).toEqual([]);
  });

  it('lets nothing outside test/ import test/', () => {
    const importers = [
      ...sourceFiles('bin'),
      ...sourceFiles('dev'),
      ...sourceFiles('lib'),
      ...sourceFiles('lambda'),
    ].filter((file) => localImportsOf(file).some((path) => within(path, 'test')));
    expect(importers).toEqual([]);
  });

  it('keeps the catalog free of runtime dependencies other than zod', () => {
    const outside = sourceFiles('lambda/catalog')
      .flatMap((file) => importsOf(file).map((s) => (s.startsWith('.') ? resolveFrom(file, s) : s)))
      .filter((path) => !within(path, 'lambda/catalog'));
    expect([...new Set(outside)]).toEqual(['lambda/config/zod']);
  });

  it('lets lambda/ import zod only through lambda/config/zod.ts, which loads zod/mini', () => {
    // zod classic weighs about 95 KiB in every bundle; zod/mini only what a function uses.
    const direct = sourceFiles('lambda').filter((file) =>
      importsOf(file).some((s) => s === 'zod' || s.startsWith('zod/')),
    );
    expect(direct).toEqual(['lambda/config/zod.ts']);
    expect(new Set(importsOf('lambda/config/zod.ts'))).toEqual(
      new Set(['zod/locales', 'zod/mini']),
    );
  });
});

describe('the layout', () => {
  /** Every lambda/ module a deployed handler loads, following runtime imports from the roots. */
  const deployed = (): Set<string> => {
    const seen = new Set<string>();
    const visit = (path: string) => {
      const file = existsSync(join(ROOT, `${path}.ts`)) ? `${path}.ts` : `${path}/index.ts`;
      if (seen.has(file)) return;
      seen.add(file);
      for (const next of localImportsOf(file, runtimeImportsOf(file))) visit(next);
    };
    for (const root of sourceFiles('lambda/handlers')) visit(root.replace(/\.ts$/, ''));
    return seen;
  };

  /** A module that declares only types: erased at build time, fine anywhere. */
  const typesOnly = (file: string) =>
    read(file)
      .split('\n')
      .filter((line) => /^export\s/.test(line))
      .every((line) => /^export\s+(type|interface)\s/.test(line));

  it('holds in lambda/ only code a deployed handler runs (or types)', () => {
    const loaded = deployed();
    expect(sourceFiles('lambda').filter((file) => !loaded.has(file) && !typesOnly(file))).toEqual(
      [],
    );
  });

  it('keeps bin/ to thin entry points: no folders, a few lines each', () => {
    const entries = readdirSync(join(ROOT, 'bin'));
    expect(entries.filter((name) => statSync(join(ROOT, 'bin', name)).isDirectory())).toEqual([]);
    for (const file of sourceFiles('bin')) {
      const code = read(file)
        .split('\n')
        .filter((line) => line.trim() !== '' && !/^\s*(\/\/|\/\*\*?|\*)/.test(line));
      // Named in the failure: which entry point grew logic that belongs in dev/ or lib/.
      expect([file, code.length <= 25]).toEqual([file, true]);
    }
  });

  it('keeps local-only tooling in dev/, none of it in test/', () => {
    expect(existsSync(join(ROOT, 'dev', 'ioto-simulator', 'index.ts'))).toBe(true);
    expect(existsSync(join(ROOT, 'dev', 'local-gateway', 'start-local-gateway.ts'))).toBe(true);
    const nonTests = sourceFiles('test').filter(
      (file) => !file.endsWith('.test.ts') && !within(file, 'test/support'),
    );
    // Shared rigs of a test folder are fixtures too.
    expect(nonTests.filter((file) => !/(harness|fixtures)\.ts$/.test(file))).toEqual([]);
  });
});

describe('citations', () => {
  /** Every source and config file a maintainer reads, with the documents it names. */
  const cited = [
    ...['bin', 'dev', 'lambda', 'lib', 'test'].flatMap(sourceFiles),
    'jest.config.js',
    'jest.resolver.js',
  ];

  it.each(cited)('%s names only documents that are in the repository', (file) => {
    const text = read(file);
    const documents = [...text.matchAll(/[\w./-]+\.md\b/g)].map((m) => m[0]);
    const missing = documents.filter(
      (doc) => !existsSync(join(ROOT, doc)) && !existsSync(join(ROOT, dirname(file), doc)),
    );
    expect(missing).toEqual([]);
    // A section sign that is not a standard's (RFC 9457 §3) cites the Ioto reference: the file
    // says which document that is.
    const standards = /(RFC \d+|NIST SP [\d-]+[A-Z]?) $/;
    const bare = [...text.matchAll(/§/g)].filter(
      (m) => !standards.test(text.slice(Math.max(0, m.index - 20), m.index)),
    );
    if (bare.length > 0) expect(text).toContain('docs/ioto-api.md');
  });

  it.each(
    ['README.md', ...readdirSync(join(ROOT, 'docs'), { recursive: true }).map(String)].filter(
      (file) => file.endsWith('.md'),
    ),
  )('%s links only to files that exist', (file) => {
    const path = file === 'README.md' ? file : join('docs', file);
    const links = [...read(path).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1] ?? '')
      .filter((link) => !/^[a-z]+:/.test(link));
    expect(links.filter((link) => !existsSync(join(ROOT, dirname(path), link)))).toEqual([]);
  });
});

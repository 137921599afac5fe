// The built output as npm start and the image run it (dist/, built by npm test before tap): every
// relative module specifier — static imports, re-exports and dynamic import() — names a file that
// the build produced. Tests import src/*.ts directly, so a specifier that tsc left as '.ts' would
// pass every other test and fail only in production, on first use (TypeScript 5.9's
// rewriteRelativeImportExtensions skipped an import() nested in an async callback's object literal:
// src/plugins/enrichment.ts loaded '../enrichment/stage.ts' from dist).
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const dist = new URL('../../dist/', import.meta.url).pathname;

/** Relative specifiers of one ES module's source: `from '…'`, `import '…'` and `import('…')` with a literal. */
function relativeSpecifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s*(['"])(\.{1,2}\/[^'"]+)\1/g, /\bimport\s*(['"])(\.{1,2}\/[^'"]+)\1/g, /\bimport\s*\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)/g];
  for (const re of patterns) for (const m of source.matchAll(re)) found.push(m[2]!);
  return found;
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []));
}

t.test('the specifier finder sees every form (so the check below can fail)', async (t) => {
  const src = `import { a } from './a.js';\nimport './side.js';\nexport * from "../b.js";\nconst f = async () => { const { C } = await import('../c/stage.ts'); };\nimport x from 'fastify';\nconst y = await import(\`./\${name}.js\`);`;
  t.same(relativeSpecifiers(src).sort(), ['../b.js', '../c/stage.ts', './a.js', './side.js']);
});

t.test('every relative import in dist/ names a built file', async (t) => {
  t.ok(existsSync(join(dist, 'server.js')), 'dist/server.js exists (npm test builds it; run `npm run build` first when running this file alone)');
  const files = existsSync(dist) ? jsFiles(dist) : [];
  t.ok(files.length > 50, `dist/ holds the built modules (${files.length})`);
  const broken: string[] = [];
  let checked = 0;
  for (const file of files) {
    for (const spec of relativeSpecifiers(readFileSync(file, 'utf8'))) {
      checked += 1;
      if (!spec.endsWith('.js') || !existsSync(join(dirname(file), spec))) broken.push(`${relative(dist, file)} → ${spec}`);
    }
  }
  t.ok(checked > 100, `relative specifiers checked: ${checked}`);
  t.same(broken, [], 'no specifier left as .ts or pointing at a missing file');
});

// Prints the README's configuration table from the config schema (npm run config-table);
// with --write it replaces the table between the config-table markers in README.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { configDocs } from '../config/index.ts';

const rows = configDocs().map((d) => `| \`${d.variable}\` | ${d.default === undefined ? '*required*' : `\`${d.default}\``} | ${d.doc}${d.secret ? ` Also \`${d.variable}_FILE\`.` : ''} |`);
const table = ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n') + '\n';

if (process.argv.includes('--write')) {
  const path = new URL('../../README.md', import.meta.url);
  const readme = readFileSync(path, 'utf8');
  const next = readme.replace(/(<!-- config-table:start -->\n)[\s\S]*?(<!-- config-table:end -->)/, `$1${table}$2`);
  if (next === readme) process.stderr.write('README.md: table unchanged or markers missing\n');
  writeFileSync(path, next);
} else process.stdout.write(table);

// Prints the README's configuration table from the config schema (npm run config-table).
import { configDocs } from '../config.ts';

const rows = configDocs().map((d) => `| \`${d.variable}\` | ${d.default === undefined ? '*required*' : `\`${d.default}\``} | ${d.doc}${d.secret ? ` Also \`${d.variable}_FILE\`.` : ''} |`);
process.stdout.write(['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n') + '\n');

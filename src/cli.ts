#!/usr/bin/env node
// hv-gateway [serve | simulator [--config file] | config-table]
//   serve (default)  the gateway (same as npm start); configured by the environment (README)
//   simulator        the multi-instance HealthVault simulator (docs/simulator.md)
//   config-table     print the configuration table (variables, defaults, meaning)
const [command = 'serve'] = process.argv.slice(2, 3);
// the sub-command's own argument parser sees only its own arguments
if (process.argv.length > 2) process.argv.splice(2, 1);

switch (command) {
  case 'serve':
    await import('./server.ts');
    break;
  case 'simulator':
    await import('./simulator/main.ts');
    break;
  case 'config-table':
    await import('./tools/config-table.ts');
    break;
  case '-h':
  case '--help':
  case 'help':
    process.stdout.write('usage: hv-gateway [serve | simulator [--config file] | config-table]\n');
    break;
  default:
    process.stderr.write(`hv-gateway: unknown command "${command}"; use serve, simulator or config-table\n`);
    process.exit(2);
}

// Reads the simulator's JSON config file (docs/simulator.md). Certificates may be given inline
// (`certificates`: PEM strings) or as files (`certificateFiles`: paths relative to the config
// file), so the example can point at the test fixtures.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { HvgError } from '../errors.ts';
import type { ApplicationSpec, SimulatorConfig } from './sim-config.ts';

type FileApplication = ApplicationSpec & { readonly certificateFiles?: readonly string[] };

function configError(message: string): never {
  throw new HvgError('HVG_ERR_CONFIG', message);
}

export function loadConfigFile(path: string): SimulatorConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    configError(`cannot read the simulator config ${path}: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) configError(`${path} must hold a JSON object`);
  const config = raw as Omit<SimulatorConfig, 'applications'> & { applications?: readonly FileApplication[]; $comment?: unknown };
  const base = dirname(resolve(path));
  const applications = (config.applications ?? []).map((app, i) => {
    const { certificateFiles, ...rest } = app;
    const files = (certificateFiles ?? []).map((file) => {
      try {
        return readFileSync(resolve(base, file), 'utf8');
      } catch (err) {
        return configError(`applications[${i}].certificateFiles: cannot read ${file}: ${(err as Error).message}`);
      }
    });
    return { ...rest, certificates: [...(rest.certificates ?? []), ...files] };
  });
  const { $comment: _comment, ...rest } = config;
  return { ...rest, applications };
}

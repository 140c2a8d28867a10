// The short block `codex-bridge dev` prints once everything is up: where each thing is.
import * as path from 'node:path';
import type { Config } from '../config';
import type { DevApiToken } from './api-token';
import type { DevPlan } from './dev-plan';
import { hideUrlPassword } from '../logging';
import { describeTemporalSecurity } from '../infra/temporal-connection';

export function formatSummary(plan: DevPlan, config: Config, token: DevApiToken): string[] {
  const t = plan.temporal;
  const s = plan.store;
  const lines = ['codex-bridge dev is up (Ctrl-C stops everything):'];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(9)} ${value}`);
  const queue = `namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}`;
  row(
    'Temporal',
    t.kind === 'local'
      ? `${t.address}  (${queue})`
      : `${t.address}  (yours, from TEMPORAL_ADDRESS, ${describeTemporalSecurity(config.temporal)}; ${queue})`,
  );
  if (t.uiUrl !== undefined) row('Web UI', t.uiUrl);
  row(
    'MongoDB',
    `${hideUrlPassword(s.uri)}  (database ${config.mongo.db}${s.kind === 'external' ? ', yours, from MONGODB_URI' : ', FerretDB on SQLite'})`,
  );
  row(
    'API',
    `${plan.api.url}  (${token.file ? `bearer token in ${displayPath(token.file)}` : 'bearer token from CODEX_BRIDGE_API_TOKEN'})`,
  );
  row('Data', displayPath(plan.dataDir));
  const logs = [
    t.kind === 'local' ? t.logFile : undefined,
    s.kind === 'local' ? s.logFile : undefined,
    plan.worker.logFile,
    plan.api.logFile,
  ];
  row(
    'Logs',
    logs
      .filter((f): f is string => f !== undefined)
      .map(displayPath)
      .join(', '),
  );
  return lines;
}

/** Relative to the working directory when inside it: shorter, and what a person would type. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

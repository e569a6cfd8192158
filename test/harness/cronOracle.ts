// The cron oracle: robfig/cron v3 (the library behind Kubernetes CronJob),
// built once from the Go module proxy by hack/cron-oracle/build.sh (make
// cron-oracle) and cached by version. It answers "when would a CronJob with
// this schedule and time zone run next?", the reference our OnCalendar=
// rendering is checked against.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './binaries.js';

let cachedPath: string | undefined;

/** The oracle binary's path; builds it on first use (a second or two when Go's module cache is warm). */
export function cronOracleBinary(): string {
  cachedPath ??= execFileSync(path.join(repoRoot, 'hack', 'cron-oracle', 'build.sh'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return cachedPath;
}

/** What robfig says of an expression: its next fire times, or its parse error. */
export type CronOracleResult = { ok: true; times: Date[] } | { ok: false; error: string };

/**
 * The next `n` fire times strictly after `base` of `expr` in `timeZone`, as a
 * CronJob with `spec.timeZone` computes them; fewer when robfig finds none
 * within its five-year search (a schedule that never fires gives none).
 */
export function cronOracle(expr: string, base: Date, timeZone = 'UTC', n = 50): CronOracleResult {
  const args = ['--base', base.toISOString().replace(/\.\d{3}Z$/, 'Z'), '--tz', timeZone, '--n', String(n), expr];
  try {
    const out = execFileSync(cronOracleBinary(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return {
      ok: true,
      times: out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => new Date(l)),
    };
  } catch (err) {
    const e = err as { status?: number; stderr?: string };
    if (e.status === 2) return { ok: false, error: (e.stderr ?? '').trim() };
    throw err;
  }
}

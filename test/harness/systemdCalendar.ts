// systemd's own answer to "when does this OnCalendar= fire next?": the real
// `systemd-analyze calendar` (systemd 252 has --base-time), read in UTC.
import { execFileSync } from 'node:child_process';

/** Whether systemd-analyze is on PATH (a test checks it, so a host without it fails loudly). */
export function hasSystemdAnalyze(): boolean {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The first `n` times strictly after `base` at which a timer with these
 * OnCalendar= lines elapses (the union of the lines, as a timer fires).
 * Expressions without a time zone are read in UTC (TZ=UTC).
 */
export function systemdCalendarNext(calendars: readonly string[], base: Date, n: number): Date[] {
  const baseText = base
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  const out = execFileSync('systemd-analyze', ['calendar', `--base-time=${baseText}`, `--iterations=${n}`, ...calendars], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
  });
  const all = new Set<number>();
  for (const m of out.matchAll(/^\s*(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$/gm)) {
    all.add(Date.parse(`${(m[1] as string).replace(' ', 'T')}Z`));
  }
  return [...all]
    .sort((a, b) => a - b)
    .slice(0, n)
    .map((t) => new Date(t));
}

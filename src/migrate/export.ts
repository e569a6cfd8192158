// A workload back to where it came from: crontab lines, or unit files a person
// can edit and install by hand.
import type { SystemdWorkload, UnitSpec } from '../api/types.js';
import { OWNER_KEY, HASH_KEY } from '../api/markers.js';
import { renderUnitFiles } from '../render/unit.js';
import { DEFAULT_SHELL, shellQuote } from './crontab.js';

export interface ExportResult {
  /** File name (for -o DIR) -> content. */
  files: Array<{ name: string; content: string }>;
  /** Units with no equivalent in the format, with the reason. */
  problems: string[];
}

/** A unit's command as a crontab command: `sh -c LINE` gives LINE back; % is escaped as \%. */
function commandLine(u: UnitSpec): { line: string; shell?: string } {
  const [exe, flag, line, ...rest] = u.command;
  const escape = (s: string) => s.replace(/%/g, '\\%');
  if (flag === '-c' && line !== undefined && rest.length === 0 && /\/(ba|da|z|k)?sh$/.test(exe!)) {
    return { line: escape(line), ...(exe !== DEFAULT_SHELL ? { shell: exe } : {}) };
  }
  return { line: escape(u.command.map(shellQuote).join(' ')) };
}

/**
 * The workload as an /etc/cron.d file (with the user column; root when the unit
 * sets none) when any unit names a user, else as a user crontab. Environment,
 * SHELL and CRON_TZ lines are written before each job that needs them.
 */
export function exportCrontab(w: SystemdWorkload): ExportResult {
  const system = w.spec.units.some((u) => u.user !== undefined);
  const lines = [
    `# SystemdWorkload ${w.metadata.namespace ?? 'default'}/${w.metadata.name}, exported by kubectl sdw export`,
    system ? '# an /etc/cron.d file (user column after the schedule)' : '# a user crontab (crontab -e)',
  ];
  const problems: string[] = [];
  let shell = DEFAULT_SHELL;
  let tz: string | undefined;
  const env = new Map<string, string>();
  for (const u of w.spec.units) {
    if (u.schedule === undefined && (u.type ?? 'service') !== 'oneshot') {
      problems.push(`unit ${u.name}: a long-running service has no crontab equivalent`);
      continue;
    }
    const cmd = commandLine(u);
    lines.push('', `# unit ${u.name}`);
    if ((cmd.shell ?? DEFAULT_SHELL) !== shell) lines.push(`SHELL=${(shell = cmd.shell ?? DEFAULT_SHELL)}`);
    if (u.timeZone !== tz) lines.push(`CRON_TZ=${(tz = u.timeZone) ?? ''}`);
    for (const e of u.env ?? []) {
      const value = e.value ?? '';
      if (env.get(e.name) !== value) lines.push(`${e.name}=${value}`);
      env.set(e.name, value);
    }
    const extras = [...env.keys()].filter((k) => !(u.env ?? []).some((e) => e.name === k));
    if (extras.length)
      problems.push(`unit ${u.name}: cron would also pass ${extras.join(', ')} (set for an earlier job); reorder the jobs or unset them`);
    const when = u.schedule ?? '@reboot';
    lines.push(`${when}${system ? ` ${u.user ?? 'root'}` : ''} ${cmd.line}`);
  }
  return { files: [{ name: `${w.metadata.name}.crontab`, content: lines.join('\n') + '\n' }], problems };
}

/**
 * The rendered files (what the agent installs, so the behaviour is the same),
 * named <unit>.service / <unit>.timer instead of sdw-<namespace>_<workload>_<unit>,
 * without the operator's header and ownership marker: files to put in
 * /etc/systemd/system and edit by hand.
 */
export function exportUnitFiles(w: SystemdWorkload): ExportResult {
  const ns = w.metadata.namespace ?? 'default';
  const prefix = `sdw-${ns}_${w.metadata.name}_`;
  const files = w.spec.units.flatMap((u, i) => renderUnitFiles(ns, w.metadata.name!, u, `spec.units[${i}]`));
  const marker = new RegExp(`^(${OWNER_KEY}|${HASH_KEY})=.*\\n`, 'gm');
  return {
    files: files.map((f) => ({
      name: f.name.replace(prefix, ''),
      content: f.content
        .replace(/^# Managed by .*\n/, '')
        .replace(marker, '')
        .split(prefix)
        .join(''),
    })),
    problems: [],
  };
}

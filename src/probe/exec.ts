// The exec probe handler: the command runs in a transient unit of the node's own
// systemd (systemd-run --wait) with the unit's User=, Group= and DynamicUser=,
// so it runs as the unit's user, dynamic users included, and inside the node
// (its file system and processes), wherever the agent itself runs. Joining the
// unit's credentials from /proc/<MainPID> would not work from an agent in
// another pid namespace, and could not name a dynamic user that is not
// allocated. systemd-run talks to the bus the agent uses (DBUS_SYSTEM_BUS_ADDRESS);
// RuntimeMaxSec= ends a command that outlives timeoutSeconds.
import { execFile } from 'node:child_process';
import type { SystemdUnitSetSpec } from '../api/types.js';
import type { ProbeOutcome } from './network.js';

export type RunAs = NonNullable<SystemdUnitSetSpec['units'][number]['runAs']>;

/** systemd-run's argv for one probe run (pure, for the tests). */
export function execProbeArgs(command: readonly string[], runAs: RunAs, timeoutSeconds: number): string[] {
  const props = [`RuntimeMaxSec=${timeoutSeconds}s`];
  if (runAs.dynamicUser) props.push('DynamicUser=yes');
  if (runAs.user !== undefined) props.push(`User=${runAs.user}`);
  if (runAs.group !== undefined) props.push(`Group=${runAs.group}`);
  return ['--wait', '--quiet', '--collect', '--service-type=exec', ...props.flatMap((p) => ['-p', p]), '--', ...command];
}

export function execProbe(command: readonly string[], runAs: RunAs, timeoutSeconds: number, busAddress: string): Promise<ProbeOutcome> {
  const args = execProbeArgs(command, runAs, timeoutSeconds);
  return new Promise((resolve) => {
    execFile(
      'systemd-run',
      args,
      { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: busAddress }, timeout: (timeoutSeconds + 5) * 1000 },
      (err, _stdout, stderr) => {
        const code = err && typeof err.code === 'number' ? err.code : err ? -1 : 0;
        const detail = stderr.trim().split('\n').pop() ?? '';
        resolve({ ok: code === 0, message: `exec ${command.join(' ')}: exit ${code}${detail ? ` (${detail.slice(0, 200)})` : ''}` });
      },
    );
  });
}

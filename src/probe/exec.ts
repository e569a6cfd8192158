// The exec probe handler: the command runs as a transient Type=oneshot unit of
// the node's own systemd (StartTransientUnit on the agent's bus connection), with
// the unit's User= and Group=, or its dynamic user by name (src/render/dynamicUser.ts),
// so it runs as the unit's user and inside the node (its file system and
// processes), wherever the agent itself runs. Not systemd-run: as root it talks
// to /run/systemd/private only on a host booted with systemd, which an agent
// pod (and a test node's host) is not. Not /proc/<MainPID>: an agent in another
// pid namespace cannot find it, and a dynamic user has no passwd entry to
// switch to. The start job of a oneshot ends when the command exits: 'done' is
// exit 0; TimeoutStartSec= ends a command that outlives timeoutSeconds;
// CollectMode= leaves nothing behind, failed or not.
import { randomBytes } from 'node:crypto';
import type { SystemdUnitSetSpec } from '../api/types.js';
import type { ProbeOutcome } from './network.js';

export type RunAs = NonNullable<SystemdUnitSetSpec['units'][number]['runAs']>;

/** [name, D-Bus signature, value]: StartTransientUnit's properties. */
export type TransientProperty = readonly [string, string, unknown];

/** The transient unit's properties for one probe run (pure, for the tests). */
export function execProbeProperties(command: readonly string[], runAs: RunAs, timeoutSeconds: number, unit: string): TransientProperty[] {
  const props: TransientProperty[] = [
    ['Description', 's', `exec probe of ${unit}`],
    ['Type', 's', 'oneshot'],
    ['ExecStart', 'a(sasb)', [[command[0] ?? '', [...command], false]]],
    ['TimeoutStartUSec', 't', BigInt(timeoutSeconds) * 1_000_000n],
    ['CollectMode', 's', 'inactive-or-failed'],
  ];
  if (runAs.dynamicUser) props.push(['DynamicUser', 'b', true]);
  if (runAs.user !== undefined) props.push(['User', 's', runAs.user]);
  if (runAs.group !== undefined) props.push(['Group', 's', runAs.group]);
  return props;
}

export type StartTransient = (name: string, props: readonly TransientProperty[]) => Promise<string>;

/** Runs the probe; `start` starts the transient unit and resolves with its job's result. */
export async function execProbe(
  command: readonly string[],
  runAs: RunAs,
  timeoutSeconds: number,
  unit: string,
  start: StartTransient,
): Promise<ProbeOutcome> {
  const what = `exec ${command.join(' ')}`;
  const name = `sdw-probe-${randomBytes(6).toString('hex')}.service`;
  const began = Date.now();
  try {
    const result = await start(name, execProbeProperties(command, runAs, timeoutSeconds, unit));
    if (result === 'done') return { ok: true, message: `${what}: exit 0` };
    const late = Date.now() - began >= timeoutSeconds * 1000;
    return {
      ok: false,
      message: late ? `${what}: no exit within ${timeoutSeconds}s` : `${what}: failed (a non-zero exit, or it could not start)`,
    };
  } catch (e) {
    return { ok: false, message: `${what}: ${(e as Error).message}` };
  }
}

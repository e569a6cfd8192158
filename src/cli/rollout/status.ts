// `kubectl sdw rollout status NAME`: waits for a rollout as `kubectl rollout
// status` does, printing each new progress line, and exits 0 when it is
// complete (or held at its partition, as kubectl treats a partitioned
// StatefulSet), 1 when it cannot finish (Stalled=True, phase Failed, a
// partition no node count can satisfy) or the --timeout passes.
import type { Condition, SystemdWorkload, SystemdWorkloadStatus } from '../../api/types.js';
import { UsageError, str } from '../args.js';
import { CliError } from '../logs.js';
import { nameSpec, objectName, target, TARGET_HELP, type RolloutSubcommand } from './subcommand.js';

const POLL_MS = 1000;

/** Where a rollout stands, from the workload as the API server has it: a pure reading. */
export type RolloutProgress = { state: 'waiting' | 'done' | 'failed'; message: string };

const conditionOf = (wl: SystemdWorkload, type: string): Condition | undefined => wl.status?.conditions?.find((c) => c.type === type);

/** Why the rollout cannot finish, if it cannot: Stalled=True (kstatus's rule), or phase Failed. */
function failureOf(wl: SystemdWorkload): string | undefined {
  const stalled = conditionOf(wl, 'Stalled');
  if (stalled?.status === 'True') return `rollout stalled (${stalled.reason}): ${stalled.message}`;
  if (wl.status?.phase !== 'Failed') return undefined;
  const progressing = conditionOf(wl, 'Progressing');
  const why = progressing?.status === 'False' && progressing.reason !== 'RolloutComplete' ? progressing : conditionOf(wl, 'Degraded');
  return `rollout failed: phase Failed${why ? ` (${why.reason}): ${why.message}` : ''}`;
}

export function rolloutProgress(wl: SystemdWorkload): RolloutProgress {
  const s = wl.status;
  const generation = wl.metadata.generation ?? 0;
  if (!s || (s.observedGeneration ?? 0) < generation) {
    return { state: 'waiting', message: 'Waiting for the controller to observe the latest spec...' };
  }
  const failure = failureOf(wl);
  if (failure) return { state: 'failed', message: failure };
  return endOf(conditionOf(wl, 'Progressing'), s.updatedNodes ?? 0, s.desiredNodes ?? 0) ?? waiting(wl, s);
}

/** What the Progressing condition says is an end: complete, held at the partition, or a partition no node count meets. */
function endOf(progressing: Condition | undefined, updated: number, desired: number): RolloutProgress | undefined {
  switch (progressing?.reason) {
    case 'RolloutComplete':
      return { state: 'done', message: `rollout complete: ${updated} of ${desired} nodes updated and available` };
    case 'PartitionedRollout':
      return { state: 'done', message: `partitioned rollout complete: ${progressing.message}` };
    case 'PartitionExceedsNodes':
      return { state: 'failed', message: `rollout cannot proceed: ${progressing.message}` };
  }
  return undefined;
}

/** The progress line while waiting, in kubectl rollout status's words. */
function waiting(wl: SystemdWorkload, s: SystemdWorkloadStatus): RolloutProgress {
  const desired = s.desiredNodes ?? 0;
  const updated = s.updatedNodes ?? 0;
  const ready = s.readyNodes ?? 0;
  const wait = (what: string): RolloutProgress => ({ state: 'waiting', message: `Waiting for rollout to finish${what}...` });
  if (wl.spec.paused) return wait(`: paused with ${updated} of ${desired} nodes updated (kubectl sdw rollout resume)`);
  if (updated < desired) return wait(`: ${updated} out of ${desired} new nodes have been updated`);
  if (ready < desired) return wait(`: ${ready} of ${desired} updated nodes are available`);
  return wait('');
}

/** A Go-style duration ("90s", "5m", "1m30s", "500ms"; a bare number is seconds) in ms; 0 = no limit. */
export function parseDuration(v: string): number {
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((m) => m[0]).join('') !== v) {
    throw new UsageError(`invalid value '${v}' for --timeout: must be a duration such as 90s, 5m or 1m30s`);
  }
  return parts.reduce((ms, m) => ms + Number(m[1]) * unit[m[2]!]!, 0);
}

export const status: RolloutSubcommand = {
  summary: 'wait for the rollout to finish; non-zero when it fails, stalls or times out',
  spec: nameSpec({ timeout: { type: 'string' } }),
  help: `Watch a SystemdWorkload's rollout until it is complete, printing progress as it
changes. Exit code 0 when every node is updated and available (or the rollout is
held at its partition), 1 when it cannot finish (condition Stalled=True, phase
Failed, a partition above the node count) or --timeout passes.

Usage:
  kubectl sdw rollout status NAME [-n NAMESPACE] [--timeout DURATION]

Examples:
  kubectl sdw rollout status web --timeout 2m && echo rolled out

Flags:
      --timeout DURATION  give up after this long (e.g. 90s, 5m; default 0: wait for ever)
${TARGET_HELP}
`,
  run: async (p, io) => {
    const timeoutMs = parseDuration(str(p, 'timeout') ?? '0');
    const t = target(p);
    const now = io.now ?? Date.now;
    const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const deadline = timeoutMs > 0 ? now() + timeoutMs : Infinity;
    let last = '';
    for (;;) {
      const progress = rolloutProgress(await t.client.getWorkload(t.namespace, t.name));
      if (progress.state === 'failed') throw new CliError(`${objectName(t.name)}: ${progress.message}`);
      if (progress.message !== last) io.out(`${progress.state === 'done' ? `${objectName(t.name)} ` : ''}${progress.message}\n`);
      if (progress.state === 'done') return 0;
      last = progress.message;
      if (io.signal.aborted) return 1;
      if (now() + POLL_MS > deadline)
        throw new CliError(`timed out waiting for the rollout of ${objectName(t.name)} (${progress.message})`);
      await sleep(POLL_MS);
    }
  },
};

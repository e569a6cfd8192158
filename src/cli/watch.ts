// -w/--watch for kubectl-sdw's read commands, as kubectl's: list once, then
// follow the changes from the list's resourceVersion until Ctrl-C, picking the
// watch up again where it left off when the API server ends it. With
// --request-timeout the whole watch ends after that long (exit 0), as kubectl's.
import type { SystemdWorkload } from '../api/types.js';
import { isNotFound, type SdwClient } from './kube.js';

export interface WorkloadQuery {
  /** undefined: every namespace. */
  namespace: string | undefined;
  name?: string;
  labelSelector?: string;
}

export async function listAndWatch(
  client: SdwClient,
  q: WorkloadQuery,
  opts: { watch: boolean; timeoutMs?: number; signal: AbortSignal },
  onList: (items: SystemdWorkload[]) => void,
  onEvent: (type: string, w: SystemdWorkload) => void,
): Promise<void> {
  // One object without a watch is a GET, as kubectl's: RBAC may grant get on a name but not list.
  if (q.name !== undefined && q.namespace !== undefined && !opts.watch) {
    const one = await client.getWorkload(q.namespace, q.name).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    onList(one ? [one] : []);
    return;
  }
  const first = await client.listWorkloadsForWatch(q.namespace, q);
  onList(first.items);
  if (!opts.watch) return;
  const stop = opts.timeoutMs ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]) : opts.signal;
  const deadline = opts.timeoutMs ? Date.now() + opts.timeoutMs : undefined;
  let resourceVersion = first.resourceVersion;
  while (!stop.aborted) {
    const timeoutSeconds = deadline === undefined ? undefined : Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    resourceVersion = await client.watchWorkloads(q.namespace, { ...q, resourceVersion, timeoutSeconds }, onEvent, stop);
  }
}

#!/usr/bin/env node
// The controller process: flags and wiring. Informers on workloads, children,
// Nodes, policies and agent heartbeats (watches.ts); one work queue of workload
// keys; leader election by Lease (only the leader reconciles; every replica
// keeps warm caches and serves probes).
import os from 'node:os';
import { UNITSET_PLURAL, WORKLOAD_PLURAL, type SystemdUnitSet, type SystemdWorkload } from '../api/types.js';
import { CustomObjects, clientNodeEventWriter, loadKubeConfig } from '../kube/client.js';
import { ControllerRevisions } from '../kube/controllerRevisions.js';
import { ControllerLoop } from '../kube/controllerLoop.js';
import { EventRecorder } from '../kube/events.js';
import { objectKey } from '../kube/informer.js';
import { LeaderElector } from '../kube/leaderElection.js';
import { createLogger } from '../observability/log.js';
import { Metrics } from '../observability/metrics.js';
import { startServer } from '../observability/server.js';
import { parseFlags } from '../cmdline/flags.js';
import { CreateExpectations } from './expectations.js';
import { WorkloadMetrics } from './metrics.js';
import { reconcileWorkload } from './reconcile.js';
import { cacheReads, ControllerIndex, createInformers, registerWatches } from './watches.js';

const flags = parseFlags(process.argv.slice(2), {
  'probe-port': '8081',
  'leader-elect': 'true',
  'leader-election-namespace': process.env.POD_NAMESPACE ?? 'systemd-workload-operator',
  'leader-election-id': 'systemd-workload-operator-controller',
  'lease-duration': '15',
  'renew-deadline': '10',
  'retry-period': '2',
  'heartbeat-namespace': process.env.POD_NAMESPACE ?? 'systemd-workload-operator',
  'heartbeat-grace': '40',
  workers: '4',
  identity: `${os.hostname()}-${process.pid}`,
});
const leaderElect = flags['leader-elect'] === 'true';
const leaseName = flags['leader-election-id'];
const heartbeatGraceMs = Number(flags['heartbeat-grace']) * 1000;

const log = createLogger({ component: 'controller' });
const metrics = new Metrics();
const kc = loadKubeConfig();
const informers = createInformers(kc, flags['heartbeat-namespace'], log);
const index = new ControllerIndex();
const expectations = new CreateExpectations();
const { revisionsOf, ...reads } = cacheReads(informers, index);
const deps = {
  ...reads,
  revisions: { list: revisionsOf, api: new ControllerRevisions(kc) },
  heartbeatGraceMs,
  workloadApi: new CustomObjects<SystemdWorkload>(kc, WORKLOAD_PLURAL),
  childApi: new CustomObjects<SystemdUnitSet>(kc, UNITSET_PLURAL),
  events: new EventRecorder(clientNodeEventWriter(kc), 'systemd-workload-controller', log, os.hostname()),
  log,
  expectations,
};
const loop = new ControllerLoop('systemdworkload', (key) => reconcileWorkload(key, deps), metrics, log, Number(flags.workers));
registerWatches({ informers, index, expectations, heartbeatGraceMs, enqueue: (key) => loop.queue.add(key) });
const allInformers = Object.values(informers);
metrics.leader.set({ name: leaseName }, leaderElect ? 0 : 1);
let leading = false;
new WorkloadMetrics(
  metrics,
  () => informers.workloads.list(),
  () => leading,
);

function startReconciling(): void {
  leading = true;
  metrics.leader.set({ name: leaseName }, 1);
  loop.start();
  for (const w of informers.workloads.list()) loop.queue.add(objectKey(w));
}

function electLeader(): LeaderElector {
  const elector = new LeaderElector(kc, {
    namespace: flags['leader-election-namespace'],
    name: leaseName,
    identity: flags.identity,
    leaseDurationSeconds: Number(flags['lease-duration']),
    renewDeadlineMs: Number(flags['renew-deadline']) * 1000,
    retryPeriodMs: Number(flags['retry-period']) * 1000,
    log,
    onStartedLeading: startReconciling,
    // As controller-runtime: a replica that lost the lease exits and is restarted clean.
    onStoppedLeading: () => process.exit(1),
  });
  elector.start();
  return elector;
}

async function main(): Promise<void> {
  await startServer({
    port: Number(flags['probe-port']),
    metrics,
    healthz: [{ name: 'ping', check: () => true }],
    readyz: [{ name: 'informers-synced', check: () => allInformers.every((i) => i.synced) || 'caches not synced' }],
  });
  log.info('starting', { identity: flags.identity, leaderElect: flags['leader-elect'] });
  await Promise.all(allInformers.map((i) => i.start()));
  log.info('caches synced', {
    workloads: informers.workloads.list().length,
    children: informers.children.list().length,
    nodes: informers.nodes.list().length,
  });

  if (!leaderElect) {
    startReconciling();
    process.once('SIGTERM', () => process.exit(0));
    return;
  }
  const elector = electLeader();
  const shutdown = async (): Promise<void> => {
    loop.stop();
    allInformers.forEach((i) => i.stop());
    await elector.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((err) => {
  log.error('controller failed to start', { error: String(err) });
  process.exit(1);
});

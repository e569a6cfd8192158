#!/usr/bin/env node
// The controller process: flags and wiring. Informers on workloads, children,
// Nodes, policies and agent heartbeats (watches.ts); one work queue of workload
// keys; leader election by Lease (only the leader reconciles; every replica
// keeps warm caches and serves probes).
import os from 'node:os';
import { UNITSET_PLURAL, WORKLOAD_PLURAL, type SystemdUnitSet, type SystemdWorkload } from '../api/types.js';
import { CustomObjects, loadKubeConfig } from '../kube/client.js';
import { rateLimitRequests, TokenBucket } from '../kube/rateLimit.js';
import { ControllerRevisions } from '../kube/controllerRevisions.js';
import { ControllerLoop } from '../kube/controllerLoop.js';
import { EventRecorder } from '../kube/events.js';
import { objectKey } from '../kube/informer.js';
import { LeaderElector } from '../kube/leaderElection.js';
import { createLogger } from '../observability/log.js';
import { Metrics } from '../observability/metrics.js';
import { startServer } from '../observability/server.js';
import { METRICS_FLAG_DEFAULTS, startMetricsEndpoint } from '../kube/metricsEndpoint.js';
import { parseFlags } from '../cmdline/flags.js';
import { CreateExpectations } from './expectations.js';
import { startLogsApi } from './logsApi.js';
import { WorkloadMetrics } from './metrics.js';
import { reconcileWorkload } from './reconcile.js';
import { cacheReads, ControllerIndex, createInformers, registerWatches } from './watches.js';

const flags = parseFlags(process.argv.slice(2), {
  'probe-port': '8081',
  ...METRICS_FLAG_DEFAULTS,
  'leader-elect': 'true',
  'leader-election-namespace': process.env.POD_NAMESPACE ?? 'systemd-workload-operator',
  'leader-election-id': 'systemd-workload-operator-controller',
  'lease-duration': '15',
  'renew-deadline': '10',
  'retry-period': '2',
  'heartbeat-namespace': process.env.POD_NAMESPACE ?? 'systemd-workload-operator',
  'heartbeat-grace': '40',
  workers: '4',
  // The aggregated logs API (APIService v1alpha1.subresources.systemd.operators.dev); 0 turns it off.
  'logs-api-port': '9443',
  'logs-api-bind-address': '',
  'logs-api-tls-cert-file': '',
  'logs-api-tls-key-file': '',
  // kube-controller-manager's defaults: what the DaemonSet controller runs with in a stock cluster.
  'kube-api-qps': '20',
  'kube-api-burst': '30',
  identity: `${os.hostname()}-${process.pid}`,
});
const leaderElect = flags['leader-elect'] === 'true';
const leaseName = flags['leader-election-id'];
const heartbeatGraceMs = Number(flags['heartbeat-grace']) * 1000;

const log = createLogger({ component: 'controller' });
const metrics = new Metrics();
const kc = loadKubeConfig();
const apiHost = new URL(kc.getCurrentCluster()?.server ?? 'https://unknown').host;
// Every API request of this process waits for the client-side limit, as client-go's do.
rateLimitRequests(kc, TokenBucket.fromFlags(flags['kube-api-qps'], flags['kube-api-burst']), (verb, seconds) =>
  metrics.rateLimiterDuration.observe({ verb, host: apiHost }, seconds),
);
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
  events: new EventRecorder(kc, 'systemd-workload-controller', log, os.hostname()),
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
  const dedicatedMetrics = await startMetricsEndpoint(flags, kc, metrics, 'systemd-workload-controller-metrics');
  await startServer({
    port: Number(flags['probe-port']),
    metrics,
    serveMetrics: !dedicatedMetrics,
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
  // Every replica serves it (reads only, from the caches just synced): the Service spreads requests.
  // A cluster without a front proxy (no --requestheader-* flags) only loses `kubectl sdw logs`: reconciling goes on.
  if (Number(flags['logs-api-port']) > 0) {
    await startLogsApi(
      kc,
      {
        port: Number(flags['logs-api-port']),
        host: flags['logs-api-bind-address'],
        certFile: flags['logs-api-tls-cert-file'],
        keyFile: flags['logs-api-tls-key-file'],
        heartbeatNamespace: flags['heartbeat-namespace'],
      },
      informers,
      index,
      log,
    ).then(
      () => log.info('logs API serving', { port: flags['logs-api-port'] }),
      (err: unknown) => log.error('logs API not served', { error: String(err) }),
    );
  }

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

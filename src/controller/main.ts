#!/usr/bin/env node
// The controller process: informers on workloads, children, Nodes and agent
// heartbeats; one work queue of workload keys; leader election by Lease (only
// the leader reconciles; every replica keeps warm caches and serves probes).
import * as k8s from '@kubernetes/client-node';
import os from 'node:os';
import {
  API_VERSION, LABEL_WORKLOAD_UID, POLICY_KIND, POLICY_PLURAL, UNITSET_KIND, UNITSET_PLURAL, WORKLOAD_KIND, WORKLOAD_PLURAL,
  type SystemdUnitSet, type SystemdWorkload, type SystemdWorkloadPolicy,
} from '../api/types.js';
import { CustomObjects, loadKubeConfig } from '../kube/client.js';
import { ControllerLoop } from '../kube/controllerLoop.js';
import { EventRecorder } from '../kube/events.js';
import { HEARTBEAT_LABEL, heartbeatNode } from '../kube/heartbeat.js';
import { Informer, objectKey } from '../kube/informer.js';
import { LeaderElector } from '../kube/leaderElection.js';
import { createLogger } from '../observability/log.js';
import { Metrics } from '../observability/metrics.js';
import { startServer } from '../observability/server.js';
import { parseFlags } from '../observability/flags.js';
import { CreateExpectations } from './expectations.js';
import { reconcileWorkload } from './reconcile.js';
import type { NodeInfo } from './selection.js';

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

const log = createLogger({ component: 'controller' });
const metrics = new Metrics();
const kc = loadKubeConfig();
const grp = API_VERSION.split('/')[0]!;
const ver = API_VERSION.split('/')[1]!;

const workloads = new Informer<SystemdWorkload>(kc, {
  path: `/apis/${grp}/${ver}/${WORKLOAD_PLURAL}`, apiVersion: API_VERSION, kind: WORKLOAD_KIND, log,
});
const children = new Informer<SystemdUnitSet>(kc, {
  path: `/apis/${grp}/${ver}/${UNITSET_PLURAL}`, apiVersion: API_VERSION, kind: UNITSET_KIND, labelSelector: LABEL_WORKLOAD_UID, log,
});
// Cluster-scoped SystemdWorkloadPolicies: the controller enforces them again (src/controller/policy.ts).
const policies = new Informer<SystemdWorkloadPolicy>(kc, {
  path: `/apis/${grp}/${ver}/${POLICY_PLURAL}`, apiVersion: API_VERSION, kind: POLICY_KIND, log,
});
const nodes = new Informer<k8s.V1Node>(kc, { path: '/api/v1/nodes', apiVersion: 'v1', kind: 'Node', log });
const heartbeats = new Informer<k8s.V1Lease>(kc, {
  path: `/apis/coordination.k8s.io/v1/namespaces/${flags['heartbeat-namespace']}/leases`,
  apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: flags['heartbeat-namespace'], labelSelector: HEARTBEAT_LABEL, log,
});

const expectations = new CreateExpectations();

// Children by owner, kept in step with the informer so a reconcile is O(own children).
const childrenByOwner = new Map<string, Map<string, SystemdUnitSet>>();
children.on((type, c, old) => {
  const drop = (o: SystemdUnitSet | undefined): void => {
    const uid = o?.metadata.labels?.[LABEL_WORKLOAD_UID];
    if (uid) childrenByOwner.get(uid)?.delete(objectKey(o));
  };
  drop(old);
  if (type === 'delete') drop(c);
  else {
    const uid = c.metadata.labels![LABEL_WORKLOAD_UID]!;
    if (type === 'add') expectations.observed(uid, c.spec.nodeName);
    if (!childrenByOwner.has(uid)) childrenByOwner.set(uid, new Map());
    childrenByOwner.get(uid)!.set(objectKey(c), c);
  }
});
const workloadKeyByUid = new Map<string, string>();
workloads.on((type, w) => {
  if (type === 'delete') {
    workloadKeyByUid.delete(w.metadata.uid!);
    expectations.forget(w.metadata.uid!);
  }
  else workloadKeyByUid.set(w.metadata.uid!, objectKey(w));
});

const graceMs = Number(flags['heartbeat-grace']) * 1000;
const heartbeatRenewedAt = new Map<string, number>();
/** Nodes whose heartbeat just came back (or appeared, or went away): their workloads need a pass. */
const heartbeatChanged = new Set<string>();
heartbeats.on((type, lease) => {
  const node = heartbeatNode(lease);
  if (!node) return;
  const before = heartbeatRenewedAt.get(node);
  if (type === 'delete') heartbeatRenewedAt.delete(node);
  // Our own clock, at the moment we saw the renewal (no cross-machine clock trust).
  else if (lease.spec?.renewTime) heartbeatRenewedAt.set(node, Date.now());
  // A routine renewal changes nothing a reconcile would see; only a node turning
  // silent->alive (or appearing/disappearing) does. alive->silent is found by the
  // reconciler's own recheck timer, so renewals do not cost a pass per workload.
  if (type !== 'update' || before === undefined || Date.now() - before >= graceMs) heartbeatChanged.add(node);
});

const workloadApi = new CustomObjects<SystemdWorkload>(kc, WORKLOAD_PLURAL);
const childApi = new CustomObjects<SystemdUnitSet>(kc, UNITSET_PLURAL);
const events = new EventRecorder(kc, 'systemd-workload-controller', log, os.hostname());
const loop = new ControllerLoop('systemdworkload', (key) => reconcileWorkload(key, {
  workload: (k) => workloads.get(k),
  children: (_ns, uid) => [...(childrenByOwner.get(uid)?.values() ?? [])],
  nodes: () => nodes.list().map(nodeInfo),
  policies: () => policies.list(),
  heartbeatAgeMs: (node) => {
    const at = heartbeatRenewedAt.get(node);
    return at === undefined ? undefined : Date.now() - at;
  },
  heartbeatGraceMs: graceMs,
  workloadApi, childApi, events, log, expectations,
}), metrics, log, Number(flags.workers));

function nodeInfo(n: k8s.V1Node): NodeInfo {
  return {
    name: n.metadata!.name!,
    labels: n.metadata?.labels ?? {},
    taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, value: t.value, effect: t.effect })),
  };
}

const enqueueAll = (): void => {
  for (const w of workloads.list()) loop.queue.add(objectKey(w));
};
workloads.on((_t, w) => loop.queue.add(objectKey(w)));
children.on((_t, c) => {
  const key = workloadKeyByUid.get(c.metadata.labels?.[LABEL_WORKLOAD_UID] ?? '');
  if (key) loop.queue.add(key);
});
nodes.on((type, n, old) => {
  // Only what changes matching matters: labels, taints, existence. Status heartbeats do not.
  if (type === 'update' && JSON.stringify([n.metadata?.labels, n.spec?.taints]) === JSON.stringify([old?.metadata?.labels, old?.spec?.taints])) return;
  enqueueAll();
});
// A policy change can refuse or free any workload of the namespaces it lists (or
// listed): all workloads get a pass (policies change rarely).
policies.on(() => enqueueAll());
heartbeats.on((_t, lease) => {
  const node = heartbeatNode(lease);
  if (!node || !heartbeatChanged.delete(node)) return;
  for (const [uid, set] of childrenByOwner) {
    for (const c of set.values()) {
      if (c.spec.nodeName === node) {
        const key = workloadKeyByUid.get(uid);
        if (key) loop.queue.add(key);
        break;
      }
    }
  }
});

let leading = flags['leader-elect'] !== 'true';
metrics.leader.set({ name: flags['leader-election-id']! }, leading ? 1 : 0);
const informers = [workloads, children, policies, nodes, heartbeats];

async function main(): Promise<void> {
  await startServer({
    port: Number(flags['probe-port']),
    metrics,
    healthz: [{ name: 'ping', check: () => true }],
    readyz: [{ name: 'informers-synced', check: () => informers.every((i) => i.synced) || 'caches not synced' }],
  });
  log.info('starting', { identity: flags.identity, leaderElect: flags['leader-elect'] });
  await Promise.all(informers.map((i) => i.start()));
  log.info('caches synced', { workloads: workloads.list().length, children: children.list().length, nodes: nodes.list().length });

  const startReconciling = (): void => {
    leading = true;
    metrics.leader.set({ name: flags['leader-election-id']! }, 1);
    loop.start();
    enqueueAll();
  };
  if (flags['leader-elect'] === 'true') {
    const elector = new LeaderElector(kc, {
      namespace: flags['leader-election-namespace']!,
      name: flags['leader-election-id']!,
      identity: flags.identity!,
      leaseDurationSeconds: Number(flags['lease-duration']),
      renewDeadlineMs: Number(flags['renew-deadline']) * 1000,
      retryPeriodMs: Number(flags['retry-period']) * 1000,
      log,
      onStartedLeading: startReconciling,
      // As controller-runtime: a replica that lost the lease exits and is restarted clean.
      onStoppedLeading: () => process.exit(1),
    });
    elector.start();
    const shutdown = async (): Promise<void> => {
      loop.stop();
      informers.forEach((i) => i.stop());
      await elector.stop();
      process.exit(0);
    };
    process.once('SIGTERM', () => void shutdown());
    process.once('SIGINT', () => void shutdown());
  } else {
    startReconciling();
    process.once('SIGTERM', () => process.exit(0));
  }
}

main().catch((err) => {
  log.error('controller failed to start', { error: String(err) });
  process.exit(1);
});
export { leading };

#!/usr/bin/env node
// The agent process: one per node (a DaemonSet pod in production, with the
// host's system bus socket and /etc/systemd/system mounted).
import os from 'node:os';
import { loadKubeConfig } from '../kube/client.js';
import { parseFlags } from '../cmdline/flags.js';
import { createLogger } from '../observability/log.js';
import { Metrics } from '../observability/metrics.js';
import { startServer } from '../observability/server.js';
import { Agent } from './agent.js';
import { AgentMetrics } from './metrics.js';
import { apiServerAuthorizer, journalHandler, ownedUnitChecker } from './journal.js';

const flags = parseFlags(process.argv.slice(2), {
  'node-name': process.env.NODE_NAME ?? os.hostname(),
  'unit-dir': '/etc/systemd/system',
  'bus-address': process.env.DBUS_SYSTEM_BUS_ADDRESS ?? 'unix:path=/run/dbus/system_bus_socket',
  'probe-port': '8082',
  'heartbeat-namespace': process.env.POD_NAMESPACE ?? 'systemd-workload-operator',
  'heartbeat-period': '10',
  'usage-period': '30',
  'resync-period': '60',
  'watch-silence': '90',
  // Where journalctl reads (--directory); empty: the host's journal (/var/log/journal mounted).
  'journal-dir': '',
  // Where `kubectl sdw logs` reaches this agent; default http://$POD_IP:<probe-port> in a pod.
  'advertise-url': '',
  // The node's /etc/sdw (spec.files), its sealing key's directory, and its passwd/group.
  'files-dir': '/etc/sdw',
  'state-dir': '/var/lib/systemd-workload-agent',
  'etc-dir': '/etc',
});

/** How long a pass still running at SIGTERM may take to finish (the next agent completes an interrupted sync). */
const SHUTDOWN_GRACE_MS = 5_000;

const log = createLogger({ component: 'agent', node: flags['node-name'] });
const metrics = new Metrics({ node: flags['node-name'] });
const kc = loadKubeConfig();
const agent = new Agent(kc, {
  nodeName: flags['node-name'],
  unitDir: flags['unit-dir'],
  busAddress: flags['bus-address'],
  heartbeatNamespace: flags['heartbeat-namespace'],
  heartbeatPeriodMs: Number(flags['heartbeat-period']) * 1000,
  advertiseUrl: flags['advertise-url'] || (process.env.POD_IP ? `http://${process.env.POD_IP}:${flags['probe-port']}` : ''),
  usagePeriodMs: Number(flags['usage-period']) * 1000,
  resyncPeriodMs: Number(flags['resync-period']) * 1000,
  watchSilenceMs: Number(flags['watch-silence']) * 1000,
  log,
  metrics: new AgentMetrics(metrics),
  filesDir: flags['files-dir'],
  stateDir: flags['state-dir'],
  etcDir: flags['etc-dir'],
});

async function main(): Promise<void> {
  await startServer({
    port: Number(flags['probe-port']),
    metrics,
    healthz: [{ name: 'systemd-bus', check: () => agent.connectedToSystemd || 'not connected to systemd' }],
    readyz: [{ name: 'synced', check: () => agent.ready || "first list of this node's units not done" }],
    // GET /logs: the journal of owned units, for `kubectl sdw logs` (see journal.ts for its protection).
    extra: journalHandler({
      journalDir: flags['journal-dir'] || undefined,
      unitOwned: ownedUnitChecker(flags['unit-dir']),
      authorizer: apiServerAuthorizer(kc),
      log,
    }),
  });
  // Before start: a SIGTERM while the API server is unreachable (start waits for
  // the first list) must end the agent at once too; under a kubelet a container
  // that ignores SIGTERM holds the node's shutdown for the whole grace period.
  const shutdown = async (): Promise<void> => {
    log.info('shutting down; units keep running');
    await agent.stop(SHUTDOWN_GRACE_MS);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
  log.info('starting', { unitDir: flags['unit-dir'], bus: flags['bus-address'] });
  await agent.start();
  log.info('first sync requested');
}

main().catch((err) => {
  log.error('agent failed', { error: String(err) });
  process.exit(1);
});

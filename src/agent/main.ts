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
});

const log = createLogger({ component: 'agent', node: flags['node-name'] });
const metrics = new Metrics({ node: flags['node-name']! });
const kc = loadKubeConfig();
const agent = new Agent(kc, {
  nodeName: flags['node-name']!,
  unitDir: flags['unit-dir']!,
  busAddress: flags['bus-address']!,
  heartbeatNamespace: flags['heartbeat-namespace']!,
  heartbeatPeriodMs: Number(flags['heartbeat-period']) * 1000,
  advertiseUrl: flags['advertise-url'] || (process.env.POD_IP ? `http://${process.env.POD_IP}:${flags['probe-port']}` : ''),
  usagePeriodMs: Number(flags['usage-period']) * 1000,
  resyncPeriodMs: Number(flags['resync-period']) * 1000,
  watchSilenceMs: Number(flags['watch-silence']) * 1000,
  log,
  metrics: new AgentMetrics(metrics),
});

async function main(): Promise<void> {
  await startServer({
    port: Number(flags['probe-port']),
    metrics,
    healthz: [{ name: 'systemd-bus', check: () => agent.connectedToSystemd || 'not connected to systemd' }],
    readyz: [{ name: 'synced', check: () => agent.ready || 'first list of this node\'s units not done' }],
    // GET /logs: the journal of owned units, for `kubectl sdw logs` (see journal.ts for its protection).
    extra: journalHandler({
      journalDir: flags['journal-dir'] || undefined,
      unitOwned: ownedUnitChecker(flags['unit-dir']!),
      authorizer: apiServerAuthorizer(kc),
      log,
    }),
  });
  log.info('starting', { unitDir: flags['unit-dir'], bus: flags['bus-address'] });
  await agent.start();
  log.info('first sync requested');
  const shutdown = async (): Promise<void> => {
    // Units keep running: stopping the agent never stops what it manages.
    await agent.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((err) => {
  log.error('agent failed', { error: String(err) });
  process.exit(1);
});

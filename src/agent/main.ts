#!/usr/bin/env node
// The agent process: one per node (a DaemonSet pod in production, with the
// host's system bus socket and /etc/systemd/system mounted).
import https from 'node:https';
import os from 'node:os';
import { KubeRest } from '../kube/rest.js';
import { loadRestAuth } from '../kube/restConfig.js';
import { parseFlags } from '../cmdline/flags.js';
import { ARTIFACT_ROOT } from '../api/artifacts.js';
import { createLogger } from '../observability/log.js';
import { Metrics } from '../observability/metrics.js';
import { startServer } from '../observability/server.js';
import { METRICS_FLAG_DEFAULTS, startMetricsEndpoint } from '../kube/metricsEndpoint.js';
import { apiServerReviews, restReviewApi } from '../kube/delegatedAuth.js';
import { Agent } from './agent.js';
import { TokenBucket } from '../kube/rateLimit.js';
import { AgentMetrics } from './metrics.js';
import { selfSignedCert } from '../observability/selfSignedCert.js';
import { apiServerAuthorizer, journalHandler, ownedUnitChecker } from './journal.js';

const flags = parseFlags(process.argv.slice(2), {
  'node-name': process.env.NODE_NAME ?? os.hostname(),
  'unit-dir': '/etc/systemd/system',
  'bus-address': process.env.DBUS_SYSTEM_BUS_ADDRESS ?? 'unix:path=/run/dbus/system_bus_socket',
  'probe-port': '8082',
  ...METRICS_FLAG_DEFAULTS,
  'heartbeat-namespace': process.env.POD_NAMESPACE ?? 'systemd-workload-operator',
  'heartbeat-period': '10',
  'usage-period': '30',
  'resync-period': '60',
  'watch-silence': '90',
  // Children's status writes per second, and the burst: the kubelet's API defaults
  // before Kubernetes 1.27 (5/10). Unpaced, 1,000 timers firing each minute made one
  // node write 603 statuses of large children in 4 minutes, in bursts while systemd
  // started the services (bench/results/NOTES.md, Timers); a quiet node's change is
  // written at once.
  'status-qps': '5',
  'status-burst': '10',
  // Where journalctl reads (--directory); empty: the host's journal (/var/log/journal mounted).
  'journal-dir': '',
  // The journal endpoint for the aggregated logs API: TLS only, on its own port.
  'logs-port': '9444',
  'logs-bind-address': '0.0.0.0',
  // Where the logs API reaches this agent; default https://$POD_IP:<logs-port> in a pod.
  'advertise-url': '',
  // The node's /etc/sdw (spec.files), its sealing key's directory, and its passwd/group.
  'files-dir': '/etc/sdw',
  'state-dir': '/var/lib/systemd-workload-agent',
  'etc-dir': '/etc',
  // Where the node's / is (files a policy allows outside /etc/sdw): '/' on the host;
  // in the DaemonSet the host's / is mounted at /host (config/manager/agent.yaml).
  'node-root': '/',
  // Where artifacts are staged; units see them at /var/lib/sdw/artifacts (mount it there).
  'artifact-dir': ARTIFACT_ROOT,
  // A network namespace file for httpGet/tcpSocket probes; empty: the agent's own,
  // which is the node's with the DaemonSet's hostNetwork (src/probe/netns.ts says when it is needed).
  'probe-netns': '',
});

// Refused here, before anything starts, with the flag named.
const statusWrites = TokenBucket.fromFlags(flags['status-qps'], flags['status-burst'], { qps: '--status-qps', burst: '--status-burst' });

/** How long a pass still running at SIGTERM may take to finish (the next agent completes an interrupted sync). */
const SHUTDOWN_GRACE_MS = 5_000;

const log = createLogger({ component: 'agent', node: flags['node-name'] });
const metrics = new Metrics({ node: flags['node-name'] });
// The lean client (kube/rest.ts), not client-node: the agent's memory is most of its cost on every node.
const { auth, via } = await loadRestAuth();
if (via === 'kubeconfig') log.info('credentials need client-node (exec plugin, auth provider or proxy): loaded it');
const rest = new KubeRest(auth);
// Delegated authn/authz of /metrics and of the journal endpoint, through the same lean client.
const reviews = apiServerReviews(restReviewApi(rest));
const advertiseUrl = flags['advertise-url'] || (process.env.POD_IP ? `https://${process.env.POD_IP}:${flags['logs-port']}` : '');
// A fresh key at every start, never stored: the certificate is published on the heartbeat Lease and pinned by callers.
// Ten years: a pinned certificate needs no rotation while the agent runs.
const logsCert = selfSignedCert(
  [...new Set([advertiseUrl && new URL(advertiseUrl).hostname.replace(/^\[|\]$/g, ''), '127.0.0.1', 'localhost'].filter(Boolean))],
  3650,
);
const agent = new Agent(rest, {
  nodeName: flags['node-name'],
  unitDir: flags['unit-dir'],
  busAddress: flags['bus-address'],
  heartbeatNamespace: flags['heartbeat-namespace'],
  heartbeatPeriodMs: Number(flags['heartbeat-period']) * 1000,
  advertiseUrl,
  advertiseCert: logsCert.cert,
  usagePeriodMs: Number(flags['usage-period']) * 1000,
  resyncPeriodMs: Number(flags['resync-period']) * 1000,
  watchSilenceMs: Number(flags['watch-silence']) * 1000,
  artifactDir: flags['artifact-dir'],
  probeNetns: flags['probe-netns'] || undefined,
  log,
  metrics: new AgentMetrics(metrics),
  filesDir: flags['files-dir'],
  stateDir: flags['state-dir'],
  etcDir: flags['etc-dir'],
  nodeRoot: flags['node-root'],
  statusWrites,
});

/** GET /logs over TLS: the journal of owned units, for the aggregated logs API (see journal.ts for its protection). */
async function startLogsServer(): Promise<void> {
  const handler = journalHandler({
    journalDir: flags['journal-dir'] || undefined,
    unitOwned: ownedUnitChecker(flags['unit-dir']),
    authorizer: apiServerAuthorizer(reviews),
    log,
  });
  const server = https.createServer({ cert: logsCert.cert, key: logsCert.key, minVersion: 'TLSv1.2' }, (req, res) => {
    handler(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(404).end('not found\n');
      },
      (err: unknown) => {
        log.warn('logs request failed', { error: String(err) });
        if (!res.headersSent) res.writeHead(500).end('internal error\n');
        else res.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(flags['logs-port']), flags['logs-bind-address'], () => resolve());
  });
}

async function main(): Promise<void> {
  const dedicatedMetrics = await startMetricsEndpoint(flags, reviews, metrics, 'systemd-workload-agent-metrics');
  await startServer({
    port: Number(flags['probe-port']),
    metrics,
    serveMetrics: !dedicatedMetrics,
    healthz: [{ name: 'systemd-bus', check: () => agent.connectedToSystemd || 'not connected to systemd' }],
    readyz: [{ name: 'synced', check: () => agent.ready || "first list of this node's units not done" }],
  });
  await startLogsServer();
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

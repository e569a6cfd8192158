// The pure parts of `kubectl sdw logs` and the aggregated logs API, and the
// self-signed certificate the agents publish and callers pin (a real TLS
// handshake on loopback: the pinned certificate is accepted, another refused).
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { logPath, logQuery, parseLogOptions } from '../../../src/api/logs.js';
import { failureMessage, parseSince, parseTail } from '../../../src/cli/logs.js';
import { logTargets } from '../../../src/logsapi/server.js';
import { selfSignedCert } from '../../../src/observability/selfSignedCert.js';
import type { SystemdUnitSet, SystemdWorkload } from '../../../src/api/types.js';

const workload = {
  metadata: { name: 'web', namespace: 'team-a', uid: 'u1' },
  spec: {
    units: [
      { name: 'server', command: ['/bin/true'] },
      { name: 'worker', command: ['/bin/true'] },
    ],
  },
} as unknown as SystemdWorkload;
const child = (node: string) => ({ spec: { nodeName: node } }) as unknown as SystemdUnitSet;

describe('log options and path', () => {
  it('round-trips the query as PodLogOptions names', () => {
    const q = logQuery({ follow: true, tailLines: 5, sinceSeconds: 60, timestamps: true }, { node: 'n1', unit: undefined });
    expect(q.toString()).toBe('follow=true&tailLines=5&sinceSeconds=60&timestamps=true&node=n1');
    expect(parseLogOptions(q)).toEqual({ follow: true, tailLines: 5, sinceSeconds: 60, timestamps: true });
    expect(parseLogOptions(new URLSearchParams('sinceSeconds=x'))).toBe('sinceSeconds must be a non-negative integer');
    expect(logPath('team-a', 'web')).toBe('/apis/subresources.systemd.operators.dev/v1alpha1/namespaces/team-a/systemdworkloads/web/log');
  });

  it('parses kubectl-style --since and --tail', () => {
    expect(parseSince('90s')).toBe(90);
    expect(parseSince('1h30m')).toBe(5400);
    expect(parseSince('500ms')).toBe(1);
    expect(() => parseSince('5 minutes')).toThrow(/invalid --since/);
    expect(parseTail(undefined)).toBeUndefined();
    expect(parseTail('-1')).toBeUndefined();
    expect(parseTail('20')).toBe(20);
    expect(() => parseTail('-2')).toThrow(/invalid --tail/);
  });

  it('a 403 names the rule to grant', () => {
    const body = JSON.stringify({ kind: 'Status', message: 'forbidden: User "alice" cannot get resource "systemdworkloads/log"' });
    expect(failureMessage(403, body)).toBe(
      'HTTP 403: forbidden: User "alice" cannot get resource "systemdworkloads/log"\n(grant it with a Role rule {apiGroups: [subresources.systemd.operators.dev], resources: [systemdworkloads/log], verbs: [get]}; the built-in view role includes it)',
    );
  });
});

describe('logTargets', () => {
  it('every node and unit by default, narrowed by --node and --unit, with messages for unknown ones', () => {
    expect(logTargets(workload, [child('n2'), child('n1')])).toEqual({
      nodes: ['n1', 'n2'],
      units: ['sdw-team-a_web_server.service', 'sdw-team-a_web_worker.service'],
    });
    expect(logTargets(workload, [child('n1'), child('n2')], 'n2', 'worker')).toEqual({
      nodes: ['n2'],
      units: ['sdw-team-a_web_worker.service'],
    });
    expect(logTargets(workload, [child('n1')], 'n9')).toBe("workload team-a/web does not run on node 'n9' (nodes: n1)");
    expect(logTargets(workload, [child('n1')], undefined, 'db')).toBe("workload team-a/web has no unit 'db' (units: server, worker)");
    expect(logTargets(workload, [])).toBe('workload team-a/web runs on no node yet');
  });
});

describe('pinning the self-signed certificate an agent publishes', () => {
  it('a client pinning it accepts it, and one pinning another refuses', async () => {
    const mine = selfSignedCert(['127.0.0.1', 'localhost']);
    const x = new X509Certificate(mine.cert);
    expect(x.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
    expect(x.verify(x.publicKey)).toBe(true);
    const server = https.createServer({ cert: mine.cert, key: mine.key }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const get = (ca: string) =>
      new Promise<string>((resolve) => {
        const req = https.get({ host: '127.0.0.1', port, ca, checkServerIdentity: () => undefined }, (res) => {
          res.setEncoding('utf8');
          let b = '';
          res.on('data', (c: string) => (b += c));
          res.on('end', () => resolve(b));
        });
        req.on('error', (e) => resolve(`error: ${e.message}`));
      });
    try {
      expect(await get(mine.cert)).toBe('ok');
      expect(await get(selfSignedCert(['127.0.0.1']).cert)).toMatch(/^error: /);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

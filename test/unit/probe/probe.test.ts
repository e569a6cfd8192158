// The probe runners against real loopback sockets, and the probe state machine
// (thresholds as the kubelet applies them), and how a readiness probe gates a
// unit's ready in the agent's pure status.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { httpGetProbe, tcpSocketProbe } from '../../../src/probe/network.js';
import { execProbe, execProbeProperties } from '../../../src/probe/exec.js';
import { initialProbeState, nextProbeState, probeResult, type ProbeState } from '../../../src/probe/state.js';
import { dynamicUserName, siphash24 } from '../../../src/render/dynamicUser.js';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}
const close = (server: net.Server) => new Promise((resolve) => server.close(resolve));

describe('httpGet', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const code = Number(req.url?.slice(1)) || 200;
      if (code === 599) return; // never answers
      res.writeHead(code, code === 302 ? { Location: '/500' } : {}).end();
    });
    port = await listen(server);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await close(server);
  });

  it.each([
    ['/200', true],
    ['/302', true],
    ['/399', true],
    ['/404', false],
    ['/500', false],
  ])('GET %s -> ok %s (2xx and 3xx hold, redirects are not followed)', async (path, ok) => {
    const o = await httpGetProbe({ port, path });
    expect(o.ok).toBe(ok);
    expect(o.message).toBe(`GET http://127.0.0.1:${port}${path}: HTTP ${path.slice(1)}`);
  });

  it('fails on a server that does not answer within timeoutSeconds', async () => {
    const o = await httpGetProbe({ port, path: '/599' }, 1);
    expect(o).toEqual({ ok: false, message: `GET http://127.0.0.1:${port}/599: no response within 1s` });
  });

  it('fails, saying so, when nothing listens', async () => {
    const s = net.createServer();
    const free = await listen(s);
    await close(s);
    const o = await httpGetProbe({ port: free });
    expect(o.ok).toBe(false);
    expect(o.message).toMatch(/ECONNREFUSED/);
  });
});

describe('tcpSocket', () => {
  it('holds when a connection is accepted, fails when refused', async () => {
    const s = net.createServer((c) => c.destroy());
    const port = await listen(s);
    expect(await tcpSocketProbe({ port })).toEqual({ ok: true, message: `tcp 127.0.0.1:${port}: connected` });
    await close(s);
    const o = await tcpSocketProbe({ port });
    expect(o.ok).toBe(false);
    expect(o.message).toMatch(/ECONNREFUSED/);
  });
});

describe('the probe state', () => {
  const ok = { ok: true, message: 'ok' };
  const bad = { ok: false, message: 'bad' };
  const run = (kind: 'readiness' | 'liveness', probe: object, outcomes: Array<typeof ok>) => {
    let s: ProbeState = initialProbeState(kind);
    const seen: Array<[string, boolean]> = [];
    for (const o of outcomes) {
      const step = nextProbeState(kind, probe, s, o, 0);
      s = step.state;
      seen.push([s.result, step.restart]);
    }
    return seen;
  };

  it('readiness starts Pending, holds after successThreshold successes, fails after failureThreshold failures', () => {
    expect(initialProbeState('readiness').result).toBe('Pending');
    expect(run('readiness', { successThreshold: 2, failureThreshold: 2 }, [ok, ok, bad, ok, bad, bad, ok, ok])).toEqual([
      ['Pending', false],
      ['Success', false],
      ['Success', false],
      ['Success', false],
      ['Success', false],
      ['Failure', false],
      ['Failure', false],
      ['Success', false],
    ]);
  });

  it('liveness starts holding and asks for one restart at failureThreshold failures in a row', () => {
    expect(run('liveness', { failureThreshold: 3 }, [bad, bad, ok, bad, bad, bad, bad]).map(([, r]) => r)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      false,
    ]);
  });

  it('shows the result, the failures in a row and the message, without a time (no status write per probe)', () => {
    const s = nextProbeState('readiness', {}, initialProbeState('readiness'), bad, 0).state;
    expect(probeResult(s)).toEqual({ result: 'Pending', consecutiveFailures: 1, message: 'bad' });
  });
});

describe('exec probes run as the unit', () => {
  it("give the transient oneshot the unit's User= and Group=, or its dynamic user by name, and the timeout", () => {
    const props = execProbeProperties(['/usr/bin/test', '-f', '/x'], { user: 'svc', group: 'svc' }, 3, 'u.service');
    expect(props).toEqual([
      ['Description', 's', 'exec probe of u.service'],
      ['Type', 's', 'oneshot'],
      ['ExecStart', 'a(sasb)', [['/usr/bin/test', ['/usr/bin/test', '-f', '/x'], false]]],
      ['TimeoutStartUSec', 't', 3_000_000n],
      ['CollectMode', 's', 'inactive-or-failed'],
      ['User', 's', 'svc'],
      ['Group', 's', 'svc'],
    ]);
    const dyn = execProbeProperties(['/bin/true'], { dynamicUser: true, user: 'sdw-default_web_server' }, 1, 'u.service');
    expect(dyn).toContainEqual(['DynamicUser', 'b', true]);
    expect(dyn).toContainEqual(['User', 's', 'sdw-default_web_server']);
  });

  it('reads the start job: done is exit 0, anything else a failure; a job that took the timeout says so', async () => {
    const run = (result: string) => execProbe(['/bin/true'], {}, 1, 'u.service', () => Promise.resolve(result));
    expect(await run('done')).toEqual({ ok: true, message: 'exec /bin/true: exit 0' });
    expect(await run('failed')).toEqual({ ok: false, message: 'exec /bin/true: failed (a non-zero exit, or it could not start)' });
    const refused = await execProbe(['/bin/true'], {}, 1, 'u.service', () => Promise.reject(new Error('Access denied')));
    expect(refused).toEqual({ ok: false, message: 'exec /bin/true: Access denied' });
  });
});

describe("the unit's dynamic user, which exec probes share", () => {
  it('SipHash-2-4 gives the reference vectors (key 00..0f)', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    expect(siphash24(new Uint8Array(0), key)).toBe(0x726fdb47dd0e0e31n);
    expect(
      siphash24(
        Uint8Array.from({ length: 15 }, (_, i) => i),
        key,
      ),
    ).toBe(0xa129ca6149be45e5n);
  });

  it("is the unit name's prefix when that is a valid user name of at most 31 characters, else _du and a hash, as systemd 252", () => {
    expect(dynamicUserName('sdw-default_web_server.service')).toBe('sdw-default_web_server');
    const long = dynamicUserName('sdw-default_exec-as-unit-user_app.service');
    expect(long).toMatch(/^_du[0-9a-f]{16}$/);
    expect(dynamicUserName('sdw-default_exec-as-unit-user_app.service')).toBe(long);
    expect(dynamicUserName('sdw-default_web.v2_server.service')).toMatch(/^_du[0-9a-f]{16}$/);
  });
});

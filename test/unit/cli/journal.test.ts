// The agent's /logs handler on a real HTTP server, with a fake authorizer and
// /bin/echo standing in for journalctl (so the argv it would run is visible).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { journalHandler, journalctlArgs, parseLogsQuery, type Authorizer } from '../../../src/agent/journal.js';

const UNIT = 'sdw-default_web_server.service';

describe('parseLogsQuery / journalctlArgs', () => {
  it('accepts operator units only, bounds lines, parses follow', () => {
    expect(parseLogsQuery(new URLSearchParams(`unit=${UNIT}&lines=5&follow=1`))).toEqual({ units: [UNIT], lines: 5, follow: true });
    expect(parseLogsQuery(new URLSearchParams(`unit=${UNIT}`))).toEqual({ units: [UNIT], lines: 100, follow: false });
    expect(parseLogsQuery(new URLSearchParams(`unit=${UNIT}&lines=99999999`), 1000)).toMatchObject({ lines: 1000 });
    expect(parseLogsQuery(new URLSearchParams(''))).toBe('unit is required');
    expect(parseLogsQuery(new URLSearchParams('unit=sshd.service'))).toMatch(/not a unit of systemd-workload-operator/);
    expect(parseLogsQuery(new URLSearchParams('unit=sdw-a_b_c.service;rm'))).toMatch(/not a unit/);
    expect(parseLogsQuery(new URLSearchParams(`unit=${UNIT}&lines=-1`))).toMatch(/lines must be/);
    expect(parseLogsQuery(new URLSearchParams(`unit=${UNIT}&follow=yes`))).toMatch(/follow must be/);
  });

  it('builds journalctl argv', () => {
    expect(journalctlArgs({ units: [UNIT], lines: 10, follow: true }, '/j')).toEqual([
      '--directory=/j',
      `--unit=${UNIT}`,
      '--output=short-iso',
      '--no-pager',
      '--quiet',
      '--lines=10',
      '--follow',
    ]);
    expect(journalctlArgs({ units: [UNIT], lines: 10, follow: false })[0]).toBe(`--unit=${UNIT}`);
  });
});

describe('journalHandler', () => {
  let server: http.Server;
  let base: string;
  const calls: string[] = [];
  const authorizer: Authorizer = {
    authenticate: async (token) => (token === 'good' || token === 'viewer' ? { username: token, groups: ['g'] } : undefined),
    allowed: async (caller, ns, wl) => {
      calls.push(`${caller.username} ${ns}/${wl}`);
      return caller.username === 'good';
    },
  };

  beforeAll(async () => {
    const handler = journalHandler({ journalDir: '/j', journalctl: '/bin/echo', unitOwned: (u) => u === UNIT, authorizer });
    server = http.createServer((req, res) => {
      void handler(req, res).then((handled) => {
        if (!handled) res.writeHead(404).end('other route\n');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  const get = async (path: string, token?: string): Promise<[number, string]> => {
    const res = await fetch(base + path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    return [res.status, await res.text()];
  };

  it('leaves other paths to the server', async () => {
    expect(await get('/metrics')).toEqual([404, 'other route\n']);
  });

  it('401 without a token or with one the API server rejects', async () => {
    expect((await get(`/logs?unit=${UNIT}`))[0]).toBe(401);
    expect((await get(`/logs?unit=${UNIT}`, 'forged'))[0]).toBe(401);
  });

  it("403 when the SubjectAccessReview denies systemdworkloads/log of the unit's workload", async () => {
    const [code, body] = await get(`/logs?unit=${UNIT}`, 'viewer');
    expect(code).toBe(403);
    expect(body).toContain("may not get systemdworkloads/log 'web' in namespace 'default'");
    expect(calls).toContain('viewer default/web');
  });

  it("400 for a unit that is not the operator's; 404 for one this agent does not own", async () => {
    expect((await get('/logs?unit=sshd.service', 'good'))[0]).toBe(400);
    expect((await get('/logs?unit=sdw-default_other_x.service', 'good'))[0]).toBe(404);
  });

  it('runs journalctl with the validated argv for an authorized caller', async () => {
    const [code, body] = await get(`/logs?unit=${UNIT}&lines=7`, 'good');
    expect(code).toBe(200);
    expect(body.trim()).toBe(`--directory=/j --unit=${UNIT} --output=short-iso --no-pager --quiet --lines=7`);
  });
});

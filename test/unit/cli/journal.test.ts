// The agent's /logs handler on a real HTTP server, with a fake authorizer and
// a shell script standing in for journalctl that prints its argv as one
// journal entry in JSON (so the argv it would run is visible).
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { formatEntry, journalHandler, journalctlArgs, parseLogsQuery, type Authorizer } from '../../../src/agent/journal.js';
import { MAX_TAIL_LINES } from '../../../src/api/logs.js';

const UNIT = 'sdw-default_web_server.service';
const OTHER = 'sdw-default_web_worker.service';

describe('parseLogsQuery / journalctlArgs / formatEntry', () => {
  it('accepts operator units only, bounds tailLines, parses follow, since and timestamps', () => {
    expect(parseLogsQuery(new URLSearchParams(`unit=${UNIT}&tailLines=5&follow=true`))).toEqual({
      units: [UNIT],
      tailLines: 5,
      follow: true,
      timestamps: false,
      sinceSeconds: undefined,
    });
    expect(parseLogsQuery(new URLSearchParams(`unit=${UNIT}&sinceSeconds=60&timestamps=true`))).toMatchObject({
      tailLines: undefined,
      sinceSeconds: 60,
      timestamps: true,
    });
    expect(parseLogsQuery(new URLSearchParams(`unit=${UNIT}&tailLines=999999999`))).toMatchObject({ tailLines: MAX_TAIL_LINES });
    expect(parseLogsQuery(new URLSearchParams(''))).toBe('unit is required');
    expect(parseLogsQuery(new URLSearchParams('unit=sshd.service'))).toMatch(/not a unit of systemd-workload-operator/);
    expect(parseLogsQuery(new URLSearchParams('unit=sdw-a_b_c.service;rm'))).toMatch(/not a unit/);
    expect(parseLogsQuery(new URLSearchParams(`unit=${UNIT}&tailLines=-1`))).toMatch(/tailLines must be/);
    expect(parseLogsQuery(new URLSearchParams(`unit=${UNIT}&follow=yes`))).toMatch(/follow must be/);
  });

  it('builds journalctl argv', () => {
    const r = { units: [UNIT], tailLines: 10, follow: true, timestamps: false, sinceSeconds: 60 };
    expect(journalctlArgs(r, '/j', 1_000_000)).toEqual([
      '--directory=/j',
      `--unit=${UNIT}`,
      '--output=json',
      '--no-pager',
      '--quiet',
      '--lines=10',
      '--since=@940',
      '--follow',
    ]);
    expect(journalctlArgs({ ...r, tailLines: undefined, follow: false, sinceSeconds: undefined }, undefined, 0)).toEqual([
      `--unit=${UNIT}`,
      '--output=json',
      '--no-pager',
      '--quiet',
      `--lines=${MAX_TAIL_LINES}`,
    ]);
  });

  it('formats an entry: the message; the unit name with several units; the time on request', () => {
    const entry = JSON.stringify({ MESSAGE: 'hello', _SYSTEMD_UNIT: OTHER, __REALTIME_TIMESTAMP: '1700000000123456' });
    expect(formatEntry(entry, { units: [UNIT], timestamps: false })).toBe('hello\n');
    expect(formatEntry(entry, { units: [UNIT, OTHER], timestamps: true })).toBe('worker 2023-11-14T22:13:20.123456Z hello\n');
    // systemd's own line about the unit carries UNIT=; a binary message is an array of bytes.
    const own = JSON.stringify({ MESSAGE: [104, 105], UNIT, _SYSTEMD_UNIT: 'init.scope' });
    expect(formatEntry(own, { units: [UNIT, OTHER], timestamps: false })).toBe('server hi\n');
    expect(formatEntry('not json', { units: [UNIT], timestamps: false })).toBeUndefined();
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

  let dir: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdw-journal-'));
    const journalctl = path.join(dir, 'journalctl');
    await fs.writeFile(journalctl, `#!/bin/sh\nprintf '{"MESSAGE":"%s"}\\n' "$*"\n`, { mode: 0o755 });
    const handler = journalHandler({ journalDir: '/j', journalctl, unitOwned: (u) => u === UNIT, authorizer });
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
    await fs.rm(dir, { recursive: true, force: true });
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
    expect(body).toContain("may not get systemdworkloads/log 'web' in namespace 'default' (API group subresources.systemd.operators.dev)");
    expect(calls).toContain('viewer default/web');
  });

  it("400 for a unit that is not the operator's; 404 for one this agent does not own", async () => {
    expect((await get('/logs?unit=sshd.service', 'good'))[0]).toBe(400);
    expect((await get('/logs?unit=sdw-default_other_x.service', 'good'))[0]).toBe(404);
  });

  it('runs journalctl with the validated argv for an authorized caller', async () => {
    const [code, body] = await get(`/logs?unit=${UNIT}&tailLines=7`, 'good');
    expect(code).toBe(200);
    expect(body).toBe(`--directory=/j --unit=${UNIT} --output=json --no-pager --quiet --lines=7\n`);
  });
});

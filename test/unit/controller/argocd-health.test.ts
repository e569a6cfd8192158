// The Argo CD health check (config/argocd/health.lua) in lua5.4 against
// workloads saved from test/e2e/controller/health-status.test.ts's real objects
// (kubectl get -o json, managedFields dropped), one per state, so a change to
// the script is checked without a cluster. The e2e test runs it live.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../harness/binaries.js';
import { argocdHealthOf, luaLiteral } from '../../harness/gitopsHealth.js';
import type { SystemdWorkload } from '../../../src/api/types.js';

const fixture = (name: string) => readFileSync(path.join(repoRoot, 'test', 'cases', 'gitops-health', `${name}.json`), 'utf8');

describe('Argo CD health check', () => {
  it.each([
    ['stable', 'Healthy', /^RolloutComplete: 2 nodes updated and ready$/],
    ['rolling-out', 'Progressing', /^NodesNotReady: 2 of 2 nodes updated, 0 ready$/],
    ['paused', 'Suspended', /^RolloutPaused: paused: 0 of 2 nodes updated/],
    ['crash-loop', 'Progressing', /^NodesNotReady: 2 of 2 nodes updated, \d ready/],
    ['deadline-exceeded', 'Degraded', /^ProgressDeadlineExceeded: no progress for 10s/],
    ['policy-violation', 'Degraded', /^PolicyViolation: .*'\/bin\/sh' is not an allowed executable/],
  ])('%s reads %s', async (name, status, message) => {
    const hs = await argocdHealthOf(fixture(name));
    expect(hs.status).toBe(status);
    expect(hs.message).toMatch(message);
  });

  it('a spec the controller has not observed yet is Progressing, whatever the old conditions say', async () => {
    const obj = JSON.parse(fixture('stable')) as SystemdWorkload;
    obj.metadata.generation = (obj.metadata.generation ?? 0) + 1;
    expect(await argocdHealthOf(JSON.stringify(obj))).toEqual({
      status: 'Progressing',
      message: `Waiting for the controller to observe generation ${obj.metadata.generation}`,
    });
  });

  it('an object with no status yet is Progressing', async () => {
    const obj = JSON.parse(fixture('stable')) as SystemdWorkload;
    delete obj.status;
    expect((await argocdHealthOf(JSON.stringify(obj))).status).toBe('Progressing');
  });

  it('hands any message to Lua intact (quotes, backslashes, newlines, non-ASCII)', async () => {
    const obj = JSON.parse(fixture('policy-violation')) as SystemdWorkload;
    const odd = 'a "quoted" \\ path]]\nline two: ü ✓';
    obj.status!.conditions!.find((c) => c.type === 'Stalled')!.message = odd;
    expect(await argocdHealthOf(JSON.stringify(obj))).toEqual({ status: 'Degraded', message: `PolicyViolation: ${odd}` });
    expect(luaLiteral({ k: [1, true, null] })).toBe('{["\\107"] = {1, true, nil}}');
  });
});

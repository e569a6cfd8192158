// `kubectl sdw render` on examples/config-secret-artifact.yaml, as its header
// tells a user to run it: each file beside the unit is listed with its mode,
// owner and source, and the Secret's value (which the same file carries, in
// its Secret document) appears nowhere in the output.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAllYaml } from '@kubernetes/client-node';
import { exec } from './execCli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const EXAMPLE = path.join(root, 'examples', 'config-secret-artifact.yaml');

/** The token as the example's Secret document states it (read, so an edit of the example cannot make this test vacuous). */
function exampleToken(): string {
  const docs = loadAllYaml(readFileSync(EXAMPLE, 'utf8')) as Array<{ kind?: string; stringData?: Record<string, string> }>;
  const token = docs.find((d) => d.kind === 'Secret')?.stringData?.token;
  if (!token) throw new Error(`${EXAMPLE}: no Secret with stringData.token`);
  return token;
}

describe('kubectl sdw render on the config/secret/artifact example', () => {
  it('shows the ConfigMap and Secret files by reference and never the Secret value', async () => {
    const token = exampleToken();
    const r = await exec(['render', EXAMPLE]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain(
      '# DATA FILE: /etc/sdw/default/greeter/greeter.conf (mode 0644, owner root, from configmap/greeter-config/greeter.conf)\n',
    );
    expect(r.out).toContain(
      '# DATA FILE: /etc/sdw/default/greeter/token (mode 0600, owner root, from secret/greeter-token/token)\n' +
        '# (a Secret value: sealed for each node by the controller, not shown)\n',
    );
    // The dynamic user reads the token as a credential; the artifact is pinned by its digest.
    expect(r.out).toContain('LoadCredential=token:/etc/sdw/default/greeter/token\n');
    expect(r.out).toContain('DynamicUser=yes\n');
    expect(r.out).toMatch(/^X-SDW-Artifact=release sha256:[0-9a-f]{64}$/m);
    for (const needle of [token, Buffer.from(token).toString('base64')]) expect(r.out).not.toContain(needle);
  });
});

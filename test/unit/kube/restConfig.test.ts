// The lean client's credentials (src/kube/restConfig.ts): a kubeconfig means what
// client-node's KubeConfig makes of it, and what the lean path does not implement
// is handed to KubeConfig (undefined here) rather than half-applied.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromKubeconfigFile } from '../../../src/kube/restConfig.js';
import { microTime } from '../../../src/kube/heartbeat.js';

function kubeconfig(user: string, cluster = 'server: https://10.0.0.1:6443, certificate-authority: ca.crt'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'restconfig-'));
  writeFileSync(path.join(dir, 'ca.crt'), 'CA-PEM');
  writeFileSync(path.join(dir, 'token'), 'file-token\n');
  writeFileSync(path.join(dir, 'client.crt'), 'CERT-PEM');
  writeFileSync(path.join(dir, 'client.key'), 'KEY-PEM');
  const file = path.join(dir, 'config');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: other, cluster: {server: "https://wrong:1"}}, {name: c, cluster: {${cluster}}}]
users: [{name: u, user: {${user}}}]
contexts: [{name: first, context: {cluster: other, user: u}}, {name: x, context: {cluster: c, user: u}}]
current-context: x
`,
  );
  return file;
}

describe('fromKubeconfigFile', () => {
  it("uses the current context's cluster, its CA file relative to the kubeconfig, and a bearer token", async () => {
    const auth = fromKubeconfigFile(kubeconfig('token: abc'))!;
    expect(auth.server).toBe('https://10.0.0.1:6443');
    expect(String(auth.tls.ca)).toBe('CA-PEM');
    expect(auth.tls.rejectUnauthorized).toBe(true);
    expect(await auth.headers()).toEqual({ Authorization: 'Bearer abc' });
  });

  it('reads client certificates from files and from data, and honours insecure-skip-tls-verify', async () => {
    const files = fromKubeconfigFile(kubeconfig('client-certificate: client.crt, client-key: client.key'))!;
    expect([String(files.tls.cert), (files.tls.key as Buffer).toString()]).toEqual(['CERT-PEM', 'KEY-PEM']);
    expect(await files.headers()).toEqual({});
    const data = fromKubeconfigFile(
      kubeconfig(
        `client-certificate-data: ${Buffer.from('C').toString('base64')}, client-key-data: ${Buffer.from('K').toString('base64')}`,
        'server: https://h:1, insecure-skip-tls-verify: true',
      ),
    )!;
    expect([String(data.tls.cert), (data.tls.key as Buffer).toString(), data.tls.rejectUnauthorized]).toEqual(['C', 'K', false]);
  });

  it("reads a token file (the in-cluster provider's shape), trimmed", async () => {
    const file = kubeconfig('auth-provider: {name: tokenFile, config: {tokenFile: token}}');
    expect(await fromKubeconfigFile(file)!.headers()).toEqual({ Authorization: 'Bearer file-token' });
  });

  it('leaves exec plugins, other auth providers, impersonation and proxies to KubeConfig', () => {
    expect(fromKubeconfigFile(kubeconfig('exec: {apiVersion: client.authentication.k8s.io/v1, command: get-token}'))).toBeUndefined();
    expect(fromKubeconfigFile(kubeconfig('auth-provider: {name: oidc, config: {idp-issuer-url: "https://i"}}'))).toBeUndefined();
    expect(fromKubeconfigFile(kubeconfig('token: a, as: someone'))).toBeUndefined();
    expect(fromKubeconfigFile(kubeconfig('token: a', 'server: https://h:1, proxy-url: "http://p:3128"'))).toBeUndefined();
  });
});

describe('microTime', () => {
  it('writes the six fractional digits metav1.MicroTime parses', () => {
    expect(microTime(new Date('2026-11-30T12:34:56.789Z'))).toBe('2026-11-30T12:34:56.789000Z');
  });
});

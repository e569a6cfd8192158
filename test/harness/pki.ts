// The certificates a control plane needs once real kubelets join it: one CA
// that signs the API server's serving certificate (valid for every address a
// client uses: loopback, the node bridge, the kubernetes Service IP and its
// DNS names) and the client certificates of the API server (towards the
// kubelets, for logs and exec) and of each kubelet (system:node:<name>, which
// the Node authorizer and NodeRestriction key on). Made with openssl.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface CertPaths {
  cert: string;
  key: string;
}

export class ClusterPki {
  constructor(readonly dir: string) {}

  get caCert(): string {
    return path.join(this.dir, 'ca.crt');
  }
  get caKey(): string {
    return path.join(this.dir, 'ca.key');
  }

  async createCa(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      this.caKey,
      '-out',
      this.caCert,
      '-days',
      '2',
      '-subj',
      '/CN=sdw-test-ca',
    );
  }

  /** A key and a certificate signed by the CA; `ips`/`dns` make it a serving certificate. */
  async issue(
    name: string,
    subject: string,
    usage: 'serverAuth' | 'clientAuth',
    ips: string[] = [],
    dns: string[] = [],
  ): Promise<CertPaths> {
    const p = { cert: path.join(this.dir, `${name}.crt`), key: path.join(this.dir, `${name}.key`) };
    const csr = path.join(this.dir, `${name}.csr`);
    const ext = path.join(this.dir, `${name}.ext`);
    const san = [...ips.map((ip) => `IP:${ip}`), ...dns.map((d) => `DNS:${d}`)];
    await fs.writeFile(ext, [`extendedKeyUsage=${usage}`, ...(san.length ? [`subjectAltName=${san.join(',')}`] : []), ''].join('\n'));
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p.key, '-out', csr, '-subj', subject);
    await openssl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      this.caCert,
      '-CAkey',
      this.caKey,
      '-CAcreateserial',
      '-out',
      p.cert,
      '-days',
      '2',
      '-extfile',
      ext,
    );
    await Promise.all([fs.rm(csr), fs.rm(ext)]);
    return p;
  }
}

async function openssl(...args: string[]): Promise<void> {
  try {
    await execFileP('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('openssl is not installed (Debian package openssl; hack/install-deps.sh installs it)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? String(err)}`);
  }
}

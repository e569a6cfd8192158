// The image `make image` builds (hack/image/build.sh: the Dockerfile, built by
// buildah without a Docker daemon, into an OCI archive), opened the way a
// cluster opens it: its config as `docker inspect` shows it, its files unpacked
// by umoci, and its own node run by runc on the unpacked bundle with the
// controller pod's read-only root and user. The build is cached; when the
// archive is stale or missing this test builds it, through the same script.
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../harness/binaries.js';

const execFileP = promisify(execFile);
const IMG = 'ghcr.io/example/systemd-workload-operator:0.1.0';
const TAG = '0.1.0';

async function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, {
      env: opts.env ?? process.env,
      timeout: opts.timeout ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error(`${cmd} is not installed: run hack/image/install-deps.sh (Debian packages buildah mmdebstrap umoci skopeo runc)`);
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

async function ok(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(-4000)}`);
  return r.stdout;
}

interface ImageConfig {
  config: { Cmd?: string[]; Entrypoint?: string[]; User?: string; WorkingDir?: string; Env?: string[] };
}

describe('the image make image builds', () => {
  let dir: string;
  let archive: string;
  let rootfs: string;
  let bundle: string;

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, IMG };
    delete env.NODE_OPTIONS; // the jest process's --experimental-vm-modules is not for the build's npm and node
    archive = (await ok(path.join(repoRoot, 'hack', 'image', 'build.sh'), [], { env, timeout: 3_600_000 })).trim();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdw-image-'));
    const layout = path.join(dir, 'layout');
    bundle = path.join(dir, 'bundle');
    await fs.mkdir(layout);
    await ok('tar', ['-xf', archive, '-C', layout]);
    await ok('umoci', ['unpack', '--image', `${layout}:${TAG}`, bundle]);
    rootfs = path.join(bundle, 'rootfs');
  }, 3_700_000);

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('is an OCI archive named for containerd import, at the path the script printed', async () => {
    expect(archive).toBe(path.join(repoRoot, 'dist', 'image', 'systemd-workload-operator.oci.tar'));
    const index = JSON.parse(await fs.readFile(path.join(dir, 'layout', 'index.json'), 'utf8')) as {
      manifests: Array<{ annotations?: Record<string, string> }>;
    };
    expect(index.manifests.map((m) => m.annotations)).toEqual([
      { 'io.containerd.image.name': IMG, 'org.opencontainers.image.ref.name': TAG },
    ]);
  });

  it("runs the controller by default, as user 65532, from /app (the Dockerfile's CMD, USER and WORKDIR)", async () => {
    const cfg = JSON.parse(await ok('skopeo', ['inspect', '--config', `oci-archive:${archive}:${TAG}`])) as ImageConfig;
    expect(cfg.config.Cmd).toEqual(['node', 'dist/src/controller/main.js']);
    expect(cfg.config.User).toBe('65532:65532');
    expect(cfg.config.WorkingDir).toBe('/app');
    expect(cfg.config.Env).toEqual(expect.arrayContaining(['NODE_ENV=production']));
  });

  it("holds both programs, the CRDs, production dependencies only, journalctl for the agent's /logs, and nothing of the build", async () => {
    for (const f of [
      'app/dist/src/controller/main.js',
      'app/dist/src/agent/main.js',
      'app/crds/systemdworkloads.yaml',
      'app/node_modules/@kubernetes/client-node/package.json',
      'app/node_modules/dbus-next/package.json',
      'usr/bin/journalctl',
      'usr/local/bin/node',
    ]) {
      expect({ f, exists: existsSync(path.join(rootfs, f)) }).toEqual({ f, exists: true });
    }
    // Dev dependencies and sources stay in the build stage; the build's trust of
    // the host's CA (hack/image/build.sh) and npm's cache stay out of the image.
    for (const f of [
      'app/node_modules/typescript',
      'app/node_modules/jest',
      'app/src',
      'app/test',
      'root/.npmrc',
      'root/.build-ca.pem',
      'root/.npm',
      'usr/local/etc/npmrc',
    ]) {
      expect({ f, exists: existsSync(path.join(rootfs, f)) }).toEqual({ f, exists: false });
    }
  });

  it("its node runs the controller and the agent (--help) on a read-only root as the image's user, and its journalctl runs", async () => {
    const spec = JSON.parse(await fs.readFile(path.join(bundle, 'config.json'), 'utf8')) as {
      process: { args: string[]; terminal: boolean; user: { uid: number; gid: number } };
      root: { readonly: boolean };
    };
    expect(spec.process.user).toMatchObject({ uid: 65532, gid: 65532 });
    const state = path.join(dir, 'runc');
    const inImage = async (name: string, args: string[]): Promise<{ code: number; out: string }> => {
      spec.process.args = args;
      spec.process.terminal = false;
      spec.root.readonly = true; // as the pods' readOnlyRootFilesystem: true
      await fs.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
      const id = `sdw-image-test-${process.pid}-${name}`;
      try {
        const r = await run('runc', ['--root', state, 'run', '--bundle', bundle, id], { timeout: 60_000 });
        return { code: r.code, out: r.stdout + r.stderr };
      } finally {
        await run('runc', ['--root', state, 'delete', '--force', id]);
      }
    };
    const controller = await inImage('controller', ['node', 'dist/src/controller/main.js', '--help']);
    expect(controller).toEqual({ code: 0, out: expect.stringMatching(/--probe-port=8081\n[\s\S]*--leader-elect=true\n/) });
    const agent = await inImage('agent', ['node', 'dist/src/agent/main.js', '--help']);
    expect(agent).toEqual({ code: 0, out: expect.stringMatching(/--unit-dir=\/etc\/systemd\/system\n[\s\S]*--bus-address=/) });
    const journalctl = await inImage('journalctl', ['journalctl', '--version']);
    expect(journalctl).toEqual({ code: 0, out: expect.stringMatching(/^systemd 252 /) });
  });
});

// Builds a one-layer OCI image archive from Debian's busybox-static, without
// Docker: the pause (sandbox) image and the test image of the kubelet test
// nodes, which can pull nothing. Byte-identical on every run for the same
// busybox binary (fixed order, mtime 0, uid 0, no compression), so its digest
// is stable and a node never holds two copies of it.
//   npx tsc -p tsconfig.json && node dist/hack/images/busybox-oci.js OUT.tar [BUSYBOX]
// Import into a node: ctr -n k8s.io images import OUT.tar
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BUSYBOX = '/bin/busybox';
/** The sandbox image name containerd is configured with (not the real registry.k8s.io/pause). */
export const PAUSE_IMAGE = 'sdw.local/pause:busybox';
/** The same image under the name test pods use. */
export const BUSYBOX_IMAGE = 'sdw.local/busybox:static';
/**
 * What the pause container runs: sleep until SIGTERM, then exit 0. A PID 1
 * without a handler ignores SIGTERM, and the pod would take its whole grace period to stop.
 */
const PAUSE_ENTRYPOINT = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

interface TarEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  data?: Buffer;
  linkname?: string;
}

/** A POSIX ustar archive: 512-byte headers, numbers in octal, two zero blocks at the end. */
export function tar(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const h = Buffer.alloc(512);
    const put = (off: number, len: number, s: string): void => void h.write(s, off, len, 'ascii');
    const octal = (off: number, len: number, n: number): void => put(off, len, n.toString(8).padStart(len - 1, '0'));
    if (Buffer.byteLength(e.name) > 100) throw new Error(`tar: name too long: ${e.name}`);
    const size = e.type === 'file' ? e.data!.length : 0;
    put(0, 100, e.name);
    octal(100, 8, e.mode);
    octal(108, 8, 0); // uid
    octal(116, 8, 0); // gid
    octal(124, 12, size);
    octal(136, 12, 0); // mtime: the epoch, for reproducible bytes
    put(148, 8, ' '.repeat(8)); // checksum field counts as spaces while summing
    put(156, 1, e.type === 'file' ? '0' : e.type === 'symlink' ? '2' : '5');
    if (e.linkname) put(157, 100, e.linkname);
    put(257, 6, 'ustar\0');
    put(263, 2, '00');
    put(265, 32, 'root');
    put(297, 32, 'root');
    let sum = 0;
    for (const b of h) sum += b;
    put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(h);
    if (size > 0) {
      blocks.push(e.data!);
      if (size % 512) blocks.push(Buffer.alloc(512 - (size % 512)));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const digest = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The root file system: busybox and a symlink per applet in /bin, plus the few files a shell expects. */
function rootfs(busybox: string): Buffer {
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a && a !== 'busybox')
    .sort();
  const entries: TarEntry[] = ['bin', 'dev', 'etc', 'proc', 'root', 'run', 'sys', 'tmp', 'var'].map((d) => ({
    name: `${d}/`,
    type: 'dir',
    mode: d === 'tmp' ? 0o1777 : 0o755,
  }));
  entries.push({ name: 'bin/busybox', type: 'file', mode: 0o755, data: readFileSync(busybox) });
  for (const a of applets) entries.push({ name: `bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox' });
  entries.push({ name: 'etc/passwd', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:0:root:/root:/bin/sh\n') });
  entries.push({ name: 'etc/group', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:\n') });
  return tar(entries);
}

/** The archive bytes: one manifest, listed in index.json once per name in `refs`. */
export function busyboxImageArchive(busybox = BUSYBOX, refs = [PAUSE_IMAGE, BUSYBOX_IMAGE]): Buffer {
  const layer = rootfs(busybox);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: { Entrypoint: PAUSE_ENTRYPOINT, Env: ['PATH=/bin'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [digest(layer)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digest(layer), size: layer.length }],
    }),
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: refs.map((ref) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: digest(manifest),
        size: manifest.length,
        annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref.slice(ref.lastIndexOf(':') + 1) },
      })),
    }),
  );
  const file = (name: string, data: Buffer): TarEntry => ({ name, type: 'file', mode: 0o644, data });
  return tar([
    file('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')),
    file('index.json', index),
    { name: 'blobs/', type: 'dir', mode: 0o755 },
    { name: 'blobs/sha256/', type: 'dir', mode: 0o755 },
    ...[config, manifest, layer].map((b) => file(`blobs/sha256/${digest(b).slice(7)}`, b)),
  ]);
}

/** Writes the archive to `out` (through a temporary file, so a reader never sees half of it). */
export async function writeBusyboxImage(out: string, busybox = BUSYBOX): Promise<string> {
  await fs.mkdir(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  await fs.writeFile(tmp, busyboxImageArchive(busybox));
  await fs.rename(tmp, out);
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [out, busybox] = process.argv.slice(2);
  if (!out) {
    console.error(`usage: node ${path.relative(process.cwd(), fileURLToPath(import.meta.url))} OUT.tar [BUSYBOX]`);
    process.exit(2);
  }
  const bytes = busyboxImageArchive(busybox ?? BUSYBOX);
  await fs.writeFile(out, bytes);
  console.log(`${out} ${digest(bytes)} ${PAUSE_IMAGE} ${BUSYBOX_IMAGE}`);
}

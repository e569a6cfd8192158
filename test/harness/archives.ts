// Builds tar.gz and zip archives byte by byte, including the hostile entries no
// well-behaved archiver writes (absolute paths, '..', links pointing out), for
// the artifact tests.
import { deflateRawSync, gzipSync } from 'node:zlib';

export interface Entry {
  name: string;
  /** file (default), dir, symlink or hardlink. */
  type?: 'file' | 'dir' | 'symlink' | 'hardlink';
  content?: string | Buffer;
  /** The link target of a symlink or hard link. */
  target?: string;
  mode?: number;
}

function tarHeader(name: string, type: string, size: number, mode: number, link = ''): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s, off, Math.min(len, Buffer.byteLength(s)), 'utf8');
  const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, '0') + '\0', off, len);
  put(name, 0, 100);
  oct(mode, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(Math.floor(Date.UTC(2026, 0, 1) / 1000), 136, 12);
  h.fill(0x20, 148, 156);
  put(type, 156, 1);
  put(link, 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

/** A gzip-compressed tar of these entries (names longer than 100 bytes get a GNU long-name entry). */
export function tarGz(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = { file: '0', dir: '5', symlink: '2', hardlink: '1' }[e.type ?? 'file'];
    const data = Buffer.from(e.content ?? '');
    if (Buffer.byteLength(e.name) > 100) {
      const long = Buffer.from(`${e.name}\0`);
      parts.push(tarHeader('././@LongLink', 'L', long.length, 0o644), pad(long));
    }
    parts.push(tarHeader(e.name, type, type === '0' ? data.length : 0, e.mode ?? (type === '5' ? 0o755 : 0o644), e.target ?? ''));
    if (type === '0') parts.push(pad(data));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip (deflated files, Unix modes, symlinks as S_IFLNK entries) of these entries. */
export function zip(entries: Entry[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const isDir = e.type === 'dir';
    const name = Buffer.from(isDir && !e.name.endsWith('/') ? `${e.name}/` : e.name);
    const raw = Buffer.from(e.type === 'symlink' ? (e.target ?? '') : (e.content ?? ''));
    const data = isDir ? Buffer.alloc(0) : deflateRawSync(raw);
    const fmt = e.type === 'symlink' ? 0o120000 : isDir ? 0o040000 : 0o100000;
    const mode = fmt | (e.mode ?? (isDir ? 0o755 : 0o644));
    const crc = crc32(raw);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(isDir ? 0 : 8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(isDir ? 0 : raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(isDir ? 0 : 8, 10);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(isDir ? 0 : raw.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE((mode << 16) >>> 0, 38);
    cd.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    central.push(cd, name);
    offset += local.length + name.length + data.length;
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cdBuf, end]);
}

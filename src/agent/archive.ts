// Unpacking an artifact into a fresh directory, in pure Node (no tar or unzip on
// the node or in the agent's image is assumed): tar.gz through zlib's gunzip
// and a tar reader (ustar, GNU long names, pax path/linkpath), zip through its
// central directory and zlib's raw inflate.
//
// Nothing may land outside the directory: an entry with an absolute path or a
// '..' component, a symbolic link whose target leaves the directory (judged
// from the link's own place), an entry below a link, a hard link, a device or
// a FIFO fails the whole artifact. Entries are created with O_EXCL, so none is
// written through something already there. Modes keep the owner/group/other
// read and execute bits and the owner's write bit (no setuid, setgid, sticky,
// group or other write). The unpacked size is bounded, against gzip bombs.
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { createGunzip, inflateRawSync } from 'node:zlib';

export class UnsafeArchiveError extends Error {}

/** Creates entries under root, refusing anything that would escape it. */
class SafeTree {
  private readonly links = new Set<string>();
  private readonly seen = new Set<string>();
  private total = 0;

  constructor(
    private readonly root: string,
    private readonly maxBytes: number,
  ) {}

  /** The entry's normalized relative path; throws on an unsafe name. */
  private check(name: string): string {
    if (name.includes('\0')) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)}: NUL in the name`);
    if (name.startsWith('/')) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)}: absolute path`);
    const parts = name.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)}: '..' component`);
    const rel = parts.join('/');
    for (let i = 1; i < parts.length; i++) {
      if (this.links.has(parts.slice(0, i).join('/')))
        throw new UnsafeArchiveError(`entry ${JSON.stringify(name)}: below the symbolic link ${parts.slice(0, i).join('/')}`);
    }
    return rel;
  }

  private async parentOf(rel: string): Promise<string> {
    const full = path.join(this.root, rel);
    await fs.mkdir(path.dirname(full), { recursive: true, mode: 0o755 });
    return full;
  }

  private claim(rel: string, name: string): void {
    if (this.seen.has(rel)) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)}: appears twice`);
    this.seen.add(rel);
  }

  private count(n: number): void {
    this.total += n;
    if (this.total > this.maxBytes) throw new UnsafeArchiveError(`unpacks to more than ${this.maxBytes} bytes`);
  }

  async dir(name: string): Promise<void> {
    const rel = this.check(name);
    if (rel === '') return;
    await fs.mkdir(path.join(this.root, rel), { recursive: true, mode: 0o755 });
  }

  /** Opens a new file for the entry; the caller writes it and closes it. */
  async file(name: string, mode: number): Promise<fs.FileHandle> {
    const rel = this.check(name);
    if (rel === '') throw new UnsafeArchiveError(`entry ${JSON.stringify(name)}: a file without a name`);
    this.claim(rel, name);
    const full = await this.parentOf(rel);
    return fs.open(full, 'wx', safeMode(mode));
  }

  async write(fh: fs.FileHandle, data: Buffer): Promise<void> {
    this.count(data.length);
    await fh.write(data);
  }

  async symlink(name: string, target: string): Promise<void> {
    const rel = this.check(name);
    if (rel === '') throw new UnsafeArchiveError(`entry ${JSON.stringify(name)}: a link without a name`);
    if (target === '' || target.startsWith('/') || target.includes('\0'))
      throw new UnsafeArchiveError(`link ${rel} -> ${target}: points outside the artifact`);
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
    if (resolved === '..' || resolved.startsWith('../'))
      throw new UnsafeArchiveError(`link ${rel} -> ${target}: points outside the artifact`);
    this.claim(rel, name);
    this.links.add(rel);
    await fs.symlink(target, await this.parentOf(rel));
  }
}

function safeMode(mode: number): number {
  return (mode & 0o755) | 0o600;
}

// ---- tar.gz ----

const BLOCK = 512;

function field(h: Buffer, off: number, len: number): string {
  const s = h.subarray(off, off + len);
  const nul = s.indexOf(0);
  return (nul < 0 ? s : s.subarray(0, nul)).toString('utf8');
}

function octal(h: Buffer, off: number, len: number): number {
  if (h[off]! & 0x80) {
    // GNU base-256 for large sizes.
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + h[i]!;
    return n;
  }
  const s = field(h, off, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === octal(h, 148, 8);
}

/** pax extended header records: "<len> key=value\n". */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.subarray(i, sp).toString(), 10);
    if (!(len > 0)) break;
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/** Reads exactly n bytes at a time from an async byte stream. */
class Reader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  async take(n: number): Promise<Buffer | undefined> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    }
    if (this.buf.length < n) return undefined;
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

const META_LIMIT = 1 << 20;

export async function unpackTarGz(archive: string, dest: string, maxBytes: number): Promise<void> {
  const tree = new SafeTree(dest, maxBytes);
  const stream = createReadStream(archive).pipe(createGunzip());
  const r = new Reader(stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  try {
    for (;;) {
      const h = await r.take(BLOCK);
      if (!h) throw new UnsafeArchiveError('tar archive ends without its end-of-archive blocks');
      if (h.every((b) => b === 0)) return; // end of archive
      if (!checksumOk(h)) throw new UnsafeArchiveError('not a tar archive (header checksum mismatch)');
      const type = String.fromCharCode(h[156]!);
      const size = octal(h, 124, 12);
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      const prefix = h.subarray(257, 263).toString() === 'ustar\0' ? field(h, 345, 155) : '';
      const name = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
      const link = pax.get('linkpath') ?? longLink ?? field(h, 157, 100);
      if (type === 'L' || type === 'K' || type === 'x' || type === 'g') {
        if (size > META_LIMIT) throw new UnsafeArchiveError(`tar metadata entry of ${size} bytes`);
        const data = await r.take(padded);
        if (!data) throw new UnsafeArchiveError('tar archive truncated');
        const body = data.subarray(0, size);
        if (type === 'L') longName = field(body, 0, body.length);
        else if (type === 'K') longLink = field(body, 0, body.length);
        else if (type === 'x') pax = paxRecords(body);
        continue; // 'g': global pax headers carry nothing we use
      }
      longName = longLink = undefined;
      pax = new Map();
      if (type === '0' || type === '\0' || type === '7') {
        const fh = await tree.file(name, octal(h, 100, 8));
        try {
          let left = size;
          while (left > 0) {
            const chunk = await r.take(Math.min(left, 1 << 16));
            if (!chunk) throw new UnsafeArchiveError('tar archive truncated');
            await tree.write(fh, chunk);
            left -= chunk.length;
          }
        } finally {
          await fh.close();
        }
        if (padded > size && !(await r.take(padded - size))) throw new UnsafeArchiveError('tar archive truncated');
      } else if (type === '5') {
        await tree.dir(name);
      } else if (type === '2') {
        await tree.symlink(name, link);
      } else {
        const what: Record<string, string> = { '1': 'a hard link', '3': 'a character device', '4': 'a block device', '6': 'a FIFO' };
        throw new UnsafeArchiveError(`entry ${JSON.stringify(name)}: ${what[type] ?? `tar entry type '${type}'`} is not allowed`);
      }
    }
  } finally {
    stream.destroy();
  }
}

// ---- zip ----

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

export async function unpackZip(archive: string, dest: string, maxBytes: number): Promise<void> {
  const tree = new SafeTree(dest, maxBytes);
  const fh = await fs.open(archive, 'r');
  try {
    const { size } = await fh.stat();
    const read = async (pos: number, len: number): Promise<Buffer> => {
      const b = Buffer.alloc(len);
      const { bytesRead } = await fh.read(b, 0, len, pos);
      if (bytesRead !== len) throw new UnsafeArchiveError('zip archive truncated');
      return b;
    };
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = await read(size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new UnsafeArchiveError('not a zip archive (no end of central directory)');
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdOffset === 0xffffffff) throw new UnsafeArchiveError('zip64 archives are not supported');
    const cd = await read(cdOffset, cdSize);
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new UnsafeArchiveError('zip central directory is corrupt');
      const madeBy = cd.readUInt16LE(p + 4) >> 8;
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const compSize = cd.readUInt32LE(p + 20);
      const rawSize = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const unixMode = madeBy === 3 ? cd.readUInt32LE(p + 38) >>> 16 : 0;
      const local = cd.readUInt32LE(p + 42);
      const name = cd.subarray(p + 46, p + 46 + nameLen).toString('utf8');
      p += 46 + nameLen + extraLen + commentLen;
      if (flags & 1) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)}: encrypted`);
      if (name.endsWith('/') || (unixMode & S_IFMT) === S_IFDIR) {
        await tree.dir(name);
        continue;
      }
      const lh = await read(local, 30);
      if (lh.readUInt32LE(0) !== 0x04034b50) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)}: bad local header`);
      const raw = await read(local + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28), compSize);
      let data: Buffer;
      if (method === 0) data = raw;
      else if (method === 8) {
        if (rawSize > maxBytes) throw new UnsafeArchiveError(`unpacks to more than ${maxBytes} bytes`);
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, rawSize) });
      } else throw new UnsafeArchiveError(`entry ${JSON.stringify(name)}: compression method ${method} is not supported`);
      if (data.length !== rawSize) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)}: size mismatch`);
      if ((unixMode & S_IFMT) === S_IFLNK) {
        await tree.symlink(name, data.toString('utf8'));
        continue;
      }
      const out = await tree.file(name, unixMode & 0o777 || 0o644);
      try {
        await tree.write(out, data);
      } finally {
        await out.close();
      }
    }
  } finally {
    await fh.close();
  }
}

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

  /** take(), or an error when the archive ends first. */
  async must(n: number, truncated = 'tar archive truncated'): Promise<Buffer> {
    const b = await this.take(n);
    if (!b) throw new UnsafeArchiveError(truncated);
    return b;
  }
}

const META_LIMIT = 1 << 20;

interface TarHeader {
  type: string;
  size: number;
  /** The size rounded up to whole blocks: what follows the header. */
  padded: number;
  mode: number;
  name: string;
  link: string;
}

function parseHeader(h: Buffer): TarHeader {
  if (!checksumOk(h)) throw new UnsafeArchiveError('not a tar archive (header checksum mismatch)');
  const size = octal(h, 124, 12);
  const prefix = h.subarray(257, 263).toString() === 'ustar\0' ? field(h, 345, 155) : '';
  return {
    type: String.fromCharCode(h[156]!),
    size,
    padded: Math.ceil(size / BLOCK) * BLOCK,
    mode: octal(h, 100, 8),
    name: prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100),
    link: field(h, 157, 100),
  };
}

/** What GNU long-name entries and pax headers say about the next entry. */
interface Overrides {
  name?: string;
  link?: string;
}

const META_TYPES = new Set(['L', 'K', 'x', 'g']);
const FILE_TYPES = new Set(['0', '\0', '7']);
const REFUSED: Record<string, string> = { '1': 'a hard link', '3': 'a character device', '4': 'a block device', '6': 'a FIFO' };

/** Reads a metadata entry's body into the overrides of the next entry. */
async function readMeta(r: Reader, hdr: TarHeader, next: Overrides): Promise<void> {
  if (hdr.size > META_LIMIT) throw new UnsafeArchiveError(`tar metadata entry of ${hdr.size} bytes`);
  const body = (await r.must(hdr.padded)).subarray(0, hdr.size);
  if (hdr.type === 'L') next.name = field(body, 0, body.length);
  else if (hdr.type === 'K') next.link = field(body, 0, body.length);
  else if (hdr.type === 'x') {
    const pax = paxRecords(body);
    next.name = pax.get('path') ?? next.name;
    next.link = pax.get('linkpath') ?? next.link;
  } // 'g': global pax headers carry nothing we use
}

async function extractEntry(tree: SafeTree, r: Reader, hdr: TarHeader): Promise<void> {
  if (FILE_TYPES.has(hdr.type)) {
    const fh = await tree.file(hdr.name, hdr.mode);
    try {
      for (let left = hdr.size; left > 0;) {
        const chunk = await r.must(Math.min(left, 1 << 16));
        await tree.write(fh, chunk);
        left -= chunk.length;
      }
    } finally {
      await fh.close();
    }
    await r.must(hdr.padded - hdr.size);
  } else if (hdr.type === '5') await tree.dir(hdr.name);
  else if (hdr.type === '2') await tree.symlink(hdr.name, hdr.link);
  else
    throw new UnsafeArchiveError(
      `entry ${JSON.stringify(hdr.name)}: ${REFUSED[hdr.type] ?? `tar entry type '${hdr.type}'`} is not allowed`,
    );
}

export async function unpackTarGz(archive: string, dest: string, maxBytes: number): Promise<void> {
  const tree = new SafeTree(dest, maxBytes);
  const stream = createReadStream(archive).pipe(createGunzip());
  const r = new Reader(stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  let next: Overrides = {};
  try {
    for (;;) {
      const h = await r.must(BLOCK, 'tar archive ends without its end-of-archive blocks');
      if (h.every((b) => b === 0)) return; // end of archive
      const hdr = parseHeader(h);
      if (META_TYPES.has(hdr.type)) {
        await readMeta(r, hdr, next);
        continue;
      }
      await extractEntry(tree, r, { ...hdr, name: next.name ?? hdr.name, link: next.link ?? hdr.link });
      next = {};
    }
  } finally {
    stream.destroy();
  }
}

// ---- zip ----

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  compSize: number;
  rawSize: number;
  /** Unix st_mode from the external attributes (0 when not made on Unix). */
  unixMode: number;
  localOffset: number;
  /** Where the next central directory record starts. */
  next: number;
}

function centralEntry(cd: Buffer, p: number): ZipEntry {
  if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw new UnsafeArchiveError('zip central directory is corrupt');
  const nameLen = cd.readUInt16LE(p + 28);
  return {
    name: cd.subarray(p + 46, p + 46 + nameLen).toString('utf8'),
    flags: cd.readUInt16LE(p + 8),
    method: cd.readUInt16LE(p + 10),
    compSize: cd.readUInt32LE(p + 20),
    rawSize: cd.readUInt32LE(p + 24),
    unixMode: cd.readUInt16LE(p + 4) >> 8 === 3 ? cd.readUInt32LE(p + 38) >>> 16 : 0,
    localOffset: cd.readUInt32LE(p + 42),
    next: p + 46 + nameLen + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32),
  };
}

/** The end-of-central-directory record: the entry count and where the central directory is. */
function endRecord(tail: Buffer): { count: number; cdSize: number; cdOffset: number } {
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== 0x06054b50) continue;
    const end = { count: tail.readUInt16LE(i + 10), cdSize: tail.readUInt32LE(i + 12), cdOffset: tail.readUInt32LE(i + 16) };
    if (end.count === 0xffff || end.cdOffset === 0xffffffff) throw new UnsafeArchiveError('zip64 archives are not supported');
    return end;
  }
  throw new UnsafeArchiveError('not a zip archive (no end of central directory)');
}

type ReadAt = (pos: number, len: number) => Promise<Buffer>;

/** An entry's content, inflated and checked against its recorded size. */
async function entryData(read: ReadAt, e: ZipEntry, maxBytes: number): Promise<Buffer> {
  const what = `entry ${JSON.stringify(e.name)}`;
  if (e.flags & 1) throw new UnsafeArchiveError(`${what}: encrypted`);
  if (e.method !== 0 && e.method !== 8) throw new UnsafeArchiveError(`${what}: compression method ${e.method} is not supported`);
  if (e.rawSize > maxBytes) throw new UnsafeArchiveError(`unpacks to more than ${maxBytes} bytes`);
  const lh = await read(e.localOffset, 30);
  if (lh.readUInt32LE(0) !== 0x04034b50) throw new UnsafeArchiveError(`${what}: bad local header`);
  const raw = await read(e.localOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28), e.compSize);
  const data = e.method === 0 ? raw : inflateRawSync(raw, { maxOutputLength: Math.max(1, e.rawSize) });
  if (data.length !== e.rawSize) throw new UnsafeArchiveError(`${what}: size mismatch`);
  return data;
}

export async function unpackZip(archive: string, dest: string, maxBytes: number): Promise<void> {
  const tree = new SafeTree(dest, maxBytes);
  const fh = await fs.open(archive, 'r');
  try {
    const read: ReadAt = async (pos, len) => {
      const b = Buffer.alloc(len);
      const { bytesRead } = await fh.read(b, 0, len, pos);
      if (bytesRead !== len) throw new UnsafeArchiveError('zip archive truncated');
      return b;
    };
    const { size } = await fh.stat();
    const tailLen = Math.min(size, 22 + 0xffff);
    const { count, cdSize, cdOffset } = endRecord(await read(size - tailLen, tailLen));
    const cd = await read(cdOffset, cdSize);
    for (let n = 0, p = 0; n < count; n++) {
      const e = centralEntry(cd, p);
      p = e.next;
      const type = e.unixMode & S_IFMT;
      if (e.name.endsWith('/') || type === S_IFDIR) {
        await tree.dir(e.name);
        continue;
      }
      const data = await entryData(read, e, maxBytes);
      if (type === S_IFLNK) {
        await tree.symlink(e.name, data.toString('utf8'));
        continue;
      }
      const out = await tree.file(e.name, e.unixMode & 0o777 || 0o644);
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

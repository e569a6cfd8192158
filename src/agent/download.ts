// One artifact download: an http(s) GET streamed to a file while its sha256 is
// computed, within a size and a time limit. A body cut short (the server closed
// the connection before Content-Length, or before a chunked body's end) is an
// error, never a short file taken as the artifact.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface DownloadLimits {
  maxBytes: number;
  timeoutMs: number;
}

export interface Downloaded {
  sha256: string;
  bytes: number;
}

const MAX_REDIRECTS = 5;

/** Downloads url into dest (created or truncated). Throws an Error whose message says what went wrong. */
export async function download(url: string, dest: string, limits: DownloadLimits): Promise<Downloaded> {
  const deadline = Date.now() + limits.timeoutMs;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await get(current, deadline, limits.timeoutMs);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      current = new URL(res.headers.location, current).toString();
      if (!/^https?:$/.test(new URL(current).protocol)) throw new Error(`redirected to ${current}, which is not http(s)`);
      continue;
    }
    if (status !== 200) {
      res.resume();
      throw new Error(`HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`);
    }
    return await receive(res, dest, limits, deadline);
  }
  throw new Error(`more than ${MAX_REDIRECTS} redirects`);
}

function get(url: string, deadline: number, timeoutMs: number): Promise<http.IncomingMessage> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
  if (!mod) return Promise.reject(new Error(`${u.protocol} is not http(s)`));
  return new Promise((resolve, reject) => {
    const req = mod.get(u, { headers: { 'user-agent': 'systemd-workload-agent' } }, resolve);
    req.on('error', reject);
    // The whole download shares one deadline: the timer destroys the request and its response.
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs / 1000}s`)), Math.max(0, deadline - Date.now()));
    req.on('close', () => clearTimeout(timer));
  });
}

async function receive(res: http.IncomingMessage, dest: string, limits: DownloadLimits, deadline: number): Promise<Downloaded> {
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (declared > limits.maxBytes) {
    res.destroy();
    throw new Error(`Content-Length ${declared} exceeds maxSize (${limits.maxBytes} bytes)`);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > limits.maxBytes) return done(new Error(`larger than maxSize (${limits.maxBytes} bytes)`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(res, count, createWriteStream(dest, { mode: 0o600 }));
  } catch (err) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${limits.timeoutMs / 1000}s (${bytes} bytes received)`);
    if (!res.complete && !(err instanceof Error && err.message.startsWith('larger than'))) {
      throw new Error(`interrupted: the connection closed after ${bytes} of ${Number.isNaN(declared) ? 'unknown' : declared} bytes`);
    }
    throw err;
  }
  // Node ends a response without error when the socket closes mid-body of some framings: check both ways.
  if (!res.complete || (!Number.isNaN(declared) && bytes !== declared)) {
    throw new Error(`interrupted: the connection closed after ${bytes} of ${Number.isNaN(declared) ? 'unknown' : declared} bytes`);
  }
  return { sha256: hash.digest('hex'), bytes };
}

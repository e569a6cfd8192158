// A self-signed serving certificate made at startup, for /metrics over HTTPS
// when no certificate is mounted (--metrics-cert-dir), as controller-runtime's
// metrics server does. Node's crypto signs but cannot build an X.509
// certificate, so the few DER structures of one (RFC 5280) are written here:
// an ECDSA P-256 key, ecdsa-with-SHA256, subjectAltName, serverAuth. Scrapers
// either skip verification (the ServiceMonitor's default, as kubebuilder's) or
// are given a real certificate through --metrics-cert-dir.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

export interface ServingCert {
  /** PEM. */
  cert: string;
  /** PEM (PKCS#8). */
  key: string;
}

// DER: tag, definite length, contents.
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  if (n > 0xffff) throw new Error('DER value too long');
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...c: Buffer[]) => der(0x30, ...c);
const set = (...c: Buffer[]) => der(0x31, ...c);
const ctx = (n: number, ...c: Buffer[]) => der(0xa0 + n, ...c);

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const v of rest) {
    const chunk = [v & 0x7f];
    for (let x = v >> 7; x > 0; x >>= 7) chunk.unshift((x & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

/** A positive INTEGER from unsigned big-endian bytes (a leading 0 when the top bit is set). */
function uint(bytes: Buffer): Buffer {
  return der(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

/** UTCTime (years 1950-2049), which RFC 5280 requires for dates before 2050. */
function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return der(0x17, Buffer.from(s, 'ascii'));
}

const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), der(0x0c, Buffer.from(cn, 'utf8')))));

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" and write 8 groups of 16 bits.
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => Buffer.from([parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff])));
}

/** DNS names and IP addresses as a subjectAltName extension. */
function subjectAltName(hosts: readonly string[]): Buffer {
  const names = hosts.map((h) => (isIP(h) ? der(0x87, ipBytes(h)) : der(0x82, Buffer.from(h, 'ascii'))));
  return seq(oid('2.5.29.17'), der(0x04, seq(...names)));
}

/**
 * A certificate for `hosts` (DNS names or IP addresses; the first is the
 * common name), valid from an hour ago for `days` days.
 */
export function selfSignedCert(hosts: readonly string[], days = 365, now = new Date()): ServingCert {
  if (hosts.length === 0) throw new Error('selfSignedCert needs at least one host');
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const serial = randomBytes(16);
  // Positive and minimal in DER: top bit clear, first byte never 0. With `& 0x7f` alone, one
  // certificate in 256 began 0x00 then a byte below 0x80, which OpenSSL refuses (illegal padding).
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const notBefore = new Date(now.getTime() - 3600_000);
  const notAfter = new Date(now.getTime() + days * 86400_000);
  const extensions = ctx(
    3,
    seq(
      subjectAltName(hosts),
      // extendedKeyUsage: serverAuth.
      seq(oid('2.5.29.37'), der(0x04, seq(oid('1.3.6.1.5.5.7.3.1')))),
      // basicConstraints (critical): not a CA.
      seq(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), der(0x04, seq())),
    ),
  );
  const tbs = seq(
    ctx(0, der(0x02, Buffer.from([2]))), // v3
    uint(serial),
    ecdsaSha256,
    name(hosts[0]!),
    seq(utcTime(notBefore), utcTime(notAfter)),
    name(hosts[0]!),
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const cert = seq(tbs, ecdsaSha256, der(0x03, Buffer.from([0]), signature));
  const pem = (label: string, body: Buffer) =>
    `-----BEGIN ${label}-----\n${body
      .toString('base64')
      .match(/.{1,64}/g)!
      .join('\n')}\n-----END ${label}-----\n`;
  return { cert: pem('CERTIFICATE', cert), key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

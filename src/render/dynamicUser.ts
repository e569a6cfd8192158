// The name systemd gives a unit's dynamic user (DynamicUser=yes without User=),
// so that an exec probe, a transient unit of its own, can run as the same user:
// a transient unit with DynamicUser=yes and User=<that name> shares the unit's
// dynamic user (systemd allocates one UID per name). systemd 252, src/core/unit.c
// user_from_unit_name(): the unit name's prefix if it is a valid user name in the
// strict sense (a letter or '_', then letters, digits, '_', '-'; at most 31
// characters), else "_du" and the 16 hex digits of SipHash-2-4 of the prefix
// under systemd's fixed key.

const HASH_KEY = Uint8Array.from([0x58, 0x1a, 0xaf, 0xe6, 0x28, 0x58, 0x4e, 0x96, 0xb4, 0x4e, 0xf5, 0x3b, 0x8c, 0x92, 0x07, 0xec]);
const MASK = (1n << 64n) - 1n;

const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & MASK;

function u64le(bytes: Uint8Array, at: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i] ?? 0);
  return v;
}

/** SipHash-2-4 (Aumasson and Bernstein) with a 16-byte key, as systemd's siphash24(). */
export function siphash24(data: Uint8Array, key: Uint8Array): bigint {
  const k0 = u64le(key, 0);
  const k1 = u64le(key, 8);
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = (): void => {
    v0 = (v0 + v1) & MASK;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & MASK;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & MASK;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const whole = data.length - (data.length % 8);
  for (let i = 0; i < whole; i += 8) {
    const m = u64le(data, i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  let last = BigInt(data.length & 0xff) << 56n;
  for (let i = whole; i < data.length; i++) last |= BigInt(data[i]!) << BigInt(8 * (i - whole));
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  return (v0 ^ v1 ^ v2 ^ v3) & MASK;
}

/** The dynamic user of a unit file such as sdw-default_web_server.service. */
export function dynamicUserName(unitFile: string): string {
  const prefix = unitFile.replace(/\.[^.@]*$/, '').replace(/@.*$/, '');
  if (/^[A-Za-z_][A-Za-z0-9_-]{0,30}$/.test(prefix)) return prefix;
  return `_du${siphash24(new TextEncoder().encode(prefix), HASH_KEY).toString(16).padStart(16, '0')}`;
}

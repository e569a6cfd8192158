// Sealing: how a Secret's value travels from the controller to one node's agent
// through objects every agent may read. The agent holds an X25519 key pair (the
// private key never leaves its node); the controller seals each value for the
// node's public key: an ephemeral X25519 key, ECDH, HKDF-SHA256, AES-256-GCM.
// Only that node's agent can open it. The associated data binds a sealed value to
// where it is delivered (namespace and path), so it cannot be replayed elsewhere.
// Pure: node:crypto only.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

const VERSION = 1;
const INFO = Buffer.from('systemd-workload-operator seal v1');
const KEY_LEN = 32;
const NONCE_LEN = 12;
const TAG_LEN = 16;

/** The raw 32-byte public key of an X25519 key, base64. */
export function publicKeyBase64(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url').toString('base64');
}

function publicKeyFrom(base64: string): KeyObject {
  const raw = Buffer.from(base64, 'base64');
  if (raw.length !== KEY_LEN) throw new Error('sealing key: not a 32-byte X25519 public key');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** A short, stable name of a public key: the first 16 bytes of its sha256, hex. */
export function keyFingerprint(publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('hex').slice(0, 32);
}

/** A new node key pair; the private key as PKCS#8 PEM, to keep on the node (mode 0600). */
export function generateNodeKey(): { privatePem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, publicKey: publicKeyBase64(publicKey) };
}

export function nodeKeyFromPem(pem: string): { privateKey: KeyObject; publicKey: string } {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'x25519') throw new Error('node key: not an X25519 private key');
  return { privateKey, publicKey: publicKeyBase64(createPublicKey(privateKey)) };
}

function derive(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), INFO, KEY_LEN));
}

/** Seals plaintext for the holder of publicKey; aad names where it may be delivered. */
export function seal(publicKey: string, plaintext: Buffer, aad: string): string {
  const recipient = publicKeyFrom(publicKey);
  const eph = generateKeyPairSync('x25519');
  const ephRaw = Buffer.from(publicKeyBase64(eph.publicKey), 'base64');
  const key = derive(diffieHellman({ privateKey: eph.privateKey, publicKey: recipient }), ephRaw, Buffer.from(publicKey, 'base64'));
  const nonce = randomBytes(NONCE_LEN);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), ephRaw, nonce, cipher.getAuthTag(), ct]).toString('base64');
}

/** Opens a sealed value with the node's private key; throws when it was not sealed for it or for this aad. */
export function open(privateKey: KeyObject, publicKey: string, sealed: string, aad: string): Buffer {
  const buf = Buffer.from(sealed, 'base64');
  if (buf.length < 1 + KEY_LEN + NONCE_LEN + TAG_LEN || buf[0] !== VERSION) throw new Error('sealed value: unknown format');
  const ephRaw = buf.subarray(1, 1 + KEY_LEN);
  const nonce = buf.subarray(1 + KEY_LEN, 1 + KEY_LEN + NONCE_LEN);
  const tag = buf.subarray(1 + KEY_LEN + NONCE_LEN, 1 + KEY_LEN + NONCE_LEN + TAG_LEN);
  const ct = buf.subarray(1 + KEY_LEN + NONCE_LEN + TAG_LEN);
  const eph = publicKeyFrom(ephRaw.toString('base64'));
  const key = derive(diffieHellman({ privateKey, publicKey: eph }), ephRaw, Buffer.from(publicKey, 'base64'));
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ct), decipher.final()]);
}

/** What a sealed file's associated data is: the namespace and the path it is written to. */
export function sealAad(namespace: string, path: string): string {
  return `${namespace}:${path}`;
}

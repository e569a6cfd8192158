// How GitOps tools read an object's health, asked of the tools' own code:
// kstatus (sigs.k8s.io/cli-utils, what Flux, kpt and helm --wait use), built by
// hack/kstatus/build.sh (make kstatus), and the Argo CD health check
// config/argocd/health.lua run by a real Lua interpreter (lua5.4, from
// hack/install-deps.sh) with the object as Argo CD hands it over: `obj`.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot, repoRoot } from './binaries.js';

export const ARGOCD_HEALTH_LUA = path.join(repoRoot, 'config', 'argocd', 'health.lua');
const KSTATUS_DIR = path.join(repoRoot, 'hack', 'kstatus');

export interface Verdict {
  status: string;
  message: string;
}

/** The binary hack/kstatus/build.sh caches: keyed by the cli-utils version and the source's hash, as the script keys it. */
export function kstatusBinary(): string {
  const mod = readFileSync(path.join(KSTATUS_DIR, 'go.mod'), 'utf8');
  const version = /^\s*sigs\.k8s\.io\/cli-utils (v[0-9.]+)$/m.exec(mod)?.[1];
  if (!version) throw new Error('hack/kstatus/go.mod requires no sigs.k8s.io/cli-utils version');
  const source = ['main.go', 'go.mod', 'go.sum'].map((f) => readFileSync(path.join(KSTATUS_DIR, f)));
  const sum = createHash('sha256').update(Buffer.concat(source)).digest('hex').slice(0, 12);
  const bin = path.join(cacheRoot(), `kstatus-${version}`, 'bin', `kstatus-${sum}`);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run 'make kstatus' (hack/kstatus/build.sh) first`);
  return bin;
}

function run(file: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
    child.stdin!.end(input);
  });
}

/** kstatus's verdict on one object (as `kubectl get -o json` prints it). */
export async function kstatusOf(objectJson: string): Promise<Verdict> {
  return JSON.parse(await run(kstatusBinary(), [], objectJson)) as Verdict;
}

/** A JSON value as a Lua table constructor; strings byte-escaped, so no input can end the literal. */
export function luaLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return `"${[...Buffer.from(v, 'utf8')].map((b) => `\\${b}`).join('')}"`;
  if (Array.isArray(v)) return `{${v.map(luaLiteral).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `[${luaLiteral(k)}] = ${luaLiteral(x)}`)
    .join(', ')}}`;
}

/** What Argo CD would show for the object: config/argocd/health.lua's hs.status and hs.message. */
export async function argocdHealthOf(objectJson: string): Promise<Verdict> {
  const lua = ['/usr/bin/lua5.4', '/usr/local/bin/lua5.4'].find((p) => existsSync(p));
  if (!lua) throw new Error('lua5.4 is missing: run hack/install-deps.sh (Debian package lua5.4)');
  const script = [
    `obj = ${luaLiteral(JSON.parse(objectJson))}`,
    `local hs = dofile(${luaLiteral(ARGOCD_HEALTH_LUA)})`,
    'io.write(hs.status, "\\n", hs.message)',
  ].join('\n');
  const out = await run(lua, ['-'], script);
  const [status = '', ...message] = out.split('\n');
  return { status, message: message.join('\n') };
}

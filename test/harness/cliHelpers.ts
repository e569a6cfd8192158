// Helpers for the kubectl-sdw tests: run the plugin as users do (a subprocess
// of the compiled dist/).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './binaries.js';

export const CLI = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cliEnv(kubeconfig: string | undefined, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete base.NODE_OPTIONS; // not the jest process's --experimental-vm-modules
  if (kubeconfig) base.KUBECONFIG = kubeconfig;
  return base;
}

/** An execFile callback that resolves with the exit code and output (a non-zero exit is a result, not an error). */
function settle(resolve: (r: CliResult) => void): (err: Error | null, stdout: string, stderr: string) => void {
  return (err, stdout, stderr) => {
    const exit = (err as { code?: unknown } | null)?.code;
    const code = err ? (typeof exit === 'number' ? exit : 1) : 0;
    resolve({ code, stdout, stderr });
  };
}

/** node dist/src/cli/main.js ARGS, with KUBECONFIG; never throws on a non-zero exit. */
export function runCli(
  args: string[],
  opts: { kubeconfig?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: cliEnv(opts.kubeconfig, opts.env ?? {}),
        cwd: opts.cwd ?? repoRoot,
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      settle(resolve),
    );
  });
}

/** The plugin as a long-running process (logs -f): collects stdout. */
export function spawnCli(
  args: string[],
  opts: { kubeconfig?: string } = {},
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: cliEnv(opts.kubeconfig, {}),
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

/**
 * `kubectl sdw ARGS` as a user runs it: kubectl finds the plugin as `kubectl-sdw`
 * on PATH (a wrapper over dist/ written into binDir). Never throws on a non-zero exit.
 */
export async function kubectlSdw(
  kubectl: string,
  binDir: string,
  args: string[],
  opts: { kubeconfig: string; timeoutMs?: number },
): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run 'npm run build' first`);
  const plugin = path.join(binDir, 'kubectl-sdw');
  if (!existsSync(plugin)) {
    mkdirSync(binDir, { recursive: true });
    writeFileSync(plugin, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
  }
  const env = cliEnv(opts.kubeconfig, {});
  env.PATH = `${binDir}:${env.PATH ?? ''}`;
  return new Promise((resolve) => {
    execFile(kubectl, ['sdw', ...args], { env, timeout: opts.timeoutMs ?? 240_000, maxBuffer: 16 * 1024 * 1024 }, settle(resolve));
  });
}

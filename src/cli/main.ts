#!/usr/bin/env node
// kubectl-sdw: the kubectl plugin of systemd-workload-operator (`kubectl sdw ...`).
// Process wiring only; the commands are in commands.ts.
import path from 'node:path';
import { COMPLETE_COMMAND, run } from './commands.js';

const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
process.once('SIGTERM', () => abort.abort());
// A closed pipe (kubectl sdw logs | head) is a normal end, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// kubectl 1.26+ completes `kubectl sdw ...` by running kubectl_complete-sdw with
// the words after "sdw": installed as a link to this file, it answers as __complete.
const invokedAs = path.basename(process.argv[1] ?? '');
const args = invokedAs.startsWith('kubectl_complete-') ? [COMPLETE_COMMAND, ...process.argv.slice(2)] : process.argv.slice(2);

const code = await run(args, {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  env: process.env,
  isTTY: process.stdout.isTTY,
  readStdin,
  signal: abort.signal,
});
process.exitCode = code;

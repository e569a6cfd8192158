// Benchmark (issue 18 #7): how long `make test` takes warm, what the README's test command costs
// a developer. Runs `make test` from the repository as a developer does (JEST_WORKERS as set,
// else the Makefile's 2), after building every cache it needs (not counted), and records its
// wall time, each recipe command's time (make echoes it before running it) and every test
// file's time (each jest run writes jest --json to dist/make-test/<target>.json: the Makefile's
// JEST_JSON_DIR). Results: bench/results/make-test.{json,md}; summary.json's makeTestWallSeconds.
//
// Usage: node dist/bench/make-test.js   (make bench-make-test)
//   MAKE_TEST_HEAVY=1      also `make test-heavy` afterwards, with its files' times
//   MAKE_TEST_TARGET=x     time `make x` instead (e.g. test-unit, to try this script in seconds);
//   MAKE_TEST_RESULT=name  the result files' name (default make-test; summary.ts reads only that,
//                          and only a run of `make test`)
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { repoRoot } from '../test/harness/binaries.js';
import { machine, mdMachine, writeResults } from './common.js';
import {
  jestRun,
  makeRun,
  makeTestSummary,
  renderMakeTestMd,
  type JestJson,
  type JestRun,
  type Line,
  type MakeRun,
} from './make-test-report.js';

const TARGET = process.env.MAKE_TEST_TARGET ?? 'test';
const HEAVY = process.env.MAKE_TEST_HEAVY === '1';
const RESULT = process.env.MAKE_TEST_RESULT ?? 'make-test';
const WORK = path.join(repoRoot, 'dist', 'make-test');

/** Runs make with these arguments from the repository; its output goes on to ours and to a log. */
async function make(args: string[], env: NodeJS.ProcessEnv, log: string): Promise<{ code: number; lines: Line[]; endMs: number }> {
  const out = createWriteStream(log);
  const t0 = Date.now();
  const child = spawn('make', args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  const follow = (stream: NodeJS.ReadableStream, to: NodeJS.WriteStream, timed: boolean): Promise<void> =>
    new Promise((resolve) => {
      const rl = readline.createInterface({ input: stream });
      rl.on('line', (line) => {
        if (timed) lines.push({ atMs: Date.now() - t0, line });
        to.write(line + '\n');
        out.write(line + '\n');
      });
      rl.on('close', resolve);
    });
  // make echoes each recipe command on its stdout: those lines are timed.
  const followed = Promise.all([follow(child.stdout, process.stdout, true), follow(child.stderr, process.stderr, false)]);
  const code = await new Promise<number>((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1))));
  const endMs = Date.now() - t0;
  await followed;
  await new Promise((r) => out.end(r));
  return { code, lines, endMs };
}

async function timed(target: string): Promise<MakeRun> {
  const dir = path.join(WORK, target);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  const log = path.join(WORK, `${target}.log`);
  console.log(`== make ${target} (log: ${path.relative(repoRoot, log)}, jest JSON: ${path.relative(repoRoot, dir)}/)`);
  const r = await make([target], { ...process.env, JEST_JSON_DIR: dir }, log);
  const jest: Record<string, JestRun> = {};
  for (const f of (await fs.readdir(dir)).filter((f) => f.endsWith('.json')).sort()) {
    jest[f.replace(/\.json$/, '')] = jestRun(JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as JestJson, repoRoot);
  }
  if (Object.keys(jest).length === 0) throw new Error(`make ${target} wrote no jest JSON to ${dir} (exit code ${r.code}; log ${log})`);
  const run = makeRun(target, r.code, r.lines, r.endMs, jest);
  console.log(`== make ${target}: ${run.wallSeconds} s, exit code ${run.exitCode}`);
  return run;
}

async function main(): Promise<void> {
  if (!existsSync(path.join(repoRoot, 'Makefile'))) throw new Error(`${repoRoot}: no Makefile`);
  const m = machine();
  // Warm: every cache make test (and test-heavy) builds, built first and not counted.
  const warmup = ['deps', 'k8s-binaries', 'helm', 'kstatus', 'cron-oracle', ...(HEAVY ? ['image', 'vm-image'] : [])];
  await fs.mkdir(WORK, { recursive: true });
  const w = await make(['-s', ...warmup], process.env, path.join(WORK, 'warmup.log'));
  if (w.code !== 0) throw new Error(`make ${warmup.join(' ')} failed (${w.code}): ${path.join(WORK, 'warmup.log')}`);
  const runs = [await timed(TARGET)];
  if (HEAVY) runs.push(await timed('test-heavy'));
  const workers = process.env.JEST_WORKERS ?? '2 (the Makefile default)';
  const summary = makeTestSummary(TARGET, workers, runs[0]!, runs[1]);
  const json = { machine: m, warmupSeconds: Math.round(w.endMs / 100) / 10, runs, summary };
  const md = renderMakeTestMd(summary, runs, {
    warmupSeconds: json.warmupSeconds,
    warmup: `make -s ${warmup.join(' ')}`,
    machine: mdMachine(m),
  });
  await writeResults(RESULT, json, md);
  console.log(JSON.stringify(summary, null, 2));
  if (runs.some((r) => r.exitCode !== 0)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

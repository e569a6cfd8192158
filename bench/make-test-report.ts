// The pure part of bench/make-test.ts: from what one `make` run printed (the recipe lines make
// echoes, with when each arrived) and the JSON each of its jest runs wrote (jest --json, one file
// per Makefile target: JEST_JSON_DIR) to the figures of bench/results/make-test.json and its .md.
import path from 'node:path';
import { mdTable } from './md.js';

/** What `jest --json` writes (the fields read here). */
export interface JestJson {
  startTime: number;
  success: boolean;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: Array<{
    name: string;
    startTime: number;
    endTime: number;
    status: string;
    assertionResults: Array<{ status: string }>;
  }>;
}

export interface FileTime {
  /** The test file, relative to the repository. */
  file: string;
  /** Its start to its end in its jest worker (other files ran beside it on the other workers). */
  seconds: number;
  status: string;
  tests: number;
  failed: number;
}

/** One jest run (one Makefile target: test-unit, test-integration, test-e2e, test-heavy). */
export interface JestRun {
  /** The run's start to its last file's end. */
  seconds: number;
  success: boolean;
  tests: { total: number; passed: number; failed: number; pending: number };
  /** Slowest first. */
  files: FileTime[];
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

export function jestRun(j: JestJson, root: string): JestRun {
  const files = j.testResults
    .map((t) => ({
      file: path.relative(root, t.name),
      seconds: r1((t.endTime - t.startTime) / 1000),
      status: t.status,
      tests: t.assertionResults.length,
      failed: t.assertionResults.filter((a) => a.status === 'failed').length,
    }))
    .sort((a, b) => b.seconds - a.seconds || a.file.localeCompare(b.file));
  const end = Math.max(j.startTime, ...j.testResults.map((t) => t.endTime));
  return {
    seconds: r1((end - j.startTime) / 1000),
    success: j.success,
    tests: { total: j.numTotalTests, passed: j.numPassedTests, failed: j.numFailedTests, pending: j.numPendingTests },
    files,
  };
}

/** A line of make's output, with when it arrived (ms since the run's start). */
export interface Line {
  atMs: number;
  line: string;
}

/** A recipe command as make echoes it before running it (the Makefile's non-@ lines: npx, node, chmod). */
export const isRecipeEcho = (line: string): boolean => /^(npx|node|chmod) \S/.test(line);

export interface Phase {
  /** The recipe command; the first phase is make's silent prerequisites (deps, k8s-binaries, helm...). */
  command: string;
  startSeconds: number;
  seconds: number;
}

/** Each echoed command runs until the next is echoed (make runs one at a time without -j), the last until make ends. */
export function phasesOf(lines: Line[], endMs: number): Phase[] {
  const starts = [
    { atMs: 0, line: '(silent prerequisites: @ recipes)' },
    ...lines.filter((l) => isRecipeEcho(l.line)).map((l) => ({ ...l, line: l.line.trimEnd() })),
  ];
  return starts
    .map((s, i) => ({
      command: s.line,
      startSeconds: r1(s.atMs / 1000),
      seconds: r1(((starts[i + 1]?.atMs ?? endMs) - s.atMs) / 1000),
    }))
    .filter((p, i) => i > 0 || p.seconds > 0);
}

/** One `make <target>` run. */
export interface MakeRun {
  command: string;
  exitCode: number;
  wallSeconds: number;
  phases: Phase[];
  /** By Makefile target (the JSON file's name). */
  jest: Record<string, JestRun>;
}

export function makeRun(target: string, exitCode: number, lines: Line[], endMs: number, jest: Record<string, JestRun>): MakeRun {
  return { command: `make ${target}`, exitCode, wallSeconds: r1(endMs / 1000), phases: phasesOf(lines, endMs), jest };
}

const testsOf = (r: MakeRun | undefined): { total: number; failed: number } | null =>
  r
    ? Object.values(r.jest).reduce((a, j) => ({ total: a.total + j.tests.total, failed: a.failed + j.tests.failed }), {
        total: 0,
        failed: 0,
      })
    : null;

const slowest = (r: MakeRun | undefined, n: number): Array<FileTime & { run: string }> =>
  Object.entries(r?.jest ?? {})
    .flatMap(([run, j]) => j.files.map((f) => ({ ...f, run })))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, n);

/** make-test.json's summary: what bench/summary.ts reads. */
export function makeTestSummary(target: string, workers: string, main: MakeRun, heavy: MakeRun | undefined) {
  const t = testsOf(main)!;
  const h = testsOf(heavy);
  return {
    target,
    jestWorkers: workers,
    wallSeconds: main.wallSeconds,
    exitCode: main.exitCode,
    tests: t.total,
    failedTests: t.failed,
    heavyWallSeconds: heavy?.wallSeconds ?? null,
    heavyExitCode: heavy?.exitCode ?? null,
    heavyTests: h?.total ?? null,
    heavyFailedTests: h?.failed ?? null,
    slowestFiles: slowest(main, 10),
  };
}

function runMd(r: MakeRun): string[] {
  return [
    `## ${r.command}: ${r.wallSeconds} s, exit code ${r.exitCode}`,
    '',
    ...mdTable(
      ['phase (make echoes each recipe command)', 'start, s', 'seconds'],
      r.phases.map((p) => [`\`${p.command}\``, p.startSeconds, p.seconds]),
    ),
    '',
    ...Object.entries(r.jest).flatMap(([target, j]) => [
      `### ${target}: ${j.seconds} s, ${j.tests.passed} of ${j.tests.total} tests passed (${j.tests.failed} failed, ${j.tests.pending} skipped)`,
      '',
      ...mdTable(
        ['file', 'seconds', 'status', 'tests', 'failed'],
        j.files.map((f) => [f.file, f.seconds, f.status, f.tests, f.failed]),
      ),
      '',
    ]),
  ];
}

export function renderMakeTestMd(
  summary: ReturnType<typeof makeTestSummary>,
  runs: MakeRun[],
  how: { warmupSeconds: number; warmup: string; machine: string[] },
): string {
  return [
    '# make test, warm (issue 18 #7)',
    '',
    `\`node dist/bench/make-test.js\` (\`make bench-make-test\`) ran \`${runs.map((r) => r.command).join('` then `')}\` from the repository, JEST_WORKERS=${summary.jestWorkers}, after \`${how.warmup}\` (${how.warmupSeconds} s, not counted) so every cache is built. A file's seconds are its start to its end in its jest worker, beside the other workers' files.`,
    '',
    `- ${runs[0]!.command}: ${summary.wallSeconds} s wall, exit code ${summary.exitCode}, ${summary.tests} tests (${summary.failedTests} failed)`,
    ...(summary.heavyWallSeconds === null
      ? []
      : [
          `- make test-heavy: ${summary.heavyWallSeconds} s wall, exit code ${summary.heavyExitCode}, ${summary.heavyTests} tests (${summary.heavyFailedTests} failed)`,
        ]),
    '',
    ...runs.flatMap(runMd),
    ...how.machine,
  ].join('\n');
}

// bench/make-test-report.ts: a make run's output and its jest JSON files to make-test.json, and
// summary.json's makeTestWallSeconds from it (only a passing run of `make test` gives one).
import { jestRun, makeRun, makeTestSummary, phasesOf, renderMakeTestMd, type JestJson } from '../../../bench/make-test-report.js';
import { quotedFigures, summarize } from '../../../bench/summary-render.js';

const ROOT = '/repo';
const T0 = 1_800_000_000_000;

function jestJson(files: Array<[string, number, number, string[]]>): JestJson {
  const statuses = files.flatMap(([, , , s]) => s);
  return {
    startTime: T0,
    success: !statuses.includes('failed'),
    numTotalTests: statuses.length,
    numPassedTests: statuses.filter((s) => s === 'passed').length,
    numFailedTests: statuses.filter((s) => s === 'failed').length,
    numPendingTests: statuses.filter((s) => s === 'pending').length,
    testResults: files.map(([name, startS, endS, s]) => ({
      name: `${ROOT}/${name}`,
      startTime: T0 + startS * 1000,
      endTime: T0 + endS * 1000,
      status: s.includes('failed') ? 'failed' : 'passed',
      assertionResults: s.map((status) => ({ status })),
    })),
  };
}

const e2e = jestRun(
  jestJson([
    ['test/e2e/a.test.ts', 0.5, 30.25, ['passed', 'passed']],
    ['test/e2e/b.test.ts', 0.6, 100.04, ['passed', 'failed', 'pending']],
    ['test/e2e/c.test.ts', 30.3, 61, ['passed']],
  ]),
  ROOT,
);
const unit = jestRun(jestJson([['test/unit/u.test.ts', 0.1, 2.2, ['passed']]]), ROOT);

describe('make-test report', () => {
  it("reads each file's time, status and tests from jest --json, slowest first, and the run's span", () => {
    expect(e2e).toEqual({
      seconds: 100,
      success: false,
      tests: { total: 6, passed: 4, failed: 1, pending: 1 },
      files: [
        { file: 'test/e2e/b.test.ts', seconds: 99.4, status: 'failed', tests: 3, failed: 1 },
        { file: 'test/e2e/c.test.ts', seconds: 30.7, status: 'passed', tests: 1, failed: 0 },
        { file: 'test/e2e/a.test.ts', seconds: 29.8, status: 'passed', tests: 2, failed: 0 },
      ],
    });
  });

  it('times each recipe command make echoes until the next, the silent prerequisites first', () => {
    const lines = [
      { atMs: 4000, line: 'npx tsc -p tsconfig.json' },
      { atMs: 9000, line: 'chmod +x dist/src/cli/main.js' },
      { atMs: 9100, line: 'npx prettier --check --log-level=warn .' },
      { atMs: 9500, line: 'PASS unit test/unit/u.test.ts' },
      { atMs: 20000, line: "npx jest --selectProjects e2e --maxWorkers=2 --forceExit --testPathIgnorePatterns 'x' " },
    ];
    expect(phasesOf(lines, 121000)).toEqual([
      { command: '(silent prerequisites: @ recipes)', startSeconds: 0, seconds: 4 },
      { command: 'npx tsc -p tsconfig.json', startSeconds: 4, seconds: 5 },
      { command: 'chmod +x dist/src/cli/main.js', startSeconds: 9, seconds: 0.1 },
      { command: 'npx prettier --check --log-level=warn .', startSeconds: 9.1, seconds: 10.9 },
      { command: "npx jest --selectProjects e2e --maxWorkers=2 --forceExit --testPathIgnorePatterns 'x'", startSeconds: 20, seconds: 101 },
    ]);
    // Nothing silent before the first command: no empty first phase.
    expect(phasesOf([{ atMs: 0, line: 'npx eslint .' }], 1000)).toEqual([{ command: 'npx eslint .', startSeconds: 0, seconds: 1 }]);
  });

  it("summarizes the run: wall time, tests over every jest run, the slowest files across them, and test-heavy's", () => {
    const main = makeRun('test', 0, [], 599_440, { 'test-unit': unit, 'test-e2e': e2e });
    const heavy = makeRun('test-heavy', 2, [], 1_200_000, { 'test-heavy': e2e });
    const s = makeTestSummary('test', '2', main, heavy);
    expect(s).toEqual({
      target: 'test',
      jestWorkers: '2',
      wallSeconds: 599.4,
      exitCode: 0,
      tests: 7,
      failedTests: 1,
      heavyWallSeconds: 1200,
      heavyExitCode: 2,
      heavyTests: 6,
      heavyFailedTests: 1,
      slowestFiles: [
        expect.objectContaining({ file: 'test/e2e/b.test.ts', run: 'test-e2e', seconds: 99.4 }),
        expect.objectContaining({ file: 'test/e2e/c.test.ts', run: 'test-e2e' }),
        expect.objectContaining({ file: 'test/e2e/a.test.ts', run: 'test-e2e' }),
        expect.objectContaining({ file: 'test/unit/u.test.ts', run: 'test-unit', seconds: 2.1 }),
      ],
    });
    const md = renderMakeTestMd(s, [main, heavy], { warmupSeconds: 3, warmup: 'make -s deps', machine: [] });
    expect(md).toContain('- make test: 599.4 s wall, exit code 0, 7 tests (1 failed)');
    expect(md).toContain('- make test-heavy: 1200 s wall, exit code 2, 6 tests (1 failed)');
    expect(md).toContain('| test/e2e/b.test.ts | 99.4 | failed | 3 | 1 |');
  });

  it('gives summary.json makeTestWallSeconds, and README a quotable figure, only from a passing run of make test', () => {
    const result = (target: string, exitCode: number, heavyExitCode: number) => ({
      summary: makeTestSummary(
        target,
        '2',
        makeRun(target, exitCode, [], 599_440, { 'test-unit': unit }),
        makeRun('test-heavy', heavyExitCode, [], 1_200_000, { 'test-heavy': unit }),
      ),
    });
    const quoted = (r: Record<string, unknown>) => quotedFigures({ 'make-test': r }).map((q) => q.quoted);
    expect(summarize({ 'make-test': result('test', 0, 0) }, null).makeTestWallSeconds).toBe(599.4);
    expect(quoted(result('test', 0, 0))).toEqual(['599.4 s', '1 tests', '1200.0 s', '1 tests']);
    expect(summarize({ 'make-test': result('test', 2, 0) }, null).makeTestWallSeconds).toBeNull();
    expect(quoted(result('test', 2, 0))).toEqual(['1200.0 s', '1 tests']);
    expect(quoted(result('test', 0, 1))).toEqual(['599.4 s', '1 tests']);
    expect(summarize({ 'make-test': result('test-unit', 0, 0) }, null).makeTestWallSeconds).toBeNull();
    expect(quoted(result('test-unit', 0, 0))).toEqual([]);
    expect(summarize({}, null).makeTestWallSeconds).toBeNull();
  });
});

// Collects the figures of every benchmark's bench/results/<name>.json into
// bench/results/summary.json (and summary.md, with the figures as README.md quotes them).
// A benchmark not run yet gives null. What it writes is bench/summary-render.ts, a pure function
// of those files (but for summary.json's `machine`, this machine now).
//
// Usage: node dist/bench/summary.js   (the last step of `make bench`)
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { machine, resultsDir } from './common.js';
import { BENCHMARKS, pick, renderSummaryMd, summarize, type J, type Results } from './summary-render.js';

async function load(name: string): Promise<J | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(resultsDir, `${name}.json`), 'utf8')) as J;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  // A benchmark not run yet is absent (not undefined), as the README figures test loads them.
  const results: Results = Object.fromEntries(
    (await Promise.all(BENCHMARKS.map(async (name) => [name, await load(name)] as const))).filter(([, v]) => v !== undefined),
  );
  const summary = summarize(
    results,
    machine(
      (pick(results.crash, 'machine', 'systemd') as string | undefined) ??
        (pick(results['node-apply'], 'machine', 'systemd') as string | undefined),
    ),
  );
  await fs.writeFile(path.join(resultsDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  await fs.writeFile(path.join(resultsDir, 'summary.md'), renderSummaryMd(results));
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

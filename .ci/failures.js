// The failures of a CI run, whole, printed last. CI keeps only the tail of a
// run's output, and a failure's message in the middle of jest's report was cut
// there more than once ("Cluster.start threw", with no reason). Reads the jest
// --json reports that .ci/run asks the Makefile for (JEST_JSON_DIR), one per
// make target; prints nothing when every test passed.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const MAX_LINES = 40;
// eslint-disable-next-line no-control-regex -- jest colours its messages
const plain = (s) => s.replace(/\u001b\[[0-9;]*m/g, '');
// Stack frames inside jest and Node say nothing about the failure.
const clip = (s) => {
  const lines = plain(s)
    .split('\n')
    .filter((l) => !/^\s+at .*(node_modules\/|node:internal)/.test(l));
  return lines.length > MAX_LINES
    ? [...lines.slice(0, MAX_LINES), `[${lines.length - MAX_LINES} more lines]`].join('\n')
    : lines.join('\n');
};

const out = [];
for (const f of readdirSync(dir)
  .filter((n) => n.endsWith('.json'))
  .sort()) {
  let report;
  try {
    report = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
  } catch (e) {
    out.push(`${f}: unreadable report (${e.message}); the run stopped inside jest`);
    continue;
  }
  for (const file of report.testResults ?? []) {
    const name = path.relative(process.cwd(), file.name);
    const failed = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failed) out.push(`${f.replace(/\.json$/, '')} ${name} › ${a.fullName}\n${clip(a.failureMessages.join('\n'))}`);
    // A file that failed outside its tests (an import, a beforeAll with no test run).
    if (!failed.length && file.status === 'failed') out.push(`${f.replace(/\.json$/, '')} ${name}\n${clip(file.message ?? '')}`);
  }
}
if (out.length) console.log(`\n==== ${out.length} failure(s), whole ====\n\n${out.join('\n\n')}`);

// Benchmark (issue 18 #1): what loading each candidate Kubernetes client costs the
// agent, before it does anything. A fresh `node` per candidate imports one module,
// waits, runs a full GC, and reports RSS and V8 heap (process.memoryUsage()).
// Candidates: nothing (bare Node); client-node's index; deep imports of its
// KubeConfig module and of one generated API class (what "load only what the agent
// uses" can reach); the agent's module graph as built (dist/src/agent/agent.js).
//
// Usage: node dist/bench/agent-imports.js (light: no cluster; run after `make build`).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../test/harness/binaries.js';
import { machine, mdMachine, mdTable, median, r3, writeResults } from './common.js';

const REPS = 3;
const CN = path.join(repoRoot, 'node_modules/@kubernetes/client-node/dist');
const candidates: Array<[string, string | undefined]> = [
  ['bare Node', undefined],
  ['@kubernetes/client-node (index)', '@kubernetes/client-node'],
  ['client-node deep import: dist/config.js (KubeConfig)', `${CN}/config.js`],
  ['client-node deep import: dist/gen/apis/CoordinationV1Api.js (one API class)', `${CN}/gen/apis/CoordinationV1Api.js`],
  ['the agent as built (dist/src/agent/agent.js)', path.join(repoRoot, 'dist/src/agent/agent.js')],
];

function measure(spec: string | undefined): { rssMiB: number; heapUsedMiB: number; heapTotalMiB: number } {
  const script = `${spec ? `await import(${JSON.stringify(spec)});` : ''}
await new Promise((r) => setTimeout(r, 1000)); globalThis.gc(); await new Promise((r) => setTimeout(r, 200));
const m = process.memoryUsage(); console.log(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal }));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
  const m = JSON.parse(out) as { rss: number; heapUsed: number; heapTotal: number };
  const MiB = 1024 * 1024;
  return { rssMiB: m.rss / MiB, heapUsedMiB: m.heapUsed / MiB, heapTotalMiB: m.heapTotal / MiB };
}

function main(): Promise<void> {
  const rows = candidates.map(([name, spec]) => {
    const runs = Array.from({ length: REPS }, () => measure(spec));
    return {
      name,
      samples: REPS,
      rssMiB: r3(median(runs.map((r) => r.rssMiB))),
      heapUsedMiB: r3(median(runs.map((r) => r.heapUsedMiB))),
      heapTotalMiB: r3(median(runs.map((r) => r.heapTotalMiB))),
    };
  });
  const m = { ...machine(), node: process.version };
  const md = [
    '# agent-imports: what loading a Kubernetes client costs the agent',
    '',
    `Produced by \`node dist/bench/agent-imports.js\`. Method in the header of bench/agent-imports.ts; median of ${REPS} fresh processes each.`,
    '',
    ...mdTable(
      ['loaded', 'RSS (MiB)', 'heap used (MiB)', 'heap total (MiB)'],
      rows.map((r) => [r.name, r.rssMiB, r.heapUsedMiB, r.heapTotalMiB]),
    ),
    '',
    ...mdMachine(m),
  ].join('\n');
  console.log(md);
  return writeResults('agent-imports', { machine: m, method: 'see the header of bench/agent-imports.ts', rows }, md);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

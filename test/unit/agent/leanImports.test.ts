// The agent's memory target (issue 18: <= 80 MiB RSS idle) holds only while no
// module the agent loads at start imports @kubernetes/client-node's index or
// generated API (+70 MiB, bench/results/agent-imports.md). This walks the static,
// non-type imports from src/agent/main.ts and names the chain to any such import.
// Type-only imports and dynamic import() (the KubeConfig fallbacks) are allowed.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../..');
/** Deep imports that load none of the generated API (bench/results/agent-imports.md measures the rest). */
const ALLOWED = new Set(['@kubernetes/client-node/dist/config_types.js']);

function runtimeImports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of src.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'([^']+)';/gm)) if (!m[1]) specs.push(m[2]!);
  return specs;
}

function clientNodeChains(entry: string): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of runtimeImports(file)) {
      if (spec.startsWith('.')) walk(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')), [...chain, path.relative(ROOT, file)]);
      else if (spec.startsWith('@kubernetes/client-node') && !ALLOWED.has(spec))
        found.push([...chain, path.relative(ROOT, file), spec].join(' -> '));
    }
  };
  walk(entry, []);
  return found;
}

describe("the agent's module graph", () => {
  it("loads none of @kubernetes/client-node's generated API at start", () => {
    expect(clientNodeChains(path.join(ROOT, 'src/agent/main.ts'))).toEqual([]);
  });

  it('would see such an import (the walk reaches client-node through the controller)', () => {
    expect(clientNodeChains(path.join(ROOT, 'src/controller/main.ts')).length).toBeGreaterThan(0);
  });
});

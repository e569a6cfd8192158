// The folders of src/ are layers: api is the leaf (types, schema, validation,
// names, markers) that everything imports and that imports nothing of ours, and
// no two folders import each other, directly or around a longer cycle.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const folderOf = (file: string): string => path.relative(SRC, file).split(path.sep)[0]!;

/** Every relative import (static, type-only, re-export, dynamic) of a file, resolved. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...text.matchAll(
      /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*'(\.[^']+)'|(?:^|\n)\s*import\s*'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g,
    ),
  ].map((m) => m[1] ?? m[2] ?? m[3]!);
  return specs.map((s) => path.resolve(path.dirname(file), s));
}

/** folder -> the other src folders it imports, with one example file each. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of tsFiles(SRC)) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const target of importsOf(file)) {
      if (!target.startsWith(SRC + path.sep)) continue;
      const to = folderOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, path.relative(SRC, file));
    }
  }
  return graph;
}

/** The cycles of a graph, each as [a, b, ..., a] (one per strongly connected part found by DFS). */
function cycles(graph: Map<string, Map<string, string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'visiting');
    stack.push(n);
    for (const m of graph.get(n)?.keys() ?? []) {
      if (state.get(m) === 'visiting') found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return found;
}

describe('src/ layers', () => {
  const graph = folderGraph();

  it('finds the folders and their imports (the check below has something to check)', () => {
    expect([...graph.keys()]).toEqual(expect.arrayContaining(['api', 'render', 'controller', 'agent', 'systemd', 'kube', 'cli']));
    expect([...graph.get('render')!.keys()]).toContain('api');
  });

  it('api imports no other folder of ours', () => {
    expect(Object.fromEntries(graph.get('api') ?? [])).toEqual({});
  });

  it('no import cycle between folders', () => {
    const described = cycles(graph).map((c) =>
      c.map((n, i) => (i + 1 < c.length ? `${n} (${graph.get(n)!.get(c[i + 1]!)})` : n)).join(' -> '),
    );
    expect(described).toEqual([]);
  });

  it('the cycle check finds a cycle when there is one', () => {
    const g = new Map([
      ['a', new Map([['b', 'a/x.ts']])],
      ['b', new Map([['c', 'b/y.ts']])],
      ['c', new Map([['a', 'c/z.ts']])],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c', 'a']]);
  });
});

// Markdown pieces of the benchmarks' result files, without the machinery of common.ts
// (client-node, the test harness), so a unit test can render summary.md (bench/summary-render.ts).

export function mdTable(head: string[], rows: Array<Array<string | number | null | undefined>>): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map((x) => (x === null || x === undefined ? '-' : String(x))).join(' | ')} |`),
  ];
}

// README figures equal bench/results (issue #18, item 8).
//
// The rule: every figure in README.md's "## Performance" section (the README's only place that
// quotes a benchmark) appears verbatim in the `quoted` column of the last table of
// bench/results/summary.md, "Figures as README.md quotes them". bench/summary.ts writes that
// table from the benchmarks' json files (bench/summary-render.ts rounds each figure once, by the
// rule it prints above the table), so `make bench` keeps it in step, and this test renders
// summary.md again from the committed json files: a summary.md edited by hand, or left behind by
// a json file, fails too. So a README figure is always a file's figure rounded as summary.md says.
//
// A figure is a number (1.08, 10,010) with what is written right after it: a suffix `x` or `%`,
// `-core`, ` of N` (5,000 of 5,000) or the next word (10.1 s, 212 MiB, 200 units, 1,001 nodes),
// and a percentile label right before it (p99 8.6 s). A number followed by nothing is a figure
// too (and fails: write its unit). Not figures: numbers in `code spans` (flags and their
// defaults) and the issue reference ("issue 8").
//
// Samples: a row whose figure is a median (or a percentile, or a ratio of medians) names its
// samples ("medians of 5", "median of 2", "one sample each", "median over 60 s", "100 kills");
// the README list item quoting the figure must say the same, verbatim. A sample phrase the README
// writes ("median of 3") must be one of that column's too.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BENCHMARKS, quotedFigures, renderSummaryMd, type J, type QuotedFigure, type Results } from '../../../bench/summary-render.js';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const results = path.join(root, 'bench', 'results');

function loadResults(): Results {
  const out: Results = {};
  for (const name of BENCHMARKS) {
    try {
      out[name] = JSON.parse(readFileSync(path.join(results, `${name}.json`), 'utf8')) as J;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return out;
}

const NUM = String.raw`\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?`;
const FIGURE = new RegExp(
  String.raw`(?:\bp\d+(?:\.\d+)?\s+)?(?<![\w.,])(?:${NUM})(?:[x%](?!\w)|-[A-Za-z]+|\s+of\s+(?:${NUM})|\s+[A-Za-z]+)?`,
  'g',
);
const SAMPLES = new RegExp(
  String.raw`\bmedians?\s+of\s+(?:${NUM})(?:\s+and\s+(?:${NUM}))?|\bmedian\s+over\s+(?:${NUM})\s+s\b|\bone\s+sample(?:\s+each)?\b`,
  'g',
);
/** Not figures: code spans and the issue reference; blanked, keeping offsets and line breaks. */
const NOT_FIGURES = [/`[^`]*`/g, /\bissue #?\d+/g];

const blank = (text: string, re: RegExp): string => text.replace(re, (m) => m.replace(/[^\n]/g, ' '));
const oneLine = (s: string): string => s.replace(/\s+/g, ' ');

interface Item {
  text: string;
  /** README line number (1-based) of the item's first line. */
  line: number;
}

/** The list items and paragraphs of the section under `heading`, with their line numbers. */
function sectionItems(readme: string, heading: string): Item[] {
  const lines = readme.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`README has no "${heading}" section`);
  const items: Array<{ lines: string[]; line: number }> = [];
  let open = false;
  for (let i = start + 1; i < lines.length && !lines[i]!.startsWith('## '); i++) {
    const l = lines[i]!;
    if (l.trim() === '') {
      open = false;
      continue;
    }
    if (!open || l.startsWith('- ')) items.push({ lines: [l], line: i + 1 });
    else items.at(-1)!.lines.push(l);
    open = true;
  }
  return items.map((it) => ({ text: it.lines.join('\n'), line: it.line }));
}

interface Found {
  figures: Array<{ quoted: string; line: number }>;
  problems: string[];
}

/** Every figure of the section, and what is wrong with each against summary.md's quoted figures. */
function checkReadme(readme: string, quoted: QuotedFigure[], heading = '## Performance'): Found {
  const byQuoted = new Map<string, QuotedFigure[]>();
  for (const q of quoted) byQuoted.set(q.quoted, [...(byQuoted.get(q.quoted) ?? []), q]);
  const samplePhrases = new Set(quoted.map((q) => q.samples));
  const found: Found = { figures: [], problems: [] };
  for (const item of sectionItems(readme, heading)) {
    const lineOf = (index: number): number => item.line + (item.text.slice(0, index).match(/\n/g)?.length ?? 0);
    let text = NOT_FIGURES.reduce(blank, item.text);
    for (const m of text.matchAll(SAMPLES)) {
      if (!samplePhrases.has(oneLine(m[0])))
        found.problems.push(
          `README.md:${lineOf(m.index)}: sample count "${oneLine(m[0])}" is no row's samples in bench/results/summary.md`,
        );
    }
    text = blank(text, SAMPLES);
    const said = oneLine(item.text);
    for (const m of text.matchAll(FIGURE)) {
      const figure = oneLine(m[0]);
      const line = lineOf(m.index);
      found.figures.push({ quoted: figure, line });
      const rows = byQuoted.get(figure);
      if (!rows) {
        found.problems.push(`README.md:${line}: "${figure}" is not a quoted figure of bench/results/summary.md`);
      } else if (!rows.some((r) => r.samples === '-' || said.includes(r.samples))) {
        const want = rows.map((r) => `"${r.samples}"`).join(' or ');
        found.problems.push(`README.md:${line}: "${figure}" is a median of samples; its item must say ${want}`);
      }
    }
  }
  return found;
}

describe('README figures equal bench/results', () => {
  const res = loadResults();
  const quoted = quotedFigures(res);
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

  it('bench/results/summary.md is what bench/summary.ts renders from the json files', () => {
    expect(readFileSync(path.join(results, 'summary.md'), 'utf8')).toBe(renderSummaryMd(res));
  });

  it("every figure of README.md's Performance section is a quoted figure of summary.md, with its samples", () => {
    const { figures, problems } = checkReadme(readme, quoted);
    expect(problems).toEqual([]);
    // The section quotes the headline of every benchmark: an extraction that found nothing would pass above.
    expect(figures.map((f) => f.quoted)).toEqual(
      expect.arrayContaining(['1.09x', '0.99x', 'p99 0.26 s', '142 MiB', '75 MiB', 'p99 6.8 s', '7,000 of 7,000']),
    );
  });

  describe('the check fails where it should', () => {
    const section = (body: string): string => `# x\n\n## Performance\n\n${body}\n\n## Next\n\n- 99 bottles\n`;
    const q = (quotedText: string, samples = '-'): QuotedFigure => ({ figure: 'f', quoted: quotedText, exact: 'e', samples });
    const rows = [q('1.08x', 'medians of 5'), q('10.1 s', 'median of 2'), q('212 MiB'), q('p99 8.6 s'), q('5,000 of 5,000'), q('2-core')];

    it('passes figures summary.md quotes, with their samples, and ignores code spans, the issue and other sections', () => {
      const readme = section(
        'On 2-core machines, as issue 8 asks:\n\n- 1.08x the floor\n  (medians of 5); `--qps=20`.\n- ready in 10.1 s (median of 2), 212 MiB;\n  5,000 of 5,000 starts, p99 8.6 s late.',
      );
      expect(checkReadme(readme, rows)).toEqual({
        figures: [
          { quoted: '2-core', line: 5 },
          { quoted: '1.08x', line: 7 },
          { quoted: '10.1 s', line: 9 },
          { quoted: '212 MiB', line: 9 },
          { quoted: '5,000 of 5,000', line: 10 },
          { quoted: 'p99 8.6 s', line: 10 },
        ],
        problems: [],
      });
    });

    it('names a figure summary.md does not quote, and its line: another rounding, another unit, a bare number, a lost label', () => {
      const readme = section('- 1.075x the floor (medians of 5)\n- 10.08 s (median of 2), 212 MB, 8.6 s (p99); 20 pods\n- of 5000');
      const notQuoted = (line: number, figure: string): string =>
        `README.md:${line}: "${figure}" is not a quoted figure of bench/results/summary.md`;
      expect(checkReadme(readme, rows).problems).toEqual([
        notQuoted(5, '1.075x'),
        notQuoted(6, '10.08 s'),
        notQuoted(6, '212 MB'),
        notQuoted(6, '8.6 s'),
        notQuoted(6, '20 pods'),
        notQuoted(7, '5000'),
      ]);
    });

    it('names a median quoted without its samples, or with other samples', () => {
      const readme = section('- 1.08x the floor.\n- ready in\n  10.1 s (median of 3).');
      expect(checkReadme(readme, rows).problems).toEqual([
        'README.md:5: "1.08x" is a median of samples; its item must say "medians of 5"',
        'README.md:7: sample count "median of 3" is no row\'s samples in bench/results/summary.md',
        'README.md:7: "10.1 s" is a median of samples; its item must say "median of 2"',
      ]);
    });
  });
});

// Random strings in every field that reaches a unit file, rendered by the
// renderer, loaded and RUN by a real systemd: the argv and the environment the
// process receives must equal exactly what was given, and nothing else (no
// extra directive) may appear in what systemd loaded. (ExecStart as read over
// D-Bus is systemd's stored form, before the exec-time "$$" -> "$" step, so the
// process itself reports what it got.) Strings with control characters are
// refused at admission and by the renderer; everything else must survive.
import fc from 'fast-check';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import type { SystemdWorkload } from '../../../src/api/types.js';
import { CONTROL_CHARS, render } from '../../../src/render/index.js';
import { SystemdBus } from '../../../src/systemd/bus.js';
import { unwrap } from '../../../src/systemd/properties.js';
import { SystemdNode } from '../../harness/systemdNode.js';
import { cacheRoot } from '../../harness/binaries.js';

// Printable text of any script, including the characters systemd gives meaning to.
const hostile = fc
  .oneof(
    fc.string({
      unit: fc.constantFrom(
        '%',
        '$',
        '{',
        '}',
        '"',
        "'",
        '\\',
        ' ',
        ';',
        '\u00e9',
        '\u2713',
        'n',
        'h',
        'i',
        '=',
        '@',
        '-',
        '+',
        '!',
        ':',
        '|',
        '&',
      ),
      maxLength: 24,
    }),
    fc.string({ unit: 'grapheme', maxLength: 24 }),
  )
  .filter((s) => !CONTROL_CHARS.test(s) && !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')));

const envName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/);

interface Case {
  argv: string[];
  env: Array<{ name: string; value: string }>;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  argv: fc.array(hostile, { minLength: 0, maxLength: 6 }),
  env: fc.uniqueArray(fc.record({ name: envName, value: hostile }), { maxLength: 5, selector: (e) => e.name }),
});

// The unit's program: writes its arguments and environment, NUL-separated, to $0.argv and $0.env.
const DUMP = 'for a in "$@"; do printf "%s\\0" "$a"; done > "$0.argv"; env -0 > "$0.env"';

function workload(i: number, c: Case): SystemdWorkload {
  return {
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name: `fuzz-${i}`, namespace: 'default', generation: 1 },
    spec: { units: [{ name: 'main', type: 'oneshot', command: c.argv.length ? c.argv : ['/bin/true'], env: c.env }] },
  };
}

describe('rendering survives a real systemd unchanged', () => {
  let node: SystemdNode;
  let bus: SystemdBus;
  beforeAll(async () => {
    const runId = `rt${process.pid}`;
    node = await SystemdNode.start({ name: 'roundtrip', baseDir: path.join(cacheRoot(), 'run', runId), runId });
    bus = await SystemdBus.connect(node.busAddress);
  });
  afterAll(async () => {
    await bus?.close();
    await node?.stop();
    await fs.rm(path.join(cacheRoot(), 'run', `rt${process.pid}`), { recursive: true, force: true });
  });

  it('the process gets exactly the argv and environment given, 200 random workloads', async () => {
    const cases = fc.sample(caseArb, { numRuns: 200, seed: Number(process.env.FUZZ_SEED ?? 20261122) });
    const outDir = path.join(node.dir, 'out');
    await fs.mkdir(outDir, { recursive: true });
    const files: Array<{ name: string; c: Case; out: string }> = [];
    for (const [i, c] of cases.entries()) {
      const out = path.join(outDir, String(i));
      const spec = render(workload(i, { argv: ['/bin/sh', '-c', DUMP, out, ...c.argv], env: c.env }), 'roundtrip');
      const file = spec.units[0]!.files[0]!;
      await fs.writeFile(path.join(node.unitDir, file.name), file.content);
      files.push({ name: file.name, c, out });
    }
    await bus.reload();
    const results = await Promise.all(files.map((f) => bus.startUnit(f.name)));
    expect(results.filter((r) => r !== 'done')).toEqual([]);
    const mismatches: string[] = [];
    for (const f of files) {
      const argv = (await fs.readFile(`${f.out}.argv`, 'utf8')).split('\0').slice(0, -1);
      if (JSON.stringify(argv) !== JSON.stringify(f.c.argv))
        mismatches.push(`${f.name}: process argv ${JSON.stringify(argv)} != ${JSON.stringify(f.c.argv)}`);
      const env = new Map(
        (await fs.readFile(`${f.out}.env`, 'utf8'))
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      for (const e of f.c.env) {
        if (env.get(e.name) !== e.value)
          mismatches.push(`${f.name}: process env ${e.name}=${JSON.stringify(env.get(e.name))} != ${JSON.stringify(e.value)}`);
      }
    }
    for (const f of files) {
      const props = await bus.getUnitProperties(f.name, ['org.freedesktop.systemd1.Unit', 'org.freedesktop.systemd1.Service']);
      const unit = props['org.freedesktop.systemd1.Unit']!;
      const svc = props['org.freedesktop.systemd1.Service']!;
      if (unwrap(unit.LoadState) !== 'loaded') {
        mismatches.push(`${f.name}: LoadState ${String(unwrap(unit.LoadState))} for ${JSON.stringify(f.c)}`);
        continue;
      }
      if ((unwrap(svc.ExecStart) as unknown[]).length !== 1) mismatches.push(`${f.name}: more than one ExecStart`);
      const env = unwrap(svc.Environment) as string[];
      const want = f.c.env.map((e) => `${e.name}=${e.value}`);
      if (JSON.stringify(env) !== JSON.stringify(want)) mismatches.push(`${f.name}: env ${JSON.stringify(env)} != ${JSON.stringify(want)}`);
      // Nothing smuggled in: no user, no extra commands, the restart policy as rendered.
      if (
        unwrap(svc.User) !== '' ||
        (unwrap(svc.ExecStartPre) as unknown[]).length !== 0 ||
        (unwrap(svc.ExecStopPost) as unknown[]).length !== 0
      ) {
        mismatches.push(`${f.name}: unexpected User/ExecStartPre/ExecStopPost`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('refuses every string with a control character before anything is written', () => {
    const bad = fc.sample(fc.tuple(hostile, fc.constantFrom('\n', '\r', '\u0000', '\t', '\u001b', '\u007f', '\u0085'), hostile), {
      numRuns: 100,
      seed: 7,
    });
    for (const [a, ctl, b] of bad) {
      expect(() => render(workload(0, { argv: ['/bin/true', `${a}${ctl}${b}`], env: [] }), 'n')).toThrow(/spec\.units\[0\]\.command\[1\]/);
      expect(() => render(workload(0, { argv: [], env: [{ name: 'X', value: `${a}${ctl}${b}` }] }), 'n')).toThrow(/spec\.units\[0\]\.env/);
    }
  });
});

// The one-source-of-truth test: crds/*.yaml must be exactly what
// hack/gen-crds.ts generates from src/api. Regenerate with:
//   npx tsc -p tsconfig.json && node dist/hack/gen-crds.js
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadYaml } from '@kubernetes/client-node';
import { renderCrdYaml } from '../../../hack/gen-crds.js';
import { CRD_FILES, unitSetCrd, workloadCrd } from '../../../src/api/crd.js';
import { LIMITS, MESSAGES, PATTERNS, type JSONSchema } from '../../../src/api/schema.js';

const CRDS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'crds');
const REGEN = 'crds/ is stale: run `npx tsc -p tsconfig.json && node dist/hack/gen-crds.js`';

describe('crds/ is generated from src/api', () => {
  const generated = renderCrdYaml();

  it('has exactly the generated files', () => {
    expect(
      readdirSync(CRDS)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    ).toEqual(Object.keys(generated).sort());
  });

  it.each(Object.keys(renderCrdYaml()))('%s equals the generated text', (file) => {
    const onDisk = readFileSync(path.join(CRDS, file), 'utf8');
    if (onDisk !== generated[file]) throw new Error(`${REGEN} (${file} differs)`);
  });

  it.each(CRD_FILES.map((c) => [c.file, c.crd] as const))('%s parses back to the source object', (file, crd) => {
    // Parse without apiVersion so client-node returns the raw object (its typed model drops x-kubernetes-* keys).
    const text = (generated[file] as string).replace(/^apiVersion: .*\n/m, '');
    const { apiVersion: _drop, ...rest } = crd;
    expect(JSON.parse(JSON.stringify(loadYaml(text)))).toEqual(JSON.parse(JSON.stringify(rest)));
  });
});

/** Every node of a schema, with its path. */
function* walk(s: JSONSchema, p = ''): Generator<[string, JSONSchema]> {
  yield [p, s];
  for (const [k, v] of Object.entries(s.properties ?? {})) yield* walk(v, `${p}.${k}`);
  if (s.items) yield* walk(s.items, `${p}[]`);
  if (typeof s.additionalProperties === 'object') yield* walk(s.additionalProperties, `${p}{}`);
}

describe('CRD shape', () => {
  const schema = workloadCrd.spec.versions[0]!.schema.openAPIV3Schema;
  const unitsSchema = schema.properties!.spec!.properties!.units!;
  const unit = unitsSchema.items!;

  it('names, scope, short names, categories, status subresource', () => {
    expect(workloadCrd.metadata.name).toBe('systemdworkloads.systemd.operators.dev');
    expect(workloadCrd.spec.names).toMatchObject({ kind: 'SystemdWorkload', shortNames: ['sdw'], categories: ['sdw-all'] });
    expect(unitSetCrd.spec.names).toMatchObject({ kind: 'SystemdUnitSet', shortNames: ['sdus'], categories: ['sdw-all'] });
    for (const c of [workloadCrd, unitSetCrd]) {
      expect(c.spec.scope).toBe('Namespaced');
      expect(c.spec.versions[0]).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    }
  });

  it('printer columns', () => {
    expect(workloadCrd.spec.versions[0]!.additionalPrinterColumns.map((c) => [c.name.toUpperCase(), c.jsonPath])).toEqual([
      ['DESIRED', '.status.desiredNodes'],
      ['READY', '.status.readyNodes'],
      ['UP-TO-DATE', '.status.updatedNodes'],
      ['RESTARTS', '.status.restarts'],
      ['PHASE', '.status.phase'],
      ['AGE', '.metadata.creationTimestamp'],
    ]);
    expect(unitSetCrd.spec.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority).map((c) => c.name.toUpperCase())).toEqual([
      'NODE',
      'PHASE',
      'HASH',
      'AGE',
    ]);
  });

  it('every string is bounded, every list is bounded (CEL cost), every unit-file string refuses control characters', () => {
    for (const s of [schema, unitSetCrd.spec.versions[0]!.schema.openAPIV3Schema]) {
      for (const [p, node] of walk(s)) {
        if (node.type === 'string' && !node.enum && !node.format && !['.apiVersion', '.kind'].includes(p))
          expect([p, node.maxLength]).toEqual([p, expect.any(Number)]);
        if (node.type === 'array') expect([p, node.maxItems]).toEqual([p, expect.any(Number)]);
      }
    }
    for (const [p, node] of walk(unit)) {
      // a pattern, or (schedule) a CEL matches() with a stricter regex
      if (node.type === 'string' && !node.enum)
        expect([p, node.pattern ?? node['x-kubernetes-validations']?.[0]?.rule]).toEqual([p, expect.any(String)]);
    }
  });

  it('units are a list-map keyed by name, bounded', () => {
    expect(unitsSchema).toMatchObject({
      maxItems: LIMITS.units,
      minItems: 1,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    });
    expect(unit.properties!.command).toMatchObject({ minItems: 1, maxItems: LIMITS.command });
    expect(unit.properties!.env).toMatchObject({ maxItems: LIMITS.env, 'x-kubernetes-list-map-keys': ['name'] });
    expect(unit.properties!.name!.pattern).toBe('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$');
  });

  it('CEL rules carry messages that name their field', () => {
    let n = 0;
    for (const s of [schema, unitSetCrd.spec.versions[0]!.schema.openAPIV3Schema]) {
      for (const [, node] of walk(s)) {
        for (const r of node['x-kubernetes-validations'] ?? []) {
          n++;
          expect(r.message ?? r.messageExpression).toMatch(/^[A-Za-z.[\]]+(\[\d*\])?[A-Za-z.[\]]*( and [A-Za-z.[\]]+)?: /);
        }
      }
    }
    expect(n).toBeGreaterThanOrEqual(10);
    expect(Object.values(MESSAGES).length).toBeGreaterThan(10);
  });

  it.each([
    ['noControl', 'ok value', true],
    ['noControl', 'a\nb', false],
    ['noControl', 'a\u0085b', false],
    ['noControl', 'tab\t', false],
    ['absolutePath', '/', true],
    ['absolutePath', '/var/lib/x', true],
    ['absolutePath', '/a/.hidden/..x/', true],
    ['absolutePath', 'var', false],
    ['absolutePath', '/a/../b', false],
    ['absolutePath', '/a/./b', false],
    ['absolutePath', '//a', false],
    ['absolutePath', '/a b', false],
    ['absolutePath', '/a"b', false],
    ['absolutePath', '/a\\b', false],
    ['user', 'nobody', true],
    ['user', '65534', true],
    ['user', 'svc-user.1', true],
    ['user', 'a b', false],
    ['user', '-x', false],
    ['user', 'x$', false],
    ['maxUnavailablePercent', '1%', true],
    ['maxUnavailablePercent', '100%', true],
    ['maxUnavailablePercent', '0%', false],
    ['maxUnavailablePercent', '101%', false],
    ['unitFileName', 'sdw-default_web_server.service', true],
    ['unitFileName', 'sdw-a_b.c_d.timer', true],
    ['unitFileName', '../x.service', false],
  ] as const)('PATTERNS.%s on %j -> %s', (name, value, ok) => {
    expect(new RegExp(PATTERNS[name]).test(value)).toBe(ok);
  });
});

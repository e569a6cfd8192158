// kubectl explain reads the CRDs' descriptions, and on-call reads kubectl
// explain: every property of every CRD in crds/ (the generated files users
// apply), every object an array holds and every object a map holds, has a
// description. The failure names each path that lacks one.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import type { JSONSchema } from '../../../src/api/schema.js';

const CRDS = path.resolve(import.meta.dirname, '..', '..', '..', 'crds');

interface Crd {
  spec: { names: { kind: string }; versions: Array<{ name: string; schema: { openAPIV3Schema: JSONSchema } }> };
}

/** The paths under s (named like kubectl explain: a.b, a.b[], a.b{}) whose schema has no description. */
export function undescribed(s: JSONSchema, at: string, isRoot = true): string[] {
  const out: string[] = [];
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    const here = `${at}.${name}`;
    // The API server refuses anything but type for a root's metadata; kubectl explain shows ObjectMeta's own.
    if (!p.description && !(isRoot && name === 'metadata')) out.push(here);
    out.push(...undescribed(p, here, false));
  }
  const nested: Array<[JSONSchema | boolean | undefined, string]> = [
    [s.items, `${at}[]`],
    [s.additionalProperties, `${at}{}`],
  ];
  for (const [child, here] of nested) {
    if (typeof child !== 'object') continue;
    if (child.type === 'object' && !child.description) out.push(here);
    out.push(...undescribed(child, here, false));
  }
  return out;
}

describe('every CRD field is described', () => {
  const files = readdirSync(CRDS).filter((f) => f.endsWith('.yaml'));

  it('finds the three CRDs', () =>
    expect(files.sort()).toEqual(['systemdunitsets.yaml', 'systemdworkloadpolicies.yaml', 'systemdworkloads.yaml']));

  it.each(files)('%s: no property, array item object or map value object without a description', (file) => {
    const crd = loadYaml<Crd>(readFileSync(path.join(CRDS, file), 'utf8'));
    for (const v of crd.spec.versions) {
      const root = v.schema.openAPIV3Schema;
      expect(root.description).toBeTruthy();
      expect({ version: v.name, undescribed: undescribed(root, crd.spec.names.kind) }).toEqual({ version: v.name, undescribed: [] });
    }
  });

  it('names what is missing, down to array items and map values', () => {
    const schema: JSONSchema = {
      type: 'object',
      properties: {
        a: { type: 'string' },
        metadata: { type: 'object' },
        o: { type: 'object', description: 'o', properties: { metadata: { type: 'object' } } },
        b: { type: 'array', description: 'b', items: { type: 'object', properties: { c: { type: 'integer', description: 'c' } } } },
        m: { type: 'object', description: 'm', additionalProperties: { type: 'object', properties: { d: { type: 'string' } } } },
      },
    };
    expect(undescribed(schema, 'X')).toEqual(['X.a', 'X.o.metadata', 'X.b[]', 'X.m{}', 'X.m{}.d']);
  });
});

// checkSchema (src/api/validate.ts) on its own: each structural keyword the CRD
// schemas use, on a small schema; and every CEL rule of the workload schema has
// an offline twin (otherwise validateWorkload would throw on the first object
// that reaches the rule).
import type { JSONSchema, ValidationRule } from '../../../src/api/schema.js';
import { workloadSchema } from '../../../src/api/schema.js';
import { CEL_RULES_WITH_TWINS, checkSchema } from '../../../src/api/validate.js';

function issues(s: JSONSchema, v: unknown): string[] {
  const out: string[] = [];
  checkSchema(s, v, 'x', (field, message) => out.push(`${field}: ${message}`));
  return out;
}

describe('checkSchema', () => {
  it.each<[string, JSONSchema, unknown, string[]]>([
    ['type', { type: 'integer' }, 1.5, ['x: must be an integer']],
    ['enum before type', { type: 'string', enum: ['a', 'b'] }, true, ['x: must be one of "a", "b"']],
    [
      'maxLength and pattern (no message known)',
      { type: 'string', maxLength: 2, pattern: '^a+$' },
      'abc',
      ['x: must be at most 2 characters', 'x: must match ^a+$'],
    ],
    ['minLength 1', { type: 'string', minLength: 1, pattern: '^a+$' }, '', ['x: must not be empty']],
    ['minimum only', { type: 'integer', minimum: 1 }, 0, ['x: must be at least 1']],
    ['int-or-string', { 'x-kubernetes-int-or-string': true }, true, ['x: must be an integer or a string']],
    ['int-or-string maxLength', { 'x-kubernetes-int-or-string': true, maxLength: 1 }, 'ab', ['x: must be at most 1 character']],
    [
      'required and unknown',
      { type: 'object', required: ['a'], properties: { a: { type: 'string' } } },
      { b: 1 },
      ['x.a: is required', 'x.b: unknown field'],
    ],
    ['no properties: anything', { type: 'object' }, { b: 1 }, []],
    [
      'additionalProperties and maxProperties',
      { type: 'object', maxProperties: 1, additionalProperties: { type: 'string' } },
      { a: 'x', b: 2 },
      ['x: must have at most 1 entry', 'x["b"]: must be a string'],
    ],
    [
      'items, min/maxItems',
      { type: 'array', maxItems: 1, items: { type: 'string' } },
      [1, 'a'],
      ['x: must have at most 1 item', 'x[0]: must be a string'],
    ],
    [
      'list-type set',
      { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
      ['a', 'a'],
      ["x[1]: duplicate value 'a'"],
    ],
    [
      'list-type map',
      { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['k'] },
      [{ k: 'a' }, { k: 'a' }],
      ["x[1].k: duplicate value 'a'"],
    ],
  ])('%s', (_name, schema, value, expected) => {
    expect(issues(schema, value)).toEqual(expected);
  });

  it('refuses a CEL rule it has no twin for', () => {
    expect(() =>
      issues({ type: 'string', 'x-kubernetes-validations': [{ rule: 'self != "x"', message: 'a rule nobody wrote a twin for' }] }, 'y'),
    ).toThrow(/no offline twin for the CEL rule at x: a rule nobody wrote a twin for/);
  });

  it('every CEL rule of the SystemdWorkload schema has an offline twin', () => {
    const rules: ValidationRule[] = [];
    const walk = (s: JSONSchema): void => {
      rules.push(...(s['x-kubernetes-validations'] ?? []));
      Object.values(s.properties ?? {}).forEach(walk);
      if (s.items) walk(s.items);
      if (typeof s.additionalProperties === 'object') walk(s.additionalProperties);
    };
    walk(workloadSchema);
    expect(rules.length).toBeGreaterThan(10);
    expect(rules.map((r) => r.message ?? r.rule).filter((m) => !CEL_RULES_WITH_TWINS.has(m))).toEqual([]);
  });
});

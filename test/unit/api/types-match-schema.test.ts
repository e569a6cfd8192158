// The schema (src/api/schema.ts) is the one source of the API; the TypeScript
// types (src/api/types.ts) are checked against it here, through the TypeScript
// compiler: the same fields, the same optionality (required in the schema =
// not optional in the type; a schema default may make a type field required,
// the API server fills it), the same enums, the same scalar types, the same
// list and map shapes. Any difference fails with the path and what differs.
//
// Checked rather than generated: the types carry the names the code uses
// (UnitSpec, Toleration, RestartPolicy...) and the comments that say why; a
// generator would need those in the schema too. The test is the contract.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { policySchema, unitSetSchema, workloadSchema, type JSONSchema } from '../../../src/api/schema.js';

const TYPES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/api/types.ts');

const program = ts.createProgram([TYPES], {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: [],
  skipLibCheck: true,
});
const checker = program.getTypeChecker();
const source = program.getSourceFile(TYPES)!;

function exported(name: string): ts.Type {
  const sym = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).find((s) => s.name === name);
  if (!sym) throw new Error(`src/api/types.ts exports no ${name}`);
  return checker.getDeclaredTypeOfSymbol(sym);
}

const show = (t: ts.Type): string => checker.typeToString(t);
const isLiteralUnion = (t: ts.Type, flag: ts.TypeFlags): boolean => (t.isUnion() ? t.types : [t]).every((x) => (x.flags & flag) !== 0);
const literals = (t: ts.Type): unknown[] => (t.isUnion() ? t.types : [t]).map((x) => (x.isLiteral() ? x.value : undefined)).sort();

function isArray(t: ts.Type): boolean {
  const name = t.getSymbol()?.name;
  return (name === 'Array' || name === 'ReadonlyArray') && t.getNumberIndexType() !== undefined;
}

/** The differences between schema s and type t at path (empty: they agree). */
function compare(s: JSONSchema, type: ts.Type, at: string): string[] {
  const t = checker.getNonNullableType(type);
  const differ = (what: string) => [`${at}: schema ${what}, type ${show(t)}`];
  if (s['x-kubernetes-int-or-string']) {
    const kinds = (t.isUnion() ? t.types : [t]).map((x) => x.flags & (ts.TypeFlags.String | ts.TypeFlags.Number)).sort();
    return kinds.join() === [ts.TypeFlags.String, ts.TypeFlags.Number].sort().join() ? [] : differ('int-or-string');
  }
  if (s.enum) {
    const want = [...s.enum].sort();
    return JSON.stringify(literals(t)) === JSON.stringify(want) ? [] : differ(`enum ${JSON.stringify(want)}`);
  }
  switch (s.type) {
    case 'string':
      // apiVersion and kind are typed as their one literal.
      return isLiteralUnion(t, ts.TypeFlags.String | ts.TypeFlags.StringLiteral) ? [] : differ('string');
    case 'integer':
    case 'number':
      return t.flags & ts.TypeFlags.Number ? [] : differ(s.type);
    case 'boolean':
      return t.flags & ts.TypeFlags.Boolean || isLiteralUnion(t, ts.TypeFlags.BooleanLiteral) ? [] : differ('boolean');
    case 'array':
      if (!isArray(t)) return differ('array');
      return s.items ? compare(s.items, t.getNumberIndexType()!, `${at}[]`) : [];
    case 'object':
      return compareObject(s, t, at);
    default:
      return differ(`without a type (${JSON.stringify(s)})`);
  }
}

/** Top-level fields every object read from the API server has, whatever its schema says. */
const SERVER_SET = new Set(['apiVersion', 'kind', 'metadata']);

function compareObject(s: JSONSchema, t: ts.Type, at: string): string[] {
  if (!(t.flags & ts.TypeFlags.Object) || isArray(t)) return [`${at}: schema object, type ${show(t)}`];
  if (typeof s.additionalProperties === 'object') {
    const value = t.getStringIndexType();
    return value ? compare(s.additionalProperties, value, `${at}{}`) : [`${at}: schema map, type ${show(t)} has no string index`];
  }
  // An object without properties (metadata) is the API server's: not ours to restate.
  if (!s.properties) return [];
  const out: string[] = [];
  const props = new Map(t.getProperties().map((p) => [p.name, p]));
  for (const [name, sub] of Object.entries(s.properties)) {
    const p = props.get(name);
    if (!p) {
      out.push(`${at}.${name}: in the schema, not in the type`);
      continue;
    }
    const optional = (p.flags & ts.SymbolFlags.Optional) !== 0;
    const required = s.required?.includes(name) ?? false;
    if (required && optional) out.push(`${at}.${name}: required in the schema, optional in the type`);
    const serverSet = !at.includes('.') && SERVER_SET.has(name);
    if (!required && !optional && sub.default === undefined && !serverSet)
      out.push(`${at}.${name}: optional in the schema, required in the type`);
    out.push(...compare(sub, checker.getTypeOfSymbol(p), `${at}.${name}`));
  }
  for (const name of props.keys()) if (!(name in s.properties)) out.push(`${at}.${name}: in the type, not in the schema`);
  return out;
}

describe('src/api/types.ts says what src/api/schema.ts says', () => {
  it.each([
    ['SystemdWorkload', workloadSchema],
    ['SystemdUnitSet', unitSetSchema],
    ['SystemdWorkloadPolicy', policySchema],
  ] as const)('%s', (name, schema) => {
    expect(compare(schema, exported(name), name)).toEqual([]);
  });

  it('finds a difference when there is one (a field missing, an enum changed, optionality flipped)', () => {
    const unit = workloadSchema.properties!.spec!.properties!.units!.items!;
    const changed: JSONSchema = {
      ...unit,
      required: [...unit.required!, 'user'],
      properties: { ...unit.properties, type: { type: 'string', enum: ['service'] }, image: { type: 'string' } },
    };
    expect(compare(changed, exported('UnitSpec'), 'UnitSpec')).toEqual([
      'UnitSpec.type: schema enum ["service"], type UnitType',
      'UnitSpec.user: required in the schema, optional in the type',
      'UnitSpec.image: in the schema, not in the type',
    ]);
  });
});

import { checkDocuments, formatProblem, parseDocuments, renderWorkloadText, splitDocuments } from '../../../src/cli/documents.js';
import type { SystemdWorkload } from '../../../src/api/types.js';
import { render } from '../../../src/render/index.js';

const GOOD = `apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: web, namespace: default}
spec:
  nodeSelector: {role: web}
  units:
  - name: server
    command: ["/bin/sleep", "infinity"]
`;

function check(text: string, file = 'x.yaml'): string[] {
  const { docs, problems } = parseDocuments(file, text);
  return [...problems, ...checkDocuments(docs).problems].map(formatProblem);
}

describe('splitDocuments', () => {
  it('splits at --- lines, skips empty and comment-only documents, keeps start lines', () => {
    const pieces = splitDocuments(`# header\n---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n`);
    expect(pieces.map((p) => [p.text.trim(), p.line])).toEqual([
      ['a: 1', 3],
      ['b: 2', 7],
    ]);
  });
});

describe('validate messages', () => {
  it('accepts a valid workload and skips other kinds', () => {
    const { docs } = parseDocuments('x.yaml', `${GOOD}---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n`);
    const r = checkDocuments(docs);
    expect(r.problems).toEqual([]);
    expect(r.workloads.map((w) => w.workload.metadata.name)).toEqual(['web']);
  });

  it('names file, document (with kind/name) and field', () => {
    const bad = GOOD.replace('/bin/sleep', 'sleep');
    expect(check(`${GOOD.replace('name: web', 'name: ok')}---\n${bad}`)).toEqual([
      "x.yaml: document 2 (SystemdWorkload default/web): spec.units[0].command[0]: must be an absolute path to an executable (starting with '/', not ending with '/', without '$')",
    ]);
  });

  it('reports admission-level problems: cron, cycles, quantities, unknown fields, label types', () => {
    const text = `apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: job, labels: {enabled: true}}
spec:
  units:
  - name: a
    command: [/bin/true]
    schedule: "61 * * * *"
    after: [b]
    resources: {limits: {memory: 12Xi}}
  - name: b
    command: [/bin/true]
    after: [a]
    bogus: 1
extra: {}
`;
    const msgs = check(text);
    const at = 'x.yaml: document 1 (SystemdWorkload job): ';
    expect(msgs).toEqual(
      expect.arrayContaining([
        `${at}extra: unknown field`,
        `${at}metadata.labels["enabled"]: must be a string (quote it: "true")`,
        `${at}spec.units[1].bogus: unknown field`,
        `${at}spec.units[0].after: ordering cycle: a -> b -> a`,
      ]),
    );
    expect(msgs.some((m) => m.startsWith(`${at}spec.units[0].schedule`))).toBe(true);
    expect(msgs.some((m) => m.startsWith(`${at}spec.units[0].resources.limits.memory`))).toBe(true);
  });

  it('reports YAML errors per document and still checks the others', () => {
    const msgs = check(`a: [\n---\n${GOOD.replace('/bin/sleep', 'sleep')}`);
    expect(msgs[0]).toMatch(/^x\.yaml: document 1: invalid YAML \(document starts at line 1\): /);
    expect(msgs[1]).toMatch(/^x\.yaml: document 2 \(SystemdWorkload default\/web\): spec\.units\[0\]\.command\[0\]/);
  });

  it('rejects SystemdUnitSets, unknown kinds of our group, non-mappings and duplicates', () => {
    expect(check('apiVersion: systemd.operators.dev/v1alpha1\nkind: SystemdUnitSet\nmetadata: {name: a}\n')[0]).toBe(
      'x.yaml: document 1 (SystemdUnitSet a): kind: SystemdUnitSet objects are written by the controller; write a SystemdWorkload',
    );
    expect(check('apiVersion: systemd.operators.dev/v1alpha1\nkind: Other\nmetadata: {name: a}\n')[0]).toMatch(/kind: unknown kind/);
    expect(check('- a\n- b\n')[0]).toBe('x.yaml: document 1: must be a mapping with apiVersion, kind, metadata and spec');
    expect(check(`${GOOD}---\n${GOOD}`)).toEqual([
      'x.yaml: document 2 (SystemdWorkload default/web): metadata.name: duplicate of x.yaml document 1',
    ]);
  });
});

describe('render text', () => {
  const w = parseDocuments('x.yaml', GOOD).docs[0]!.value as SystemdWorkload;

  it('prints exactly the files render() produces, each after a # FILE: line', () => {
    const text = renderWorkloadText(w, { namespace: 'default', node: 'n1', nodeLabels: { role: 'web' } });
    const spec = render(w, 'n1');
    const files = text.split(/^# FILE: /m).slice(1);
    expect(files.map((f) => f.slice(0, f.indexOf('\n')))).toEqual(['sdw-default_web_server.service']);
    expect(files[0]!.slice(files[0]!.indexOf('\n') + 1)).toBe(spec.units[0]!.files[0]!.content);
    expect(text.split('\n')[0]).toBe(`# SystemdWorkload default/web on node n1: hash ${spec.shortHash}`);
  });

  it('says when the node is not selected, and notes selectors it could not check', () => {
    expect(renderWorkloadText(w, { namespace: 'default', node: 'n1', nodeLabels: { role: 'db' } })).toBe(
      '# SystemdWorkload default/web: not scheduled on node n1 (nodeSelector role=web, node has role=db)\n',
    );
    expect(renderWorkloadText(w, { namespace: 'default', node: 'n1' })).toContain('# note: nodeSelector role=web not checked');
  });

  it('uses the given namespace for documents without one', () => {
    const noNs = { ...w, metadata: { name: 'web' } };
    expect(renderWorkloadText(noNs, { namespace: 'team-a' })).toContain('# FILE: sdw-team-a_web_server.service');
  });
});

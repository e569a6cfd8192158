// Pure: multi-document YAML -> the SystemdWorkloads in it, the problems admission
// would report (validateWorkload + structural checks), and the rendered unit files.
// Every message names the file, the document (1-based, counting non-empty
// documents) with its kind/name, and the field:
//   examples/x.yaml: document 2 (SystemdWorkload default/web): spec.units[0].command[0]: must be an absolute path
import { loadAllYaml } from '@kubernetes/client-node';
import { GROUP, POLICY_KIND, UNITSET_KIND, WORKLOAD_KIND, type DeliveredFile, type SystemdWorkload } from '../api/types.js';
import type { FieldIssue } from '../api/errors.js';
import { validateWorkload } from '../api/validate.js';
import { render } from '../render/unit.js';

export interface Doc {
  file: string;
  /** 1-based among the file's non-empty documents. */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
  value: unknown;
}

export interface Problem {
  file: string;
  index?: number;
  label?: string;
  field?: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const parts = [p.file];
  if (p.index !== undefined) parts.push(`document ${p.index}${p.label ? ` (${p.label})` : ''}`);
  if (p.field) parts.push(p.field);
  return `${parts.join(': ')}: ${p.message}`;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits YAML text at document markers ("---" at column 0), keeping each piece's first line number. */
export function splitDocuments(text: string): Array<{ text: string; line: number }> {
  const lines = text.split(/\r?\n/);
  const pieces: Array<{ text: string; line: number }> = [];
  let cur: string[] = [];
  let start = 1;
  lines.forEach((l, i) => {
    if (/^---(\s|$)/.test(l) || /^\.\.\.\s*$/.test(l)) {
      pieces.push({ text: cur.join('\n'), line: start });
      const rest = l.startsWith('---') ? l.slice(3) : '';
      cur = rest.trim() ? [rest] : [];
      start = i + (rest.trim() ? 1 : 2);
    } else {
      cur.push(l);
    }
  });
  pieces.push({ text: cur.join('\n'), line: start });
  return pieces.filter((p) => p.text.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('#') && !l.startsWith('%')));
}

/** Parses every document of a file; a document that is not YAML is a problem, the others still parse. */
export function parseDocuments(file: string, text: string): { docs: Doc[]; problems: Problem[] } {
  const docs: Doc[] = [];
  const problems: Problem[] = [];
  splitDocuments(text).forEach((piece, i) => {
    const index = i + 1;
    let values: unknown[];
    try {
      values = loadAllYaml(piece.text);
    } catch (err) {
      if (err instanceof TypeError)
        values = [null]; // client-node cannot deserialize a null document
      else {
        const msg = (err as Error).message.split('\n')[0] ?? String(err);
        problems.push({ file, index, message: `invalid YAML (document starts at line ${piece.line}): ${msg}` });
        return;
      }
    }
    for (const value of values) docs.push({ file, index, line: piece.line, value });
  });
  return { docs, problems };
}

export function docLabel(v: unknown): string | undefined {
  if (!isObj(v)) return undefined;
  const kind = typeof v.kind === 'string' ? v.kind : '<no kind>';
  const meta = isObj(v.metadata) ? v.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '<unnamed>';
  return typeof meta.namespace === 'string' ? `${kind} ${meta.namespace}/${name}` : `${kind} ${name}`;
}

const TOP_LEVEL = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];

function stringMap(v: unknown, field: string, issues: FieldIssue[]): void {
  if (v === undefined || v === null) return;
  if (!isObj(v)) {
    issues.push({ field, message: 'must be a map of strings' });
    return;
  }
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string')
      issues.push({ field: `${field}[${JSON.stringify(k)}]`, message: `must be a string (quote it: "${String(val)}")` });
  }
}

/** The structural checks the API server makes before the CRD schema, for one document. */
export function structuralIssues(v: unknown): FieldIssue[] {
  if (!isObj(v)) return [{ field: '', message: 'must be a mapping with apiVersion, kind, metadata and spec' }];
  const issues: FieldIssue[] = [];
  for (const k of Object.keys(v)) if (!TOP_LEVEL.includes(k)) issues.push({ field: k, message: 'unknown field' });
  if (isObj(v.metadata)) {
    stringMap(v.metadata.labels, 'metadata.labels', issues);
    stringMap(v.metadata.annotations, 'metadata.annotations', issues);
  }
  return issues;
}

/** Whether a document is one of ours (any kind of our API group). */
function ourGroup(v: Obj): boolean {
  return typeof v.apiVersion === 'string' && v.apiVersion.split('/')[0] === GROUP;
}

export interface CheckResult {
  workloads: Array<{ doc: Doc; workload: SystemdWorkload }>;
  problems: Problem[];
}

/**
 * Checks documents as admission would. Documents of other API groups are skipped
 * (a file may hold a Namespace too); in ours only SystemdWorkload is user-written
 * (a SystemdWorkloadPolicy is skipped too: its CRD schema checks it).
 */
export function checkDocuments(docs: readonly Doc[]): CheckResult {
  const workloads: CheckResult['workloads'] = [];
  const problems: Problem[] = [];
  const seen = new Map<string, Doc>();
  for (const doc of docs) {
    const v = doc.value;
    const at = { file: doc.file, index: doc.index, label: docLabel(v) };
    if (!isObj(v)) {
      problems.push({ ...at, message: 'must be a mapping with apiVersion, kind, metadata and spec' });
      continue;
    }
    if (v.apiVersion === undefined) problems.push({ ...at, field: 'apiVersion', message: 'is required' });
    if (v.kind === undefined) problems.push({ ...at, field: 'kind', message: 'is required' });
    const isWorkload = v.kind === WORKLOAD_KIND && (ourGroup(v) || v.apiVersion === undefined);
    if (!isWorkload) {
      // A SystemdWorkloadPolicy is a cluster admin's, checked by its CRD schema on apply.
      if (ourGroup(v) && v.kind !== POLICY_KIND) {
        const message =
          v.kind === UNITSET_KIND
            ? `${UNITSET_KIND} objects are written by the controller; write a ${WORKLOAD_KIND}`
            : `unknown kind for ${GROUP}; expected ${WORKLOAD_KIND}`;
        problems.push({ ...at, field: 'kind', message });
      }
      continue;
    }
    const issues = [...structuralIssues(v), ...validateWorkload(v)];
    for (const i of issues) problems.push({ ...at, field: i.field || undefined, message: i.message });
    const meta = isObj(v.metadata) ? v.metadata : {};
    const key = `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${String(meta.name)}`;
    const prev = seen.get(key);
    if (prev) problems.push({ ...at, field: 'metadata.name', message: `duplicate of ${prev.file} document ${prev.index}` });
    else seen.set(key, doc);
    if (issues.length === 0) workloads.push({ doc, workload: v as unknown as SystemdWorkload });
  }
  return { workloads, problems };
}

export interface RenderOptions {
  /** Namespace for documents without one (as kubectl apply uses the context's). */
  namespace: string;
  node?: string;
  /** Labels of the node, for nodeSelector matching (kubernetes.io/hostname=<node> is implied). */
  nodeLabels?: Record<string, string>;
}

/** The files of one workload, each preceded by "# FILE: <name>"; a comment line for workloads the node would not get. */
export function renderWorkloadText(w: SystemdWorkload, o: RenderOptions): string {
  const ns = w.metadata.namespace ?? o.namespace;
  const wl: SystemdWorkload = { ...w, metadata: { ...w.metadata, namespace: ns } };
  const id = `${WORKLOAD_KIND} ${ns}/${w.metadata.name}`;
  const lines: string[] = [];
  if (o.node !== undefined) {
    const labels: Record<string, string> = { 'kubernetes.io/hostname': o.node, ...o.nodeLabels };
    const unknown: string[] = [];
    for (const [k, v] of Object.entries(w.spec.nodeSelector ?? {})) {
      if (!(k in labels)) unknown.push(`${k}=${v}`);
      else if (labels[k] !== v) {
        return `# ${id}: not scheduled on node ${o.node} (nodeSelector ${k}=${v}, node has ${k}=${labels[k]})\n`;
      }
    }
    if (unknown.length) lines.push(`# note: nodeSelector ${unknown.join(', ')} not checked (pass --node-label to check)`);
  }
  const spec = render(wl, o.node ?? '');
  const where = o.node !== undefined ? `node ${o.node}` : 'every selected node (the files do not depend on the node)';
  lines.unshift(`# ${id} on ${where}: hash ${spec.shortHash}`);
  let text = lines.join('\n') + '\n';
  for (const f of spec.units.flatMap((u) => u.files)) {
    text += `# FILE: ${f.name}\n${f.content}${f.content.endsWith('\n') ? '' : '\n'}`;
  }
  for (const f of spec.files ?? []) text += dataFileText(f);
  return text;
}

/**
 * A file beside the units: inline content as is; a ConfigMap's or Secret's is
 * resolved by the controller (a Secret's is sealed for each node, never shown).
 */
function dataFileText(f: DeliveredFile): string {
  const owner = `${f.owner ?? 'root'}${f.group ? `:${f.group}` : ''}`;
  const head = `# DATA FILE: ${f.path} (mode ${f.mode}, owner ${owner}, from ${f.source ?? 'inline'})\n`;
  if (f.content !== undefined) return `${head}${f.content}${f.content.endsWith('\n') || f.content === '' ? '' : '\n'}`;
  if (f.source?.includes('secret/')) return `${head}# (a Secret value: sealed for each node by the controller, not shown)\n`;
  return `${head}# (resolved from the cluster by the controller)\n`;
}

/** Parses key=value node labels; throws a message for a malformed one. */
export function parseLabels(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of items) {
    const eq = it.indexOf('=');
    if (eq <= 0) throw new Error(`invalid label '${it}': expected key=value`);
    out[it.slice(0, eq)] = it.slice(eq + 1);
  }
  return out;
}

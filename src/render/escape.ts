// systemd escaping, by systemd's own rules (systemd.syntax(7) "Quoting",
// systemd.service(5) "Command lines", systemd.unit(5) "Specifiers").
//
// How systemd 252 reads the lines we write (src/core/load-fragment.c):
//  - a line ending in "\" is joined with the next one, and a value is the rest of
//    the line after "=": a newline or carriage return in a value would start a new
//    directive. We never emit a control character: the CRD rejects them at
//    admission, and every function here throws on them (defence in depth).
//  - ExecStart=: the first word is unquoted (EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE), a
//    leading "@-:+!" would be a prefix, so command[0] must start with "/". The other
//    words: a bare ";" (unquoted) separates commands, so every word is quoted; each
//    word is unquoted, C-unescaped, then specifier-expanded ("%%" -> "%"); at exec
//    time "$$" -> "$" and "$VAR"/"${VAR}" expand. So inside double quotes we escape
//    \ -> \\, " -> \", % -> %%, $ -> $$. command[0] becomes the executable path,
//    which is not env-expanded, so "$" is refused there.
//  - Environment=: words unquoted + C-unescaped + specifier-expanded, NO "$"
//    expansion (systemd.exec(5): "the $ character has no special meaning"), so
//    only \ " % are escaped.
//  - path lists (ReadOnlyPaths=...): quoted words, specifier-expanded.
//  - single-value settings (User=, WorkingDirectory=, Description=) take the rest
//    of the line verbatim (leading/trailing whitespace stripped) with specifiers
//    expanded: only % is escaped, and their inputs are restricted by pattern.
import { FieldError } from '../api/errors.js';

/** C0 controls, DEL and C1 controls: never allowed in anything that reaches a unit file. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Throws a FieldError if value holds a control character or is not valid Unicode. */
export function assertSafeString(value: string, field: string): void {
  if (typeof value !== 'string') throw new FieldError(field, `must be a string, got ${typeof value}`);
  const m = CONTROL_CHARS.exec(value);
  if (m) {
    const code = m[0].charCodeAt(0).toString(16).padStart(2, '0');
    throw new FieldError(field, `must not contain control characters (found \\x${code} at offset ${m.index})`);
  }
  if (LONE_SURROGATE.test(value)) throw new FieldError(field, 'must be valid Unicode (lone surrogate)');
}

/** Escapes systemd specifiers: % -> %%. */
export function escapeSpecifiers(value: string, field = 'value'): string {
  assertSafeString(value, field);
  return value.replace(/%/g, '%%');
}

function quote(value: string, field: string, escapeDollar: boolean): string {
  assertSafeString(value, field);
  let out = value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/%/g, '%%');
  if (escapeDollar) out = out.replace(/\$/g, '$$$$');
  return `"${out}"`;
}

/** One ExecStart= argument: double-quoted, \ " escaped, % -> %%, $ -> $$. */
export function quoteExecArg(value: string, field = 'command'): string {
  return quote(value, field, true);
}

/**
 * The value of ExecStart= for an argv: every word quoted, so that no word can be
 * read as a prefix, a ";" separator, a specifier or a variable.
 */
export function execCommandLine(argv: readonly string[], field = 'command'): string {
  if (argv.length === 0) throw new FieldError(field, 'must have at least one item');
  const path = argv[0] as string;
  assertSafeString(path, `${field}[0]`);
  if (!path.startsWith('/')) throw new FieldError(`${field}[0]`, 'must be an absolute path');
  if (path.includes('$')) throw new FieldError(`${field}[0]`, 'must not contain "$" (the executable path is not variable-expanded)');
  return argv.map((a, i) => quoteExecArg(a, `${field}[${i}]`)).join(' ');
}

/** One Environment= word: "NAME=value", \ " escaped, % -> %% ($ is literal in Environment=). */
export function environmentAssignment(name: string, value: string, field = 'env'): string {
  if (!ENV_NAME_RE.test(name)) throw new FieldError(`${field}.name`, 'must match ^[A-Za-z_][A-Za-z0-9_]*$');
  assertSafeString(value, `${field}.value`);
  return quote(`${name}=${value}`, field, false);
}

/** A space-separated list of quoted paths (ReadOnlyPaths=, ReadWritePaths=). */
export function quotePathList(paths: readonly string[], field = 'paths'): string {
  return paths.map((p, i) => quote(p, `${field}[${i}]`, false)).join(' ');
}

export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

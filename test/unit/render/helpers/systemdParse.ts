// A pure model of how systemd 252 reads what render/escape.ts writes, written from
// systemd.syntax(7) and src/basic/extract-word.c + src/core/load-fragment.c:
// extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE), then specifier expansion,
// then (ExecStart only, at exec time) "$$" -> "$".

const WHITESPACE = ' \t\n\r';

/** extract_first_word with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE; returns [word, rest] or undefined at the end. */
export function extractFirstWord(p: string): [string, string] | undefined {
  let i = 0;
  while (i < p.length && WHITESPACE.includes(p[i] as string)) i++;
  if (i >= p.length) return undefined;
  let word = '';
  let quote: '"' | "'" | undefined;
  for (; i < p.length; i++) {
    const c = p[i] as string;
    if (c === '\\') {
      const [s, used] = cunescapeOne(p.slice(i + 1));
      word += s;
      i += used;
      continue;
    }
    if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      continue;
    }
    if (WHITESPACE.includes(c)) break;
    word += c;
  }
  if (quote) throw new Error('unbalanced quotes');
  return [word, p.slice(i)];
}

/** One C escape after the backslash; returns [decoded, characters consumed]. */
function cunescapeOne(s: string): [string, number] {
  const c = s[0];
  const simple: Record<string, string> = {
    a: '\x07',
    b: '\b',
    f: '\f',
    n: '\n',
    r: '\r',
    t: '\t',
    v: '\v',
    '\\': '\\',
    '"': '"',
    "'": "'",
    s: ' ',
  };
  if (c === undefined) throw new Error('trailing backslash');
  if (c in simple) return [simple[c] as string, 1];
  if (c === 'x' && /^[0-9a-fA-F]{2}/.test(s.slice(1))) return [String.fromCharCode(parseInt(s.slice(1, 3), 16)), 3];
  if (/^[0-7]{3}/.test(s)) return [String.fromCharCode(parseInt(s.slice(0, 3), 8)), 3];
  if (c === 'u' && /^[0-9a-fA-F]{4}/.test(s.slice(1))) return [String.fromCodePoint(parseInt(s.slice(1, 5), 16)), 5];
  if (c === 'U' && /^[0-9a-fA-F]{8}/.test(s.slice(1))) return [String.fromCodePoint(parseInt(s.slice(1, 9), 16)), 9];
  throw new Error(`invalid escape \\${c}`);
}

/** Specifier expansion for text without real specifiers: "%%" -> "%", any other "%x" is an error here. */
export function expandSpecifiers(s: string): string {
  return s.replace(/%(.?)/g, (_m, c: string) => {
    if (c === '%') return '%';
    throw new Error(`unexpected specifier %${c}`);
  });
}

/** replace_env_argv for a word when no variable is set: "$$" -> "$"; "$X"/"${X}" would expand. */
export function expandEnvNoVars(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '$') {
      if (s[i + 1] === '$') {
        out += '$';
        i++;
        continue;
      }
      if (s[i + 1] === '{' || /[A-Za-z_]/.test(s[i + 1] ?? '')) throw new Error('variable expansion would happen');
    }
    out += s[i];
  }
  return out;
}

/** A unit-file line as systemd splits it into key and value (value stripped). */
export function splitLine(line: string): [string, string] {
  const eq = line.indexOf('=');
  return [line.slice(0, eq).trim(), line.slice(eq + 1).trim()];
}

/** The argv systemd runs for an ExecStart= value (one command, no ";"). */
export function parseExecStart(value: string): string[] {
  const argv: string[] = [];
  let p = value;
  let first = true;
  for (;;) {
    if (!first) {
      const q = p.replace(/^[ \t]+/, '');
      if (q[0] === ';' && (q.length === 1 || WHITESPACE.includes(q[1] as string))) throw new Error('unquoted ; separator');
    }
    const r = extractFirstWord(p);
    if (!r) break;
    const [w, rest] = r;
    if (first && /^[@\-:+!]/.test(w)) throw new Error(`command prefix in ${w}`);
    argv.push(expandEnvNoVars(expandSpecifiers(w)));
    p = rest;
    first = false;
  }
  return argv;
}

/** The assignments of an Environment= value. */
export function parseEnvironment(value: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let p = value;
  for (;;) {
    const r = extractFirstWord(p);
    if (!r) break;
    const w = expandSpecifiers(r[0]);
    const eq = w.indexOf('=');
    out.push([w.slice(0, eq), w.slice(eq + 1)]);
    p = r[1];
  }
  return out;
}

/** A list of quoted words (ReadOnlyPaths=). */
export function parseWordList(value: string): string[] {
  const out: string[] = [];
  let p = value;
  for (;;) {
    const r = extractFirstWord(p);
    if (!r) break;
    out.push(expandSpecifiers(r[0]));
    p = r[1];
  }
  return out;
}

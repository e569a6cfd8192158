// systemd names its unit objects /org/freedesktop/systemd1/unit/<escaped name>,
// escaping every byte that is not [A-Za-z0-9] (and a leading digit) as _XX
// (lower-case hex of the UTF-8 byte); the empty string becomes "_".
// Signals carry only the path, so the adapter has to decode it to know the unit.

export const UNIT_PATH_PREFIX = '/org/freedesktop/systemd1/unit/';

function isAlnum(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}
function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** systemd's bus_label_escape(). */
export function escapePathLabel(label: string): string {
  if (label === '') return '_';
  const bytes = Buffer.from(label, 'utf8');
  let out = '';
  bytes.forEach((b, i) => {
    if (isAlnum(b) && !(i === 0 && isDigit(b))) out += String.fromCharCode(b);
    else out += '_' + b.toString(16).padStart(2, '0');
  });
  return out;
}

/** systemd's bus_label_unescape(); undefined for a malformed label. */
export function unescapePathLabel(label: string): string | undefined {
  if (label === '_') return '';
  const bytes: number[] = [];
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c === 0x5f /* _ */) {
      const hex = label.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (isAlnum(c)) {
      bytes.push(c);
    } else {
      return undefined;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function unitObjectPath(unitName: string): string {
  return UNIT_PATH_PREFIX + escapePathLabel(unitName);
}

/** The unit name of a unit object path; undefined for any other path. */
export function unitNameFromPath(objectPath: string): string | undefined {
  if (!objectPath.startsWith(UNIT_PATH_PREFIX)) return undefined;
  const label = objectPath.slice(UNIT_PATH_PREFIX.length);
  if (label === '' || label.includes('/')) return undefined;
  return unescapePathLabel(label);
}

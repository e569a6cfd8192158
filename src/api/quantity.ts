// Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource), parsed
// exactly into a rational number of bigints:
//   <quantity> ::= <sign>? <digits> ( "." <digits>? )? <suffix> | <sign>? "." <digits> <suffix>
//   <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei | m | "" | k | M | G | T | P | E | (e|E) <sign>? <digits>
// Like Kubernetes' Value()/MilliValue(), conversions to integers round up.
import { FieldError } from './errors.js';

export interface Quantity {
  /** value = numerator / denominator, denominator > 0 (not necessarily reduced). */
  numerator: bigint;
  denominator: bigint;
}

const QUANTITY_RE = /^([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|m|k|M|G|T|P|E|)$/;
const BINARY: Record<string, bigint> = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n };
const DECIMAL: Record<string, number> = { m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
/** Beyond this the value cannot be a resource limit anyway, and 10**exp stays cheap. */
const MAX_EXPONENT = 30;

/** Parses a quantity given as a string ("256Mi", "500m", "1e3") or a JSON number. */
export function parseQuantity(input: string | number, field = 'quantity'): Quantity {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new FieldError(field, `'${input}' is not a valid quantity`);
    text = Number.isInteger(input) && Math.abs(input) <= Number.MAX_SAFE_INTEGER ? input.toFixed(0) : String(input);
  } else if (typeof input === 'string') {
    text = input;
  } else {
    throw new FieldError(field, `must be a quantity (string or number), got ${typeof input}`);
  }
  const m = QUANTITY_RE.exec(text);
  if (!m) throw new FieldError(field, `'${text}' is not a valid quantity (e.g. 256Mi, 1G, 500m, 1.5, 1e3)`);
  const [, sign, num, suffix] = m as unknown as [string, string, string, string];
  const [intPart, fracPart = ''] = num.split('.');
  let numerator = BigInt(`${intPart || '0'}${fracPart}` || '0');
  let denominator = 10n ** BigInt(fracPart.length);
  if (suffix in BINARY) {
    numerator *= BINARY[suffix] as bigint;
  } else {
    const exp = suffix in DECIMAL ? (DECIMAL[suffix] as number) : Number(suffix.slice(1));
    if (!Number.isSafeInteger(exp) || Math.abs(exp) > MAX_EXPONENT) throw new FieldError(field, `'${text}': exponent out of range`);
    if (exp >= 0) numerator *= 10n ** BigInt(exp);
    else denominator *= 10n ** BigInt(-exp);
  }
  if (sign === '-') numerator = -numerator;
  return { numerator, denominator };
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

/** The value rounded up to an integer (Kubernetes Value()). */
export function quantityCeil(q: Quantity): bigint {
  return ceilDiv(q.numerator, q.denominator);
}

/** The value in thousandths, rounded up (Kubernetes MilliValue()). */
export function quantityMilliCeil(q: Quantity): bigint {
  return ceilDiv(q.numerator * 1000n, q.denominator);
}

export function quantityIsPositive(q: Quantity): boolean {
  return q.numerator > 0n;
}

/** Largest MemoryMax= we render: int64 max, as Kubernetes quantities are int64. */
export const MAX_MEMORY_BYTES = (1n << 63n) - 1n;
/** Largest CPU quantity: 1,000,000 CPUs is far beyond any node. */
export const MAX_CPU_MILLIS = 1_000_000_000n;

/** A memory quantity -> bytes (rounded up); must be > 0. */
export function memoryBytes(input: string | number, field = 'memory'): bigint {
  const q = parseQuantity(input, field);
  if (!quantityIsPositive(q)) throw new FieldError(field, `must be greater than 0, got '${input}'`);
  const bytes = quantityCeil(q);
  if (bytes > MAX_MEMORY_BYTES) throw new FieldError(field, `'${input}' is too large`);
  return bytes;
}

/** A CPU quantity -> millicores (rounded up); must be > 0. */
export function cpuMillis(input: string | number, field = 'cpu'): bigint {
  const q = parseQuantity(input, field);
  if (!quantityIsPositive(q)) throw new FieldError(field, `must be greater than 0, got '${input}'`);
  const millis = quantityMilliCeil(q);
  if (millis > MAX_CPU_MILLIS) throw new FieldError(field, `'${input}' is too large`);
  return millis;
}

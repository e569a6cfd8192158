import { FieldError } from '../../../src/api/errors.js';
import { cpuMillis, memoryBytes, parseQuantity, quantityCeil, quantityMilliCeil } from '../../../src/api/quantity.js';
import { cpuQuotaPercent, cpuWeight } from '../../../src/render/index.js';

describe('parseQuantity (exact, as k8s.io/apimachinery resource.Quantity)', () => {
  it.each<[string | number, bigint, bigint]>([
    // input, Value() (ceil), MilliValue() (ceil)
    ['0', 0n, 0n],
    ['1', 1n, 1000n],
    ['256Mi', 268435456n, 268435456000n],
    ['1Ki', 1024n, 1024000n],
    ['1Gi', 1073741824n, 1073741824000n],
    ['1Ti', 1099511627776n, 1099511627776000n],
    ['1Pi', 1125899906842624n, 1125899906842624000n],
    ['1Ei', 1152921504606846976n, 1152921504606846976000n],
    ['1k', 1000n, 1000000n],
    ['1M', 1000000n, 1000000000n],
    ['1G', 1000000000n, 1000000000000n],
    ['1T', 10n ** 12n, 10n ** 15n],
    ['1P', 10n ** 15n, 10n ** 18n],
    ['1E', 10n ** 18n, 10n ** 21n],
    ['500m', 1n, 500n],
    ['1m', 1n, 1n],
    ['1.5Gi', 1610612736n, 1610612736000n],
    ['0.5', 1n, 500n],
    ['.5', 1n, 500n],
    ['1.', 1n, 1000n],
    ['1e3', 1000n, 1000000n],
    ['1E3', 1000n, 1000000n],
    ['1e+3', 1000n, 1000000n],
    ['25e-3', 1n, 25n],
    ['+2', 2n, 2000n],
    ['-2', -2n, -2000n],
    ['0.0001', 1n, 1n],
    [2, 2n, 2000n],
    [0.25, 1n, 250n],
    [1e21, 10n ** 21n, 10n ** 24n],
  ])('%j', (input, value, milli) => {
    const q = parseQuantity(input);
    expect(quantityCeil(q)).toBe(value);
    expect(quantityMilliCeil(q)).toBe(milli);
  });

  it.each(['', ' 1', '1 ', 'abc', '1KiB', '1ki', '1e', 'Mi', '1.2.3', '--1', '1m1', '0x10', '1e99', 'Infinity'])(
    'rejects %j, naming the field',
    (input) => {
      expect(() => parseQuantity(input, 'spec.units[0].resources.limits.memory')).toThrow(FieldError);
      expect(() => parseQuantity(input, 'spec.units[0].resources.limits.memory')).toThrow(/^spec\.units\[0\]\.resources\.limits\.memory: /);
    },
  );
  it('rejects NaN and Infinity numbers', () => {
    expect(() => parseQuantity(Number.NaN, 'x')).toThrow('x: ');
    expect(() => parseQuantity(Number.POSITIVE_INFINITY, 'x')).toThrow('x: ');
  });
});

describe('systemd values', () => {
  it.each<[string | number, string]>([
    ['500m', '50%'],
    ['2', '200%'],
    [2, '200%'],
    ['1m', '0.1%'],
    ['1500m', '150%'],
    ['0.25', '25%'],
    ['100001m', '10000.1%'],
  ])('CPUQuota for %j is %s', (cpu, pct) => {
    expect(cpuQuotaPercent(cpuMillis(cpu))).toBe(pct);
  });
  it.each<[string | number, number]>([
    ['1', 100],
    ['500m', 50],
    ['1m', 1],
    ['4m', 1],
    ['5m', 1],
    ['15m', 2],
    ['64', 6400],
    ['200', 10000],
  ])('CPUWeight for %j is %d', (cpu, w) => {
    expect(cpuWeight(cpuMillis(cpu))).toBe(w);
  });
  it('memory in bytes, rounded up', () => {
    expect(memoryBytes('256Mi')).toBe(268435456n);
    expect(memoryBytes('100m')).toBe(1n);
    expect(memoryBytes(1048576)).toBe(1048576n);
  });
  it.each(['0', '-1Gi', 0, '16Ei'])('memoryBytes(%j) is refused', (v) => {
    expect(() => memoryBytes(v, 'limits.memory')).toThrow(/^limits\.memory: /);
  });
  it.each(['0', '-1', '0m'])('cpuMillis(%j) is refused', (v) => {
    expect(() => cpuMillis(v, 'limits.cpu')).toThrow('limits.cpu: must be greater than 0');
  });
});

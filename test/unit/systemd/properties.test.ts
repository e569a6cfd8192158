import dbus from 'dbus-next';
import { UINT64_MAX, timerStateFrom, u64, unitStateFrom, unitStatePatch, usecToIso } from '../../../src/systemd/properties.js';

const V = (sig: string, value: unknown): unknown => new dbus.Variant(sig, value);

describe('u64', () => {
  it.each<[string, unknown, number | undefined]>([
    ['a BigInt', 188416n, 188416],
    ['zero', 0n, 0],
    ['UINT64_MAX (not available)', UINT64_MAX, undefined],
    ['UINT64_MAX in a Variant', V('t', UINT64_MAX), undefined],
    ['a Variant', V('t', 42n), 42],
    ['a plain number', 7, 7],
    ['UINT64_MAX rounded to a number', Number(UINT64_MAX), undefined],
    ['a string', '5', undefined],
    ['undefined', undefined, undefined],
  ])('%s', (_label, input, expected) => {
    expect(u64(input)).toBe(expected);
  });
});

describe('usecToIso', () => {
  it.each<[string, unknown, string | undefined]>([
    ['0 means never', 0n, undefined],
    ['UINT64_MAX', UINT64_MAX, undefined],
    ['microseconds', 1_700_000_000_123_456n, '2023-11-14T22:13:20.123Z'],
    ['a Variant', V('t', 1_700_000_000_000_000n), '2023-11-14T22:13:20.000Z'],
    ['a number', 1_700_000_000_000_000, '2023-11-14T22:13:20.000Z'],
    ['garbage', 'x', undefined],
  ])('%s', (_label, input, expected) => {
    expect(usecToIso(input)).toBe(expected);
  });
});

describe('unitStateFrom', () => {
  const raw = {
    LoadState: V('s', 'loaded'),
    ActiveState: V('s', 'active'),
    SubState: V('s', 'running'),
    UnitFileState: V('s', ''),
    FragmentPath: V('s', '/etc/systemd/system/x.service'),
    Result: V('s', 'success'),
    NRestarts: V('u', 4),
    ExecMainCode: V('i', 0),
    ExecMainStatus: V('i', 0),
    ExecMainStartTimestamp: V('t', 1_700_000_000_000_000n),
    ExecMainExitTimestamp: V('t', 0n),
    ActiveEnterTimestamp: V('t', 1_700_000_001_000_000n),
    InvocationID: V('ay', Buffer.from('0123456789abcdef0123456789abcdef', 'hex')),
    MemoryCurrent: V('t', 188416n),
    MemoryMax: V('t', UINT64_MAX),
    CPUUsageNSec: V('t', UINT64_MAX),
    TasksCurrent: V('t', 1n),
    MainPID: V('u', 1234),
    SomethingElse: V('s', 'ignored'),
  };

  it('types every field; "not available" and "never" are undefined, never numbers', () => {
    expect(unitStateFrom(raw)).toEqual({
      loadState: 'loaded',
      activeState: 'active',
      subState: 'running',
      fragmentPath: '/etc/systemd/system/x.service',
      result: 'success',
      nRestarts: 4,
      execMainCode: 0,
      execMainStatus: 0,
      execMainStartTimestamp: '2023-11-14T22:13:20.000Z',
      activeEnterTimestamp: '2023-11-14T22:13:21.000Z',
      invocationId: '0123456789abcdef0123456789abcdef',
      memoryCurrent: 188416,
      tasksCurrent: 1,
      mainPid: 1234,
    });
  });

  it('reads plain values as well as Variants (an InvocationID as a number array)', () => {
    expect(unitStateFrom({ ActiveState: 'failed', InvocationID: [0xab, 0x01], MainPID: 0 })).toEqual({
      activeState: 'failed',
      invocationId: 'ab01',
    });
  });

  it('treats an all-zero InvocationID as none', () => {
    expect(unitStateFrom({ InvocationID: Buffer.alloc(16) }).invocationId).toBeUndefined();
  });
});

describe('unitStatePatch (PropertiesChanged)', () => {
  it('holds only the keys present, so spreading it over an older state updates just those', () => {
    const patch = unitStatePatch({ Result: V('s', 'exit-code'), ExecMainCode: V('i', 1), ExecMainStatus: V('i', 3) });
    expect(patch).toEqual({ result: 'exit-code', execMainCode: 1, execMainStatus: 3 });
    expect({ ...{ activeState: 'active', nRestarts: 2 }, ...patch }).toMatchObject({ activeState: 'active', nRestarts: 2 });
  });

  it('keeps a present-but-unavailable key as undefined so it clears the old value', () => {
    const patch = unitStatePatch({ MemoryCurrent: V('t', UINT64_MAX) });
    expect('memoryCurrent' in patch).toBe(true);
    expect({ ...{ memoryCurrent: 5 }, ...patch }.memoryCurrent).toBeUndefined();
  });
});

describe('timerStateFrom', () => {
  it('converts trigger and elapse times', () => {
    expect(
      timerStateFrom({
        LastTriggerUSec: V('t', 0n),
        NextElapseUSecRealtime: V('t', 1_700_000_000_000_000n),
        Result: V('s', 'success'),
      }),
    ).toEqual({ nextElapseUSecRealtime: '2023-11-14T22:13:20.000Z', result: 'success' });
  });
});

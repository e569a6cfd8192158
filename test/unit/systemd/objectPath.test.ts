import fc from 'fast-check';
import { escapePathLabel, unescapePathLabel, unitNameFromPath, unitObjectPath } from '../../../src/systemd/objectPath.js';

describe('unit object paths (systemd bus_label_escape)', () => {
  it.each([
    ['dbus.service', 'dbus_2eservice'],
    ['sdw-default-web-server.service', 'sdw_2ddefault_2dweb_2dserver_2eservice'],
    ['getty@tty1.service', 'getty_40tty1_2eservice'],
    ['1leading-digit.service', '_31leading_2ddigit_2eservice'],
    ['x\\x2dy.mount', 'x_5cx2dy_2emount'],
    ['', '_'],
    ['é.service', '_c3_a9_2eservice'],
  ])('%s <-> %s', (name, label) => {
    expect(escapePathLabel(name)).toBe(label);
    expect(unescapePathLabel(label)).toBe(name);
    expect(unitNameFromPath(`/org/freedesktop/systemd1/unit/${label}`)).toBe(name);
  });

  it('decodes upper-case hex too, and rejects malformed labels', () => {
    expect(unescapePathLabel('a_2Eservice')).toBe('a.service');
    expect(unescapePathLabel('a_2')).toBeUndefined();
    expect(unescapePathLabel('a_zz')).toBeUndefined();
    expect(unescapePathLabel('a.b')).toBeUndefined();
  });

  it('only decodes unit object paths', () => {
    expect(unitNameFromPath('/org/freedesktop/systemd1')).toBeUndefined();
    expect(unitNameFromPath('/org/freedesktop/systemd1/job/42')).toBeUndefined();
    expect(unitNameFromPath('/org/freedesktop/systemd1/unit/')).toBeUndefined();
    expect(unitNameFromPath('/org/freedesktop/systemd1/unit/a/b')).toBeUndefined();
  });

  it('round-trips any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        const path = unitObjectPath(s);
        expect(path).toMatch(/^\/org\/freedesktop\/systemd1\/unit\/[A-Za-z0-9_]+$/);
        expect(unitNameFromPath(path)).toBe(s);
      }),
    );
  });
});

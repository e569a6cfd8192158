import { parseOwnerMarker } from '../../../src/api/markers.js';
import { isValidUnitFileName } from '../../../src/api/names.js';
import { storeError } from '../../../src/systemd/unitStore.js';

describe('parseOwnerMarker', () => {
  it.each<[string, string, object | undefined]>([
    [
      'a rendered unit',
      '[Unit]\nDescription=x\nX-SDW-Owner=default/web\nX-SDW-Hash=abc123\n[Service]\nExecStart=/bin/true\n',
      { namespace: 'default', workload: 'web', hash: 'abc123' },
    ],
    [
      'spaces around =',
      '[Unit]\nX-SDW-Owner = kube-system/node.exporter\n',
      { namespace: 'kube-system', workload: 'node.exporter', hash: undefined },
    ],
    ['a foreign unit', '[Unit]\nDescription=mine\n[Service]\nExecStart=/bin/true\n', undefined],
    ['marker outside [Unit]', '[Service]\nX-SDW-Owner=default/web\n', undefined],
    ['commented out', '[Unit]\n# X-SDW-Owner=default/web\n;X-SDW-Owner=default/web\n', undefined],
    ['no slash', '[Unit]\nX-SDW-Owner=default\n', undefined],
    ['invalid names', '[Unit]\nX-SDW-Owner=Default/Web\n', undefined],
    ['an extra path part', '[Unit]\nX-SDW-Owner=a/b/c\n', undefined],
    ['CRLF lines', '[Unit]\r\nX-SDW-Owner=ns/w\r\nX-SDW-Hash=h\r\n', { namespace: 'ns', workload: 'w', hash: 'h' }],
    ['the first owner wins', '[Unit]\nX-SDW-Owner=a/b\nX-SDW-Owner=c/d\n', { namespace: 'a', workload: 'b' }],
  ])('%s', (_label, content, expected) => {
    const m = parseOwnerMarker(content);
    if (expected === undefined) expect(m).toBeUndefined();
    else expect(m).toMatchObject(expected);
  });
});

describe('isValidUnitFileName', () => {
  it.each([
    ['sdw-default-web.service', true],
    ['sdw-default-web.timer', true],
    ['getty@tty1.service', true],
    ['../etc/passwd.service', false],
    ['a/b.service', false],
    ['.hidden.service', false],
    ['x.service.sdw-tmp', false],
    ['noext', false],
    ['sdnode.target.wants', false],
  ])('%s -> %s', (name, ok) => {
    expect(isValidUnitFileName(name)).toBe(ok);
  });
});

describe('storeError', () => {
  it.each([
    ['ENOSPC', 'no space left on device'],
    ['EACCES', 'permission denied'],
    ['EROFS', 'read-only file system'],
  ])('names the path and errno for %s', (code, text) => {
    const err = Object.assign(new Error(`${code}: something`), { code });
    const e = storeError('write', '/etc/systemd/system/x.service', err);
    expect(e.message).toBe(`unit store: cannot write /etc/systemd/system/x.service: ${code} (${text})`);
    expect(e).toMatchObject({ code: 'SDW_UNIT_STORE', errno: code, path: '/etc/systemd/system/x.service', op: 'write' });
  });
});

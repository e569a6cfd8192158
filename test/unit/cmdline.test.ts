import { parseFlags } from '../../src/cmdline/flags.js';

describe('parseFlags (the daemons)', () => {
  const defaults = { kubeconfig: '', 'metrics-addr': ':8080' };

  it('reads --name=value and --name value over the defaults', () => {
    expect(parseFlags(['--kubeconfig=/k', '--metrics-addr', ':9090'], defaults)).toEqual({ kubeconfig: '/k', 'metrics-addr': ':9090' });
    expect(parseFlags([], defaults)).toEqual(defaults);
    expect(parseFlags(['--kubeconfig='], defaults)).toEqual({ ...defaults, kubeconfig: '' });
  });

  it('refuses unknown flags, positionals and missing values, naming them', () => {
    expect(() => parseFlags(['--kubconfig=/k'], defaults)).toThrow('unknown flag --kubconfig; known: --kubeconfig, --metrics-addr');
    expect(() => parseFlags(['extra'], defaults)).toThrow("unexpected argument 'extra'");
    expect(() => parseFlags(['--kubeconfig'], defaults)).toThrow('flag --kubeconfig needs a value');
  });
});

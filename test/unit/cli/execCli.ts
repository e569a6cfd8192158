// run() as the unit tests call it: no process, output collected.
import { run, type IO } from '../../../src/cli/commands.js';

export async function exec(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: IO = {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env: {},
    isTTY: false,
    readStdin: async () => '',
    signal: new AbortController().signal,
  };
  const code = await run(argv, io);
  return { code, out, err };
}

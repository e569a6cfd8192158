// What a kubectl-sdw command may touch of its process: output, environment,
// standard input, the abort signal and the clock (tests pass their own).
export interface IO {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean | undefined;
  readStdin: () => Promise<string>;
  /** Aborted on SIGINT (logs -f, rollout status). */
  signal: AbortSignal;
  now?: () => number;
  /** Waits ms (rollout status polls); tests pass a fake. Default: a timer cut short by signal. */
  sleep?: (ms: number) => Promise<void>;
}

// Errors callers branch on: each has a stable `code`.

/** A D-Bus call (or a wait) did not finish in time. */
export { CallTimeoutError } from '../async/timeout.js';

/**
 * The connection to systemd was lost (bus closed, dbus-daemon restarted, systemd
 * re-executed) while a call or a job wait was pending. The outcome is unknown:
 * resync from systemd's state instead of retrying blindly.
 */
export class BusDisconnectedError extends Error {
  readonly code = 'SDW_BUS_DISCONNECTED';
  constructor(
    readonly what: string,
    readonly cause_: 'bus' | 'systemd' | 'closed',
  ) {
    super(`${what}: connection to systemd lost (${cause_}); state unknown, resync`);
    this.name = 'BusDisconnectedError';
  }
}

/** A file in the unit directory that the operator did not write. */
export class ForeignUnitError extends Error {
  readonly code = 'SDW_FOREIGN_UNIT';
  constructor(
    readonly path: string,
    op: string,
  ) {
    super(`refusing to ${op} ${path}: it carries no X-SDW-Owner marker (not written by systemd-workload-operator)`);
    this.name = 'ForeignUnitError';
  }
}

/** A file-system failure in the unit directory, naming the path and errno. */
export class UnitStoreError extends Error {
  readonly code = 'SDW_UNIT_STORE';
  constructor(
    readonly op: string,
    readonly path: string,
    readonly errno: string | undefined,
    detail: string,
  ) {
    super(`unit store: cannot ${op} ${path}: ${errno ?? 'error'} (${detail})`);
    this.name = 'UnitStoreError';
  }
}

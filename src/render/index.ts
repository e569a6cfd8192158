// The pure rendering core: workload + node -> unit files; cron -> OnCalendar;
// systemd escaping; validation. Nothing here does I/O.
export * from './errors.js';
export * from './escape.js';
export * from './names.js';
export * from './quantity.js';
export * from './hash.js';
export * from './cron.js';
export { validateWorkload, findAfterCycle } from './validate.js';
export * from './unit.js';

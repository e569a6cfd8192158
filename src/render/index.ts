// The pure rendering core: workload + node -> unit files; cron -> OnCalendar;
// systemd escaping; content hashes. Nothing here does I/O.
export * from './escape.js';
export * from './hash.js';
export * from './calendar.js';
export * from './unit.js';
export * from './files.js';

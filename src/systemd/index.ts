// The systemd adapter: D-Bus (bus.ts), unit files (unitStore.ts), and the pure
// interpretation of what systemd reports (properties.ts, termination.ts).
export * from './bus.js';
export * from './errors.js';
export * from './jobTracker.js';
export * from './objectPath.js';
export * from './ownership.js';
export * from './properties.js';
export * from './semaphore.js';
export * from './termination.js';
export * from './timeout.js';
export * from './unitStore.js';

// What a systemd signal (PropertiesChanged) means for the agent, as a pure fold
// over its NodeState: the unit's new state, a termination caught on the way, and
// which loop has work. The shell (agent.ts) only queues what this returns.
//
// Why a stop does not always call for a node sync: a sync reads the state of every
// unit it owns from PID 1 (thousands of GetAll calls on a busy node). A timer's
// service stops after every run it was fired for, so 1,000 same-minute timers
// made the agent ask for a sync on each of their stops, and those syncs' calls
// competed with the very starts systemd was dispatching (issue 18, timers:
// 1.41x the floor with the agent running, 0.96x with it stopped).
import { timerStatePatch, unitStatePatch, type UnitState } from '../systemd/properties.js';
import { terminationFrom } from '../systemd/termination.js';
import type { NodeState } from './reconcile.js';

const TIMER_INTERFACE = 'org.freedesktop.systemd1.Timer';

export interface SignalOutcome {
  /** The node sync has work: a unit of ours stopped and a sync may start it again. */
  sync: boolean;
  /** The key of the child whose status may have changed. */
  statusOf?: string;
}

/**
 * Folds one PropertiesChanged of `unit` into `node` (its states and terminations)
 * and says what follows. A unit that is not one of ours (or not yet known) is
 * ignored: nothing changes, nothing is queued.
 */
export function foldSignal(node: NodeState, unit: string, changed: Record<string, unknown>, iface: string): SignalOutcome {
  const { states } = node;
  const prev = states.get(unit);
  if (!prev) return { sync: false };
  const statusOf = node.owners.get(unit);
  if (iface === TIMER_INTERFACE) {
    // LastTriggerUSec, NextElapseUSecRealtime, Result: a timer firing shows at once.
    states.set(unit, { ...prev, timer: { ...prev.timer, ...timerStatePatch(changed) } });
    return { sync: false, statusOf };
  }
  const patch = unitStatePatch(changed);
  const next: UnitState = { ...prev, ...patch };
  if (changed.Timer === undefined && (patch.execMainExitTimestamp || patch.result)) noteTermination(node, unit, next);
  states.set(unit, next);
  // A unit of ours stopped by hand: the sync puts it back (planSync decides whether
  // it should run). A unit that went "failed": the back-off decides when it starts
  // again. A timer's service is neither: the sync would find nothing to do.
  const stopped = patch.activeState === 'inactive' || patch.activeState === 'failed';
  return { sync: stopped && !node.timerServices.has(unit), statusOf };
}

/**
 * Records the exit `state` shows, unless it is the one already recorded. Signals
 * call it, and so does every read of a unit's state: a unit that dies between its
 * start and the agent's first read of it sends its signals while the agent does
 * not know it yet, and only the read can tell how it ended.
 */
export function noteTermination(node: NodeState, unit: string, state: UnitState): void {
  if (!state.execMainExitTimestamp || state.execMainExitTimestamp === node.terminations.get(unit)?.time) return;
  const t = terminationFrom(state, { lastMemoryBytes: node.usage.get(unit)?.memoryBytes });
  if (t) node.terminations.set(unit, t);
}

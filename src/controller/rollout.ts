// Planning a rollout: a pure function from what should be (the matching nodes
// and the current hash) and what is (the children and what their agents
// report) to what to do now. DaemonSet's rules: a new node gets the units at
// once; an existing node gets a changed hash only while fewer than
// maxUnavailable nodes are unavailable; nodes that are down are updated first
// (updating them costs no availability), while nodes that run but are still
// inside minReadySeconds wait (unlike a DaemonSet, which would update them all at
// once right after a previous rollout); paused changes nothing that runs.
import type { NodePhase } from '../api/types.js';

export interface ChildView {
  node: string;
  /** The hash in the child's spec (what the controller asked for). */
  specHash: string;
  /** The hash the agent reports as applied. */
  appliedHash?: string;
  phase?: NodePhase;
  /** ISO time since when the node's units have been ready. */
  readySince?: string;
  /**
   * The agent's heartbeat for this node has expired: what its status says is
   * stale, so the node counts as unavailable (as a DaemonSet counts the pods of
   * an unreachable node) and the rollout does not spend budget on top of it.
   */
  agentSilent?: boolean;
}

export interface RolloutInput {
  desiredHash: string;
  /** Matching nodes. */
  nodes: string[];
  /** Existing children, by node (may include nodes that no longer match). */
  children: ChildView[];
  maxUnavailable: number;
  minReadySeconds: number;
  paused: boolean;
  now: number;
  /**
   * Auto-revert: nodes given a revision that failed, updated at once whatever the
   * budget (their units crash or fail, so they count as unavailable already).
   */
  revertNodes?: string[];
}

export interface RolloutPlan {
  create: string[];
  update: string[];
  delete: string[];
  /** When the plan may change by time alone (minReadySeconds): requeue then. */
  recheckAfterMs?: number;
}

/** A child is available when its agent applied its spec and has been ready for minReadySeconds. */
export function availability(c: ChildView, minReadySeconds: number, now: number): { available: boolean; inMs?: number } {
  if (c.agentSilent) return { available: false };
  if (c.appliedHash !== c.specHash) return { available: false };
  if (c.phase !== 'Running' && c.phase !== 'Completed') return { available: false };
  if (!c.readySince) return { available: minReadySeconds === 0 };
  const readyAt = Date.parse(c.readySince) + minReadySeconds * 1000;
  return readyAt <= now ? { available: true } : { available: false, inMs: readyAt - now };
}

/** The node's units are not running what its child asks for: failed, pending, mid-update, or the agent is silent. */
export function isDown(c: ChildView): boolean {
  return !!c.agentSilent || c.appliedHash !== c.specHash || (c.phase !== 'Running' && c.phase !== 'Completed');
}

/** maxUnavailable as a count: an int, or a percentage of the desired nodes rounded down, at least 1. */
export function resolveMaxUnavailable(v: number | string | undefined, desired: number): number {
  if (v === undefined) return 1;
  if (typeof v === 'number') return Math.max(1, Math.floor(v));
  const m = /^(\d{1,3})%$/.exec(v);
  if (!m) {
    const n = Number(v);
    return Number.isInteger(n) && n > 0 ? n : 1;
  }
  return Math.max(1, Math.floor((Number(m[1]) * desired) / 100));
}

export function planRollout(input: RolloutInput): RolloutPlan {
  const wanted = new Set(input.nodes);
  const byNode = new Map(input.children.map((c) => [c.node, c]));
  const create = input.nodes.filter((n) => !byNode.has(n)).sort();
  const del = input.children
    .filter((c) => !wanted.has(c.node))
    .map((c) => c.node)
    .sort();
  const current = input.children.filter((c) => wanted.has(c.node));

  let recheckAfterMs: number | undefined;
  let unavailable = 0;
  const outdatedDown: string[] = [];
  const outdatedAvailable: string[] = [];
  for (const c of current) {
    const a = availability(c, input.minReadySeconds, input.now);
    if (a.inMs !== undefined) recheckAfterMs = Math.min(recheckAfterMs ?? Infinity, a.inMs);
    if (!a.available) unavailable++;
    if (c.specHash === input.desiredHash) continue;
    if (a.available) outdatedAvailable.push(c.node);
    // Down: failed, pending, mid-update or silent. A node that runs but has not
    // been ready for minReadySeconds yet is NOT down: updating it would restart
    // running units, so it waits (it already counts against the budget).
    else if (isDown(c)) outdatedDown.push(c.node);
  }
  const update: string[] = [];
  if (!input.paused) {
    // Down nodes first: updating them costs no availability.
    update.push(...outdatedDown.sort());
    const reverting = new Set(input.revertNodes ?? []);
    const revertNow = current
      .filter((c) => reverting.has(c.node) && c.specHash !== input.desiredHash && !outdatedDown.includes(c.node))
      .map((c) => c.node);
    update.push(...revertNow.sort());
    const budget = Math.max(0, input.maxUnavailable - unavailable);
    update.push(
      ...outdatedAvailable
        .filter((n) => !reverting.has(n))
        .sort()
        .slice(0, budget),
    );
  }
  const plan: RolloutPlan = { create, update, delete: del };
  if (recheckAfterMs !== undefined) plan.recheckAfterMs = recheckAfterMs;
  return plan;
}

// Planning a rollout: a pure function from what should be (the matching nodes
// and the current hash) and what is (the children and what their agents
// report) to what to do now. DaemonSet's rules: a new node gets the units at
// once; an existing node gets a changed hash only while fewer than
// maxUnavailable nodes are unavailable; nodes that are down are updated first
// (updating them costs no availability), while nodes that run but are still
// inside minReadySeconds wait (unlike a DaemonSet, which would update them all at
// once right after a previous rollout); paused changes nothing that runs.
// Two holds on top, for canaries and failure domains: a partition keeps the
// last P nodes of the order on the old version (OpenKruise Advanced
// DaemonSet's meaning), and a nodeOrder updates one group of nodes (one value
// of a node label, e.g. a zone) at a time, the next group only once every
// node of the current one is updated and available.
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
  /** Nodes kept on the old version: the last `partition` nodes of the update order. */
  partition?: number;
  /**
   * With a nodeOrder: each matching node's failure domain (the label's value;
   * absent when the node lacks the label). Absent: no grouping.
   */
  domainOf?: ReadonlyMap<string, string | undefined>;
}

export interface RolloutPlan {
  create: string[];
  update: string[];
  delete: string[];
  /** Outdated nodes the partition keeps on the old version, in update order. */
  held: string[];
  /** With a nodeOrder: the failure domain being updated now (undefined: none left, or no order). */
  domain?: string;
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

/**
 * The order nodes are updated in: by failure domain when there is one (domain
 * values sorted, nodes without the label last), then by name. Stable, so the
 * same nodes are the canaries on every pass.
 */
export function updateOrder(nodes: readonly string[], domainOf?: ReadonlyMap<string, string | undefined>): string[] {
  const rank = (n: string): [number, string] => {
    const d = domainOf?.get(n);
    return d === undefined ? [1, ''] : [0, d];
  };
  return [...nodes].sort((a, b) => {
    const [ra, da] = rank(a);
    const [rb, db] = rank(b);
    return ra - rb || (da < db ? -1 : da > db ? 1 : 0) || (a < b ? -1 : a > b ? 1 : 0);
  });
}

/**
 * The failure domain in turn: that of the first node, in order, still to do (movable,
 * not yet updated and available). Nodes of later domains are not touched, even down ones.
 */
function domainInTurn(
  order: readonly string[],
  toDo: (node: string) => boolean,
  domainOf: ReadonlyMap<string, string | undefined> | undefined,
): { domain?: string; inTurn: (node: string) => boolean } {
  const first = domainOf ? order.find(toDo) : undefined;
  if (!domainOf || first === undefined) return { inTurn: () => true };
  const domain = domainOf.get(first);
  return { domain, inTurn: (n) => domainOf.get(n) === domain };
}

export function planRollout(input: RolloutInput): RolloutPlan {
  const wanted = new Set(input.nodes);
  const byNode = new Map(input.children.map((c) => [c.node, c]));
  // A node new to the workload has no old version to keep: it gets the current one.
  const create = input.nodes.filter((n) => !byNode.has(n)).sort();
  const del = input.children
    .filter((c) => !wanted.has(c.node))
    .map((c) => c.node)
    .sort();
  const current = input.children.filter((c) => wanted.has(c.node));

  // The partition: only the first (nodes - partition) nodes of the order may move.
  const order = updateOrder(input.nodes, input.domainOf);
  const movable = new Set(order.slice(0, Math.max(0, order.length - (input.partition ?? 0))));
  const position = new Map(order.map((n, i) => [n, i]));

  let recheckAfterMs: number | undefined;
  let unavailable = 0;
  const done = new Set<string>();
  const outdatedDown: string[] = [];
  const outdatedAvailable: string[] = [];
  const held: string[] = [];
  for (const c of current) {
    const a = availability(c, input.minReadySeconds, input.now);
    if (a.inMs !== undefined) recheckAfterMs = Math.min(recheckAfterMs ?? Infinity, a.inMs);
    if (!a.available) unavailable++;
    if (c.specHash === input.desiredHash) {
      if (a.available) done.add(c.node);
      continue;
    }
    if (!movable.has(c.node)) held.push(c.node);
    else if (a.available) outdatedAvailable.push(c.node);
    // Down: failed, pending, mid-update or silent. A node that runs but has not
    // been ready for minReadySeconds yet is NOT down: updating it would restart
    // running units, so it waits (it already counts against the budget).
    else if (isDown(c)) outdatedDown.push(c.node);
  }
  const { domain, inTurn } = domainInTurn(order, (n) => movable.has(n) && !done.has(n), input.domainOf);
  const byOrder = (nodes: string[]) => nodes.filter(inTurn).sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
  const update: string[] = [];
  if (!input.paused) {
    // Down nodes first: updating them costs no availability.
    update.push(...byOrder(outdatedDown));
    // Auto-revert: the nodes given a failed revision go back at once, whatever the
    // budget, the partition or the domain in turn.
    const reverting = new Set(input.revertNodes ?? []);
    const revertNow = current
      .filter((c) => reverting.has(c.node) && c.specHash !== input.desiredHash && !outdatedDown.includes(c.node))
      .map((c) => c.node)
      .sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
    update.push(...revertNow);
    const budget = Math.max(0, input.maxUnavailable - unavailable);
    update.push(...byOrder(outdatedAvailable.filter((n) => !reverting.has(n))).slice(0, budget));
  }
  const plan: RolloutPlan = { create, update, delete: del, held: held.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0)) };
  if (domain !== undefined) plan.domain = domain;
  if (recheckAfterMs !== undefined) plan.recheckAfterMs = recheckAfterMs;
  return plan;
}

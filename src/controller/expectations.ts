// Children this controller created that its cache has not shown yet: client-go's
// ControllerExpectations, kept by (workload uid, node). Without them, a reconcile
// pass that runs before the watch has delivered the children of the previous pass
// creates them again; the API server refuses each with 409, but every refusal
// costs it a full create: a 1,000-node fan-out measured 590 such creates beside
// the 1,000 real ones (bench/results/NOTES.md).
export interface Expected {
  node: string;
  /** The spec hash the child was created with. */
  hash: string;
}

export class CreateExpectations {
  private readonly pending = new Map<string, Map<string, { hash: string; at: number }>>();

  /**
   * @param ttlMs how long an unseen child is assumed to exist (client-go: 5 minutes);
   *   after that the next pass creates it again, in case it was deleted before the
   *   watch ever showed it.
   */
  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The child of `node` was created (or already existed: 409) with `hash`. */
  expect(ownerUid: string, node: string, hash: string): void {
    let byNode = this.pending.get(ownerUid);
    if (!byNode) this.pending.set(ownerUid, (byNode = new Map<string, { hash: string; at: number }>()));
    byNode.set(node, { hash, at: this.now() });
  }

  /** The cache has shown the child of `node` (the informer's add). */
  observed(ownerUid: string, node: string): void {
    const byNode = this.pending.get(ownerUid);
    byNode?.delete(node);
    if (byNode?.size === 0) this.pending.delete(ownerUid);
  }

  /** The workload is gone. */
  forget(ownerUid: string): void {
    this.pending.delete(ownerUid);
  }

  /**
   * Children expected but not in the cache (`cached` holds the nodes the cache has a
   * child for). Entries the cache now shows, and expired ones, are dropped.
   */
  unseen(ownerUid: string, cached: ReadonlySet<string>): Expected[] {
    const byNode = this.pending.get(ownerUid);
    if (!byNode) return [];
    const out: Expected[] = [];
    const now = this.now();
    for (const [node, e] of byNode) {
      if (cached.has(node) || now - e.at >= this.ttlMs) byNode.delete(node);
      else out.push({ node, hash: e.hash });
    }
    if (byNode.size === 0) this.pending.delete(ownerUid);
    return out;
  }
}

// Folds a burst of events into one action: the action runs once the events have been
// quiet for quietMs, or maxMs after the first event of the burst if they never are.
// A `kubectl apply` of many workloads, or the controller creating a node's children,
// reaches the agent as a burst of watch events spread over more than one quiet window
// when the API server is busy (32 children of 1,000 units arrived over ~100 ms on a
// 2-core machine): a fixed window from the first event split such a burst in two node
// syncs, the second one a full Reload and a read of every unit's state more.
export class BurstBatcher {
  private timer: NodeJS.Timeout | undefined;
  private burstStart = 0;

  constructor(
    private readonly fire: () => void,
    private readonly quietMs: number,
    private readonly maxMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** An event: the action runs quietMs after the last one, at most maxMs after the first. */
  poke(): void {
    const t = this.now();
    if (this.timer === undefined) this.burstStart = t;
    else clearTimeout(this.timer);
    const delay = Math.max(0, Math.min(this.quietMs, this.burstStart + this.maxMs - t));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fire();
    }, delay);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

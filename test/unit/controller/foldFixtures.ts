// Inputs for foldStatus shared by its unit tests: a clock, a hash, a child
// that is updated and ready, and foldStatus with everything else defaulted.
import { foldStatus, type ChildStatusView, type FoldInput } from '../../../src/controller/status.js';
import type { SystemdWorkloadStatus } from '../../../src/api/types.js';

export const NOW = Date.parse('2025-01-01T00:10:00Z');
export const H = 'h1';
export const run = (node: string, x: Partial<ChildStatusView> = {}): ChildStatusView => ({
  node,
  specHash: H,
  appliedHash: H,
  phase: 'Running',
  readySince: '2025-01-01T00:00:00Z',
  ...x,
});
export const fold = (x: Partial<FoldInput>) =>
  foldStatus({
    generation: 3,
    desiredHash: H,
    nodes: [],
    children: [],
    minReadySeconds: 0,
    maxUnavailable: 1,
    paused: false,
    now: NOW,
    ...x,
  });
export const cond = (s: SystemdWorkloadStatus, t: string) => s.conditions!.find((c) => c.type === t)!;

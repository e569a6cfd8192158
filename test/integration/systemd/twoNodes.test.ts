// Two nodes side by side on one host: one adapter each, no state shared, even
// for units with the same name (each node has its own cgroup subtree).
import type { SystemdNode } from '../../harness/systemdNode.js';
import { SystemdBus } from '../../../src/systemd/bus.js';
import { settleAll } from '../../harness/cluster.js';
import { UnitFileStore } from '../../../src/systemd/unitStore.js';
import { ownedUnit, removeRunDir, startNode } from './helpers.js';

const T = 120_000;
const UNIT = 'sdw-default-same-name.service';
const nodes: SystemdNode[] = [];
const buses: SystemdBus[] = [];

beforeAll(async () => {
  // Each node joins `nodes` as it boots, so afterAll stops it even if the other failed to boot.
  await settleAll(['two-a', 'two-b'].map(async (name) => nodes.push(await startNode(name))));
  buses.push(...(await Promise.all(nodes.map((n) => SystemdBus.connect(n.busAddress)))));
}, T);

afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await Promise.all(nodes.map((n) => n.stop()));
  await removeRunDir();
}, T);

it(
  'keeps the same unit name apart on two nodes',
  async () => {
    const [a, b] = buses as [SystemdBus, SystemdBus];
    for (const n of nodes) {
      await new UnitFileStore(n.unitDir).write(UNIT, ownedUnit({ workload: 'same', service: ['ExecStart=/bin/sleep infinity'] }));
    }
    await Promise.all([a.reload(), b.reload()]);
    const jobsB: string[] = [];
    b.on('jobRemoved', (e) => jobsB.push(e.unit));
    expect(await a.startUnit(UNIT)).toBe('done');
    const [sa, sb] = await Promise.all([a.getUnitState(UNIT), b.getUnitState(UNIT)]);
    expect(sa).toMatchObject({ activeState: 'active', tasksCurrent: 1 });
    expect(sb).toMatchObject({ activeState: 'inactive' });
    expect(sb.tasksCurrent === undefined || sb.tasksCurrent === 0).toBe(true);
    expect(jobsB).not.toContain(UNIT);
    // The process lives in node A's pid namespace only.
    const [pa, pb] = await Promise.all(nodes.map((n) => n.processes()));
    expect(pa?.length).toBeGreaterThan(pb?.length ?? 0);
    expect(await b.startUnit(UNIT)).toBe('done');
    expect((await b.getUnitState(UNIT)).invocationId).not.toBe(sa.invocationId);
  },
  T,
);

import { writeStatusIfChanged } from '../../../src/kube/client.js';

interface Obj {
  metadata: { namespace?: string; name?: string };
  status?: { phase?: string; message?: string };
}

/** A recording stand-in for the API's status subresource. */
function recorder() {
  const writes: Array<{ ns: string; name: string; body: object }> = [];
  return {
    writes,
    api: {
      async patchStatus(ns: string, name: string, body: object): Promise<Obj> {
        writes.push({ ns, name, body });
        return { metadata: { namespace: ns, name }, ...(body as { status: Obj['status'] }) };
      },
    },
  };
}

describe('writeStatusIfChanged', () => {
  const obj: Obj = { metadata: { namespace: 'default', name: 'web' }, status: { phase: 'Running', message: 'ok' } };

  it('writes nothing when the status is the same', async () => {
    const r = recorder();
    expect(await writeStatusIfChanged(r.api, obj, { message: 'ok', phase: 'Running' })).toBeUndefined();
    expect(r.writes).toEqual([]);
  });

  it('writes a merge patch of the status when it changed: new values, removed keys as null', async () => {
    const r = recorder();
    const updated = await writeStatusIfChanged(r.api, obj, { phase: 'Failed' });
    expect(r.writes).toEqual([{ ns: 'default', name: 'web', body: { status: { phase: 'Failed', message: null } } }]);
    expect(updated?.status).toEqual({ phase: 'Failed', message: null });
  });

  it('writes the first status of an object that has none', async () => {
    const r = recorder();
    await writeStatusIfChanged(r.api, { metadata: { namespace: 'a', name: 'b' } }, { phase: 'Pending' });
    expect(r.writes).toEqual([{ ns: 'a', name: 'b', body: { status: { phase: 'Pending' } } }]);
  });
});

// The status write of a reconcile, shared by the controller (client-node) and
// the agent (the lean client): only the patchStatus call differs.
import fastJsonPatch from 'fast-json-patch';

/** Whatever writes a merge patch to an object's status subresource and answers with the object. */
export interface StatusPatcher<T> {
  patchStatus(namespace: string, name: string, body: object): Promise<T>;
}

/**
 * A merge patch that turns `from` into `to` at the top level of an object:
 * changed keys carry their new value, removed keys are set to null.
 */
export function topLevelMergePatch(from: Record<string, unknown> | undefined, to: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...to };
  for (const k of Object.keys(from ?? {})) if (!(k in to)) patch[k] = null;
  return patch;
}

/** Whether writing `status` over `current` would change anything. */
export function statusDiffers(current: object | undefined, status: object): boolean {
  return fastJsonPatch.compare(current ?? {}, status).length > 0;
}

/**
 * The status write of a reconcile: a merge patch of the status subresource when
 * `status` differs from what obj has, nothing otherwise (an idle operator writes
 * nothing). Returns the object the API server answered with, or undefined when
 * there was nothing to write.
 */
export async function writeStatusIfChanged<T extends { metadata: { namespace?: string; name?: string }; status?: object }>(
  api: StatusPatcher<T>,
  obj: T,
  status: NonNullable<T['status']>,
): Promise<T | undefined> {
  if (!statusDiffers(obj.status, status)) return undefined;
  return api.patchStatus(obj.metadata.namespace ?? '', obj.metadata.name ?? '', {
    status: topLevelMergePatch(obj.status as Record<string, unknown> | undefined, status as unknown as Record<string, unknown>),
  });
}

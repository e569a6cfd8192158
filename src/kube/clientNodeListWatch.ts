// An informer's list and watch through client-node (KubernetesObjectApi.list,
// Watch): what the controller's informers use. The agent's informer uses the
// lean client (rest.ts) instead; informer.ts loads this module only when given
// a KubeConfig, so the agent never loads client-node's generated API.
import * as k8s from '@kubernetes/client-node';
import type { ListRequest, ListWatch } from './informer.js';
import type { ListPage, Query, WatchEvent } from './rest.js';

export function clientNodeListWatch(kc: k8s.KubeConfig): ListWatch {
  const objectApi = k8s.KubernetesObjectApi.makeApiClient(kc);
  return {
    async list<T>(r: ListRequest): Promise<ListPage<T>> {
      const page = await objectApi.list<k8s.KubernetesObject>(
        r.apiVersion,
        r.kind,
        r.namespace,
        undefined,
        undefined,
        undefined,
        r.fieldSelector,
        r.labelSelector,
        r.limit,
        r.continue,
      );
      return {
        items: page.items as T[],
        metadata: { resourceVersion: page.metadata?.resourceVersion, continue: page.metadata?._continue },
      };
    },
    watch<T>(path: string, query: Query, onEvent: WatchEvent<T>, onDone: (err?: unknown) => void): Promise<AbortController> {
      return new k8s.Watch(kc).watch(path, query, onEvent, onDone);
    },
  };
}

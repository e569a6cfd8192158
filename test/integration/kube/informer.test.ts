// The informer against a real API server: it lists, follows the watch, and
// survives a connection that goes silent (the API server frozen with SIGSTOP,
// so the TCP connection stays open and nothing arrives): the watchdog restarts
// the watch and changes made after the thaw still reach the handlers, including
// a deletion made right after.
import * as k8s from '@kubernetes/client-node';
import { Informer } from '../../../src/kube/informer.js';
import { createLogger } from '../../../src/observability/log.js';
import { Cluster } from '../../harness/cluster.js';
import { delay, waitFor } from '../../harness/process.js';

describe('informer', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ crds: false, controllers: [] });
  });
  afterAll(async () => {
    cluster?.controlPlane.apiserver.signal('SIGCONT');
    await cluster?.stop();
  });

  it('restarts a silent watch and catches up, deletions included', async () => {
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    const cm = (name: string): k8s.V1ConfigMap => ({ metadata: { name, namespace: 'default', labels: { t: 'inf' } }, data: { v: '1' } });
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('before') });
    const seen: string[] = [];
    const inf = new Informer<k8s.V1ConfigMap>(cluster.kc, {
      path: '/api/v1/namespaces/default/configmaps',
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'default',
      labelSelector: 't=inf',
      silenceMs: 3000,
      watchTimeoutSeconds: 300,
      log: createLogger({}, 'error'),
    });
    inf.on((type, o) => seen.push(`${type}:${o.metadata?.name}`));
    await inf.start();
    try {
      expect(inf.list().map((o) => o.metadata?.name)).toEqual(['before']);
      await core.createNamespacedConfigMap({ namespace: 'default', body: cm('during-watch') });
      await waitFor('add seen', async () => seen.includes('add:during-watch'));

      // Freeze the API server: the watch connection stays open and silent.
      cluster.controlPlane.apiserver.signal('SIGSTOP');
      await delay(5000);
      cluster.controlPlane.apiserver.signal('SIGCONT');
      await cluster.controlPlane.waitApiserverReady();
      expect(inf.stats.watchdogRestarts).toBeGreaterThanOrEqual(1);

      await core.deleteNamespacedConfigMap({ name: 'before', namespace: 'default' });
      await core.createNamespacedConfigMap({ namespace: 'default', body: cm('after-thaw') });
      await waitFor('events after the thaw', async () => seen.includes('add:after-thaw') && seen.includes('delete:before'), 30_000);
      expect(
        inf
          .list()
          .map((o) => o.metadata?.name)
          .sort(),
      ).toEqual(['after-thaw', 'during-watch']);
    } finally {
      inf.stop();
    }
  });

  it('keeps following after the API server restarts (a new watch, no events lost)', async () => {
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    const seen: string[] = [];
    const inf = new Informer<k8s.V1ConfigMap>(cluster.kc, {
      path: '/api/v1/namespaces/default/configmaps',
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'default',
      labelSelector: 't=inf',
      silenceMs: 3000,
      log: createLogger({}, 'error'),
    });
    inf.on((type, o) => seen.push(`${type}:${o.metadata?.name}`));
    await inf.start();
    try {
      await cluster.controlPlane.apiserver.stop();
      cluster.controlPlane.apiserver.start();
      await cluster.controlPlane.waitApiserverReady();
      await core.deleteNamespacedConfigMap({ name: 'during-watch', namespace: 'default' });
      await waitFor('deletion seen after restart', async () => seen.includes('delete:during-watch'), 30_000);
      expect(inf.list().map((o) => o.metadata?.name)).toEqual(['after-thaw']);
      expect(inf.stats.watches).toBeGreaterThanOrEqual(2);
    } finally {
      inf.stop();
    }
  });
});

// The flags and startup of the dedicated /metrics server, shared by the
// controller and the agent (kubebuilder's --metrics-bind-address,
// --metrics-secure and --metrics-cert-dir).
import os from 'node:os';
import type * as k8s from '@kubernetes/client-node';
import type { Metrics } from '../observability/metrics.js';
import { startMetricsServer } from '../observability/server.js';
import { apiServerReviews, metricsGuard } from './delegatedAuth.js';

/**
 * Defaults: no dedicated server, /metrics stays on the probe port over plain
 * HTTP (development, `make run`, the tests). The manifests set
 * --metrics-bind-address=:8443, which serves it over HTTPS to authorized callers only.
 */
export const METRICS_FLAG_DEFAULTS = {
  'metrics-bind-address': '',
  'metrics-secure': 'true',
  'metrics-cert-dir': '',
};

export type MetricsFlags = Record<keyof typeof METRICS_FLAG_DEFAULTS, string>;

/** Starts the dedicated server when --metrics-bind-address is set; true when it did. */
export async function startMetricsEndpoint(
  flags: MetricsFlags,
  kc: k8s.KubeConfig,
  metrics: Metrics,
  serviceName: string,
): Promise<boolean> {
  const address = flags['metrics-bind-address'];
  if (address === '' || address === '0') return false;
  if (flags['metrics-secure'] !== 'true' && flags['metrics-secure'] !== 'false')
    throw new Error(`--metrics-secure must be true or false, not '${flags['metrics-secure']}'`);
  const ns = process.env.POD_NAMESPACE ?? 'systemd-workload-operator';
  const hosts = [
    `${serviceName}.${ns}.svc`,
    `${serviceName}.${ns}.svc.cluster.local`,
    os.hostname(),
    'localhost',
    '127.0.0.1',
    ...(process.env.POD_IP ? [process.env.POD_IP] : []),
  ];
  await startMetricsServer({
    address,
    metrics,
    secure:
      flags['metrics-secure'] === 'true'
        ? { guard: metricsGuard(apiServerReviews(kc)), certDir: flags['metrics-cert-dir'], hosts }
        : undefined,
  });
  return true;
}

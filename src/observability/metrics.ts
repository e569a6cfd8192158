// Prometheus metrics. The controller's names are controller-runtime's, so the
// dashboards and alerts people already have for Go operators work unchanged.
import client from 'prom-client';

export interface WorkqueueMetrics {
  depth: client.Gauge<'name'>;
  adds: client.Counter<'name'>;
  retries: client.Counter<'name'>;
  queueDuration: client.Histogram<'name'>;
  workDuration: client.Histogram<'name'>;
}

export interface ReconcileMetrics {
  total: client.Counter<'controller' | 'result'>;
  errors: client.Counter<'controller'>;
  time: client.Histogram<'controller'>;
}

const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Metrics {
  readonly registry = new client.Registry();
  readonly workqueue: WorkqueueMetrics;
  readonly reconcile: ReconcileMetrics;
  readonly leader: client.Gauge<'name'>;
  /** client-go's name: how long requests waited for the client-side rate limit (--kube-api-qps). */
  readonly rateLimiterDuration: client.Histogram<'verb' | 'host'>;

  constructor(defaultLabels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(defaultLabels);
    client.collectDefaultMetrics({ register: this.registry });
    const r = [this.registry];
    this.workqueue = {
      depth: new client.Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers: r }),
      adds: new client.Counter({
        name: 'workqueue_adds_total',
        help: 'Total number of adds handled by workqueue',
        labelNames: ['name'],
        registers: r,
      }),
      retries: new client.Counter({
        name: 'workqueue_retries_total',
        help: 'Total number of retries handled by workqueue',
        labelNames: ['name'],
        registers: r,
      }),
      queueDuration: new client.Histogram({
        name: 'workqueue_queue_duration_seconds',
        help: 'How long in seconds an item stays in workqueue before being requested',
        labelNames: ['name'],
        buckets: durationBuckets,
        registers: r,
      }),
      workDuration: new client.Histogram({
        name: 'workqueue_work_duration_seconds',
        help: 'How long in seconds processing an item from workqueue takes',
        labelNames: ['name'],
        buckets: durationBuckets,
        registers: r,
      }),
    };
    this.rateLimiterDuration = new client.Histogram({
      name: 'rest_client_rate_limiter_duration_seconds',
      help: 'Client side rate limiter latency in seconds. Broken down by verb, and host.',
      labelNames: ['verb', 'host'],
      buckets: durationBuckets,
      registers: r,
    });
    this.reconcile = {
      total: new client.Counter({
        name: 'controller_runtime_reconcile_total',
        help: 'Total number of reconciliations per controller',
        labelNames: ['controller', 'result'],
        registers: r,
      }),
      errors: new client.Counter({
        name: 'controller_runtime_reconcile_errors_total',
        help: 'Total number of reconciliation errors per controller',
        labelNames: ['controller'],
        registers: r,
      }),
      time: new client.Histogram({
        name: 'controller_runtime_reconcile_time_seconds',
        help: 'Length of time per reconciliation per controller',
        labelNames: ['controller'],
        buckets: durationBuckets,
        registers: r,
      }),
    };
    this.leader = new client.Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
      labelNames: ['name'],
      registers: r,
    });
  }

  /** Registers a gauge whose value is read at scrape time (e.g. the longest running processor). */
  gaugeFn(name: string, help: string, labelNames: string[], collect: (g: client.Gauge<string>) => void): client.Gauge<string> {
    return new client.Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        collect(this);
      },
    });
  }
}

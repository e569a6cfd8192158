// A list+watch cache (client-go's reflector + store, small). Hardened where
// client-node 1.x is not: a watchdog restarts a watch that has gone silent
// (bookmarks arrive about once a minute, so silence means a dead connection),
// 410 Gone leads to a fresh list, and every relist is diffed against the
// cache so deletions missed during an outage still reach the handlers.
//
// Free of client-node at runtime: the agent lists and watches through the lean
// client (rest.ts); given a KubeConfig (the controller, tests), the informer
// loads clientNodeListWatch.ts on first use.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';
import type { ListPage, Query, WatchEvent } from './rest.js';

export type EventType = 'add' | 'update' | 'delete';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export interface InformerOptions<T = KubeObject> {
  /** e.g. /api/v1/nodes or /apis/group/v1/namespaces/ns/plural */
  path: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side watch timeout; the watch is renewed after it. */
  watchTimeoutSeconds?: number;
  /** A watch with no event or bookmark for this long is restarted. */
  silenceMs?: number;
  pageSize?: number;
  /**
   * Applied to every object as it enters the cache (list items and watch events),
   * before the handlers see it: client-go's TransformFunc. The informer keeps only
   * what it returns, so a transform that drops what the handlers never read (e.g.
   * metadata.managedFields) shrinks the cache. It must keep metadata.name,
   * namespace and resourceVersion.
   */
  transform?: (obj: T) => T;
  log: Logger;
}

export function objectKey(o: KubeObject): string {
  const m = o.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? '');
}

/** One page of a list, as an informer asks for it. */
export type ListRequest = Pick<InformerOptions, 'path' | 'apiVersion' | 'kind' | 'namespace' | 'labelSelector' | 'fieldSelector'> & {
  limit: number;
  continue?: string;
};

/** Where an informer lists and watches: the lean client (KubeRest) or client-node (clientNodeListWatch.ts). */
export interface ListWatch {
  list<T>(r: ListRequest): Promise<ListPage<T>>;
  watch<T>(path: string, query: Query, onEvent: WatchEvent<T>, onDone: (err?: unknown) => void): Promise<AbortController>;
}

type Handler<T> = (type: EventType, obj: T, old?: T) => void;

export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: Handler<T>[] = [];
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private syncedOnce = false;
  private lastContact = 0;
  private source: ListWatch | undefined;
  /** Counts for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, watchdogRestarts: 0, gone: 0, errors: 0 };

  constructor(
    private readonly from: KubeConfig | ListWatch,
    private readonly opts: InformerOptions<T>,
  ) {}

  private async listWatch(): Promise<ListWatch> {
    if (!this.source) {
      const from = this.from;
      this.source = 'makeApiClient' in from ? (await import('./clientNodeListWatch.js')).clientNodeListWatch(from) : from;
    }
    return this.source;
  }

  on(handler: Handler<T>): this {
    this.handlers.push(handler);
    return this;
  }

  /** True once the first complete list has been stored. */
  get synced(): boolean {
    return this.syncedOnce;
  }

  /** Milliseconds since the API server last answered this informer. */
  get sinceContactMs(): number {
    return this.lastContact ? Date.now() - this.lastContact : Infinity;
  }

  list(): T[] {
    return [...this.store.values()];
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  /** Starts list+watch; resolves after the first successful list. */
  async start(): Promise<void> {
    this.stopped = false;
    for (;;) {
      try {
        await this.relist();
        break;
      } catch (err) {
        if (this.stopped) return;
        this.stats.errors++;
        const wait = this.nextBackoff();
        this.opts.log.warn('initial list failed, retrying', { path: this.opts.path, error: errorMessage(err), retryMs: wait });
        await sleep(wait);
      }
    }
    void this.watchLoop();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    if (this.watchdog) clearTimeout(this.watchdog);
  }

  private nextBackoff(): number {
    this.failures++;
    return Math.min(200 * 2 ** Math.min(this.failures, 6), 8_000);
  }

  private async relist(): Promise<void> {
    this.stats.lists++;
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    const source = await this.listWatch();
    const { path, apiVersion, kind, namespace, labelSelector, fieldSelector } = this.opts;
    do {
      const page = await source.list<T>({
        path,
        apiVersion,
        kind,
        namespace,
        labelSelector,
        fieldSelector,
        limit: this.opts.pageSize ?? 500,
        continue: cont,
      });
      for (const item of page.items) {
        const kept = this.keep(item);
        fresh.set(objectKey(kept), kept);
      }
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont);
    this.lastContact = Date.now();
    this.failures = 0;
    this.resourceVersion = rv;
    for (const [key, old] of this.store) {
      if (!fresh.has(key)) {
        this.store.delete(key);
        this.emit('delete', old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.store.get(key);
      this.store.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj, old);
    }
    this.syncedOnce = true;
  }

  /** What the cache stores of an object from the API server. */
  private keep(obj: T): T {
    // list items carry no apiVersion/kind; restore them so handlers see whole objects
    obj.apiVersion ??= this.opts.apiVersion;
    obj.kind ??= this.opts.kind;
    return this.opts.transform ? this.opts.transform(obj) : obj;
  }

  private emit(type: EventType, obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        h(type, obj, old);
      } catch (err) {
        this.opts.log.error('informer handler threw', { error: errorMessage(err) });
      }
    }
  }

  private async watchLoop(): Promise<void> {
    while (!this.stopped) {
      const result = await this.watchOnce();
      if (this.stopped) return;
      if (result === 'gone') {
        this.stats.gone++;
        this.opts.log.info('watch expired (410 Gone), relisting', { path: this.opts.path });
      }
      if (result === 'gone' || result === 'error') {
        if (result === 'error') await sleep(this.nextBackoff());
        try {
          await this.relist();
        } catch (err) {
          this.stats.errors++;
          this.opts.log.warn('relist failed', { path: this.opts.path, error: errorMessage(err) });
        }
      }
    }
  }

  /** One watch connection; resolves with why it ended. */
  private watchOnce(): Promise<'closed' | 'gone' | 'error' | 'silent'> {
    return new Promise((resolve) => {
      let outcome: 'closed' | 'gone' | 'error' | 'silent' = 'closed';
      let finished = false;
      const silenceMs = this.opts.silenceMs ?? 90_000;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        if (this.watchdog) clearTimeout(this.watchdog);
        resolve(outcome);
      };
      const arm = (): void => {
        if (this.watchdog) clearTimeout(this.watchdog);
        this.watchdog = setTimeout(() => {
          this.stats.watchdogRestarts++;
          this.opts.log.warn('watch silent, restarting it', { path: this.opts.path, silenceMs });
          outcome = 'silent';
          this.abort?.abort();
          finish();
        }, silenceMs);
        this.watchdog.unref();
      };
      this.stats.watches++;
      arm();
      this.listWatch()
        .then((source) =>
          source.watch<T & { code?: number }>(
            this.opts.path,
            {
              resourceVersion: this.resourceVersion,
              allowWatchBookmarks: true,
              timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
              labelSelector: this.opts.labelSelector,
              fieldSelector: this.opts.fieldSelector,
            },
            (type: string, raw: T & { code?: number }) => {
              arm();
              this.lastContact = Date.now();
              this.failures = 0;
              if (type === 'ERROR') {
                outcome = raw.code === 410 ? 'gone' : 'error';
                this.abort?.abort();
                finish();
                return;
              }
              const rv = raw.metadata?.resourceVersion;
              if (rv) this.resourceVersion = rv;
              if (type === 'BOOKMARK') return;
              const obj = this.keep(raw);
              const key = objectKey(obj);
              const old = this.store.get(key);
              if (type === 'DELETED') {
                this.store.delete(key);
                this.emit('delete', obj);
              } else {
                this.store.set(key, obj);
                this.emit(old ? 'update' : 'add', obj, old);
              }
            },
            (err: unknown) => {
              if (err && outcome === 'closed') {
                const code = (err as { statusCode?: number }).statusCode;
                outcome = code === 410 ? 'gone' : 'error';
                if (outcome === 'error' && !this.stopped) {
                  this.stats.errors++;
                  this.opts.log.warn('watch failed', { path: this.opts.path, error: errorMessage(err) });
                }
              }
              finish();
            },
          ),
        )
        .then((ac) => {
          this.abort = ac;
          if (finished || this.stopped) ac.abort();
        })
        .catch(() => {
          outcome = 'error';
          finish();
        });
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

// The agent's lean Kubernetes client: JSON over one keep-alive node:https agent,
// for the few calls the agent makes (list+watch of its node's SystemdUnitSets,
// their status, its Lease, Events, TokenReview/SubjectAccessReview).
//
// Why not client-node here: importing any of its API classes (or KubeConfig, whose
// module imports the generated index) loads all ~800 generated models and API
// classes: +70 MiB RSS on a process that otherwise needs ~55 MiB (measured in
// bench/results/NOTES.md, "Agent memory"). Credentials still come from the
// kubeconfig as client-node reads it (restConfig.ts); everything else in the
// project keeps client-node.
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';

/** How a request is authenticated: TLS material for the agent, headers per request. */
export interface RestAuth {
  server: string;
  tls: https.AgentOptions;
  /** Authorization (and the like) for one request; called per request so rotated tokens are picked up. */
  headers(): Promise<Record<string, string>>;
}

/** A non-2xx answer. `code` and `statusCode` are the HTTP status (kube/apiErrors.ts reads either). */
export class RestError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
  get statusCode(): number {
    return this.code;
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export type WatchEvent<T> = (type: string, obj: T) => void;

const MERGE_PATCH = 'application/merge-patch+json';

export class KubeRest {
  private readonly agent: http.Agent;
  private readonly lib: typeof http | typeof https;

  constructor(private readonly auth: RestAuth) {
    const secure = auth.server.startsWith('https:');
    this.lib = secure ? https : http;
    // One keep-alive agent, no socket cap: callers bound their own concurrency (see client.ts reuseConnections).
    this.agent = secure ? new https.Agent({ ...auth.tls, keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  replace<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  mergePatch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body, contentType: MERGE_PATCH });
  }

  async request<T>(method: string, path: string, o: { query?: Query; body?: unknown; contentType?: string } = {}): Promise<T> {
    const res = await this.send(method, path, o.query, o.body, o.contentType);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const parsed = parseJson(text);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw errorFrom(status, method, path, parsed ?? text);
    return parsed as T;
  }

  /** One page of a list (an informer's ListRequest: the collection path and its selectors). */
  list<T>(r: { path: string; labelSelector?: string; fieldSelector?: string; limit?: number; continue?: string }): Promise<ListPage<T>> {
    const { labelSelector, fieldSelector, limit } = r;
    return this.get<ListPage<T>>(r.path, { labelSelector, fieldSelector, limit, continue: r.continue });
  }

  /**
   * A watch: onEvent per line the server sends, onDone once when the stream ends
   * (err: the HTTP error, a RestError with the status; undefined on a clean end or
   * an abort). Resolves once the server answered, with the controller that aborts it.
   */
  async watch<T>(path: string, query: Query, onEvent: WatchEvent<T>, onDone: (err?: unknown) => void): Promise<AbortController> {
    const ac = new AbortController();
    let done = false;
    const finish = (err?: unknown): void => {
      if (done) return;
      done = true;
      onDone(ac.signal.aborted ? undefined : err);
    };
    const res = await this.send('GET', path, { ...query, watch: true }, undefined, undefined, ac.signal);
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      finish(errorFrom(status, 'WATCH', path, parseJson(text) ?? text));
      return ac;
    }
    const lines = createInterface({ input: res, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (!line) return;
      const ev = parseJson(line) as { type?: string; object?: T } | undefined;
      if (ev?.type && ev.object) onEvent(ev.type, ev.object);
    });
    lines.on('close', () => finish());
    // readline re-emits its input's errors: without a listener a reset connection (the API
    // server going away mid-watch) would be an uncaught exception and end the agent.
    lines.on('error', (err) => finish(err));
    res.on('error', (err) => finish(err));
    res.on('aborted', () => finish(new Error('watch connection aborted')));
    return ac;
  }

  /** Closes idle keep-alive sockets (at shutdown). */
  close(): void {
    this.agent.destroy();
  }

  private async send(
    method: string,
    path: string,
    query: Query | undefined,
    body: unknown,
    contentType: string | undefined,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const url = new URL(this.auth.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: 'application/json', ...(await this.auth.headers()) };
    if (payload !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = this.lib.request(url, { method, headers, agent: this.agent, signal }, resolve);
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorFrom(status: number, method: string, path: string, body: unknown): RestError {
  const message = (body as { message?: string } | undefined)?.message ?? (typeof body === 'string' ? body.slice(0, 200) : '');
  return new RestError(status, `${method} ${path}: HTTP ${status}${message ? `: ${message}` : ''}`, body);
}

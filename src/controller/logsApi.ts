// Wiring of the aggregated logs API (src/logsapi) into the controller process:
// its reads come from the controller's caches (workloads, children by owner,
// agents' heartbeat Leases), so a request costs the API server one
// SubjectAccessReview and nothing else.
import { promises as fs } from 'node:fs';
import type https from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { apiServerAuthorizer } from '../agent/journal.js';
import { AGENT_CERT_ANNOTATION, AGENT_URL_ANNOTATION, heartbeatLeaseName } from '../kube/heartbeat.js';
import { loadRequestHeaderConfig } from '../logsapi/frontProxy.js';
import { startLogsApiServer } from '../logsapi/server.js';
import type { Logger } from '../observability/log.js';
import { selfSignedCert } from '../observability/selfSignedCert.js';
import type { ControllerIndex, ControllerInformers } from './watches.js';

export interface LogsApiFlags {
  port: number;
  host: string;
  /** PEM files; both empty: a self-signed certificate made at start (the APIService then skips verification). */
  certFile: string;
  keyFile: string;
  heartbeatNamespace: string;
}

export async function startLogsApi(
  kc: k8s.KubeConfig,
  f: LogsApiFlags,
  informers: ControllerInformers,
  index: ControllerIndex,
  log: Logger,
): Promise<https.Server> {
  const serving =
    f.certFile && f.keyFile
      ? { cert: await fs.readFile(f.certFile, 'utf8'), key: await fs.readFile(f.keyFile, 'utf8') }
      : selfSignedCert(['localhost', '127.0.0.1']);
  return startLogsApiServer(
    { port: f.port, host: f.host || undefined, ...serving },
    {
      workload: (ns, name) => informers.workloads.get(`${ns}/${name}`),
      children: (w) => (w.metadata.uid ? index.children(w.metadata.uid) : []),
      agent: (node) => {
        const a = informers.heartbeats.get(`${f.heartbeatNamespace}/${heartbeatLeaseName(node)}`)?.metadata?.annotations;
        const url = a?.[AGENT_URL_ANNOTATION];
        const cert = a?.[AGENT_CERT_ANNOTATION];
        // An agent without a certificate is an older one serving plain HTTP: never send it a token.
        return url?.startsWith('https://') && cert ? { url, cert } : undefined;
      },
      agentAuthorization: async () => {
        const o: https.RequestOptions = {};
        await kc.applyToHTTPSOptions(o);
        const h = (o.headers as Record<string, unknown> | undefined)?.Authorization;
        if (typeof h !== 'string') throw new Error("the controller's credentials carry no bearer token for the agents' TokenReview");
        return h;
      },
      authorizer: apiServerAuthorizer(kc),
      requestHeader: await loadRequestHeaderConfig(kc),
      log,
    },
  );
}

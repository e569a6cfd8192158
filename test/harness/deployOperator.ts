// The operator installed onto kubelet nodes as a user installs it: the
// project's image (the OCI archive `make image` writes) loaded into each node's
// containerd, then `kubectl apply -k` of config/default with only the image
// reference replaced: the agent runs as its DaemonSet, the controller as its
// Deployment.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './binaries.js';
import { Cluster } from './cluster.js';
import { OPERATOR_NAMESPACE } from './operator.js';
import { waitFor } from './process.js';

/** The image name config/ refers to. */
export const CONFIG_IMAGE = 'ghcr.io/example/systemd-workload-operator';
export const AGENT_DAEMONSET = 'systemd-workload-agent';
export const CONTROLLER_DEPLOYMENT = 'systemd-workload-controller';
export const AGENT_SELECTOR = 'app.kubernetes.io/component=agent';

export interface ProjectImage {
  /** An OCI archive (ctr images import reads it). */
  archive: string;
  /** The name the archive carries, e.g. ghcr.io/example/systemd-workload-operator:0.1.0. */
  ref: string;
}

/**
 * The project's image: SDW_IMAGE_ARCHIVE and SDW_IMAGE, else what `make image`
 * writes by default. Missing, the test fails and says how to build it.
 */
export function projectImage(): ProjectImage {
  const archive = process.env.SDW_IMAGE_ARCHIVE ?? path.join(repoRoot, 'dist', 'image', 'systemd-workload-operator.oci.tar');
  const ref = process.env.SDW_IMAGE ?? `${CONFIG_IMAGE}:0.1.0`;
  if (!existsSync(archive)) {
    throw new Error(
      `the project's image archive ${archive} is missing: run 'make image' (or set SDW_IMAGE_ARCHIVE and SDW_IMAGE to an OCI archive and the name it carries)`,
    );
  }
  return { archive, ref };
}

/** Splits `name:tag` at the tag's colon (a registry port's colon stays in the name). */
export function splitRef(ref: string): { name: string; tag: string } {
  const i = ref.lastIndexOf(':');
  if (i < 0 || ref.slice(i).includes('/')) return { name: ref, tag: 'latest' };
  return { name: ref.slice(0, i), tag: ref.slice(i + 1) };
}

/** A kustomization over config/default that changes only the image: what a user writes. */
export async function writeOverlay(dir: string, ref: string): Promise<string> {
  const { name, tag } = splitRef(ref);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(
    path.join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `- ${path.relative(dir, path.join(repoRoot, 'config', 'default'))}`,
      'images:',
      `- {name: ${CONFIG_IMAGE}, newName: ${name}, newTag: "${tag}"}`,
      '',
    ].join('\n'),
  );
  return dir;
}

/** Loads the image into every kubelet node, applies the overlay, and waits for the agents (and controllers) to be ready. */
export async function deployOperator(cluster: Cluster, image: ProjectImage): Promise<void> {
  await Promise.all([...cluster.kubeletNodes.values()].map((n) => n.importImage(image.archive)));
  const overlay = await writeOverlay(path.join(cluster.dir, 'deploy'), image.ref);
  await cluster.kubectlOk(['apply', '--server-side', '--force-conflicts', '-k', overlay]);
  await waitRolledOut(cluster, 'daemonset', AGENT_DAEMONSET);
  await waitRolledOut(cluster, 'deployment', CONTROLLER_DEPLOYMENT);
}

export async function waitRolledOut(cluster: Cluster, kind: 'daemonset' | 'deployment', name: string): Promise<void> {
  await waitFor(
    `${kind} ${name} rolled out`,
    async () => {
      const r = await cluster.kubectl(['rollout', 'status', `${kind}/${name}`, '-n', OPERATOR_NAMESPACE, '--timeout=20s']);
      if (r.code !== 0) throw new Error(r.stderr || r.stdout);
      return true;
    },
    180_000,
    1000,
  );
}

export interface PodInfo {
  metadata: { name: string; uid: string };
  spec: { nodeName: string; containers: Array<{ name: string; image: string }> };
  status: {
    phase: string;
    containerStatuses?: Array<{
      ready: boolean;
      restartCount: number;
      containerID?: string;
      imageID?: string;
      image?: string;
      state?: unknown;
      lastState?: unknown;
    }>;
  };
}

/** The agent pods, by node. */
export async function agentPods(cluster: Cluster): Promise<Map<string, PodInfo>> {
  const out = await cluster.kubectlOk(['get', 'pods', '-n', OPERATOR_NAMESPACE, '-l', AGENT_SELECTOR, '-o', 'json']);
  const pods = (JSON.parse(out) as { items: PodInfo[] }).items;
  return new Map(pods.map((p) => [p.spec.nodeName, p]));
}

/** A cluster of kubelet nodes with the operator deployed from its image (the image is checked before anything boots). */
export async function startDeployedOperator(nodes: string[], binds?: string[]): Promise<{ cluster: Cluster; image: ProjectImage }> {
  const image = projectImage();
  const cluster = await Cluster.start({ kubeletNodes: nodes.map((name) => ({ name, binds })) });
  try {
    await deployOperator(cluster, image);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return { cluster, image };
}

/** A workload of long-running units (sleep, as a dynamic user: what the default policy admits) on every node or the selected ones. */
export function sleepWorkload(name: string, units = ['main'], nodeSelector?: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: 'default' },
    spec: {
      ...(nodeSelector ? { nodeSelector } : {}),
      units: units.map((u) => ({ name: u, command: ['/bin/sleep', 'infinity'], dynamicUser: true })),
    },
  });
}

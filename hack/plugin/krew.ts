// The krew Plugin manifest of kubectl-sdw (krew.sigs.k8s.io/docs/developer-guide/plugin-manifest).
// One archive serves every platform: the plugin is JavaScript run by the user's
// Node.js, and its dependencies are pure JavaScript (npm ci --ignore-scripts).
export const HOMEPAGE = 'https://github.com/example/systemd-workload-operator';

export const PLATFORMS: ReadonlyArray<{ os: string; arch: string }> = [
  { os: 'linux', arch: 'amd64' },
  { os: 'linux', arch: 'arm64' },
  { os: 'darwin', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
];

export interface KrewPlatform {
  selector: { matchLabels: { os: string; arch: string } };
  uri: string;
  sha256: string;
  bin: string;
}

export interface KrewManifest {
  apiVersion: 'krew.googlecontainertools.github.com/v1alpha2';
  kind: 'Plugin';
  metadata: { name: string };
  spec: {
    version: string;
    homepage: string;
    shortDescription: string;
    description: string;
    caveats: string;
    platforms: KrewPlatform[];
  };
}

/** The release asset krew downloads for version (what make plugin-archive builds). */
export const archiveName = (version: string): string => `kubectl-sdw_v${version}.tar.gz`;

export function krewManifest(version: string, sha256: string): KrewManifest {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256 digest: ${sha256}`);
  const uri = `${HOMEPAGE}/releases/download/v${version}/${archiveName(version)}`;
  return {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
    kind: 'Plugin',
    metadata: { name: 'sdw' },
    spec: {
      version: `v${version}`,
      homepage: HOMEPAGE,
      shortDescription: 'Inspect and roll out systemd units run by systemd-workload-operator',
      description: `kubectl sdw is the plugin of systemd-workload-operator, which runs systemd units
on Kubernetes nodes the way a DaemonSet runs containers. It lists workloads
(get, -o json|yaml|wide|name, -l, -w), shows each node's units (status),
controls rollouts (rollout status|history|undo|pause|resume|restart|promote),
reads unit journals (logs), renders and validates workload files offline, and
imports crontabs and unit files.`,
      caveats: `Needs Node.js >= 20 on PATH.
Shell completion of "kubectl sdw" (kubectl 1.26+): link the completion helper
into a directory on PATH, e.g.
  ln -s "$HOME/.krew/store/sdw/v${version}/kubectl_complete-sdw" "$HOME/.krew/bin/"`,
      platforms: PLATFORMS.map((p) => ({ selector: { matchLabels: p }, uri, sha256, bin: 'kubectl-sdw' })),
    },
  };
}

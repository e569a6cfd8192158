// Where a workload's files (spec.files[].path) may be on a node (issue 15):
//
// - in the workload's own directory /etc/sdw/<namespace>/<workload>/, always;
// - elsewhere only where a cluster admin opened it twice: the namespace label
//   systemd.operators.dev/allow-file-paths=true (config/policy/workload_default_file_paths.yaml)
//   and a prefix in spec.allowedFilePaths of every SystemdWorkloadPolicy that
//   covers the namespace (config/policy/workload_policy.yaml, src/controller/policy.ts);
// - never under systemd's or the operator's own directories (FORBIDDEN_FILE_PREFIXES),
//   whatever a policy says: the CRD refuses them, and the agent again.
//
// Pure, shared by the schema (CEL is generated from these lists), validate.ts,
// the controller's policy check and the agent.

/** The directory the operator owns on every node; one subdirectory per namespace, then workload. */
export const FILES_ROOT = '/etc/sdw';

/** The namespace label that lets a namespace's workloads name files outside their own directory. */
export const ALLOW_FILE_PATHS_LABEL = 'systemd.operators.dev/allow-file-paths';

/**
 * Never a file path, whatever a policy allows: systemd's unit directories (a file
 * there is a unit nobody reviewed), the OS and kernel interfaces, and the agent's
 * own directories (artifacts, its state with the node's sealing key and the
 * record of what it wrote). /etc/sdw is governed separately: only the workload's
 * own subdirectory.
 */
export const FORBIDDEN_FILE_PREFIXES: readonly string[] = [
  '/etc/systemd',
  '/run/systemd',
  '/usr',
  '/proc',
  '/sys',
  '/dev',
  '/var/lib/sdw',
  '/var/lib/systemd-workload-agent',
];

/** p is the directory `dir` or lies below it (dir without or with a trailing '/'). */
export function isUnder(p: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir : `${dir}/`;
  return p === d.slice(0, -1) || p.startsWith(d);
}

/** The forbidden prefix a path lies under, if any. */
export function forbiddenPrefixOf(p: string): string | undefined {
  return FORBIDDEN_FILE_PREFIXES.find((f) => isUnder(p, f));
}

/** The workload's own directory, with its trailing '/'. */
export function ownFilesDir(namespace: string, workload: string): string {
  return `${FILES_ROOT}/${namespace}/${workload}/`;
}

/** Under /etc/sdw at all (the workload's own directory or another's). */
export function inFilesRoot(p: string): boolean {
  return isUnder(p, FILES_ROOT);
}

/** A file path outside /etc/sdw (the ones the namespace label and allowedFilePaths govern). */
export function isOutsideFilesRoot(p: string): boolean {
  return !inFilesRoot(p);
}

/** Strictly below one of the prefixes (a prefix is a directory: the prefix itself is not a file path it allows). */
export function filePathAllowed(p: string, prefixes: readonly string[]): boolean {
  return prefixes.some((dir) => {
    const d = dir.endsWith('/') ? dir : `${dir}/`;
    return p.startsWith(d) && p.length > d.length;
  });
}

/** The message admission and the agent give for a forbidden path (without the field name). */
export function forbiddenMessage(p: string, prefix: string): string {
  return `'${p}' is under ${prefix}, where no workload file may be (systemd's and the operator's own directories: ${FORBIDDEN_FILE_PREFIXES.join(', ')}), whatever a policy allows`;
}

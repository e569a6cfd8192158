#!/usr/bin/env bash
# The kubectl-sdw plugin archive krew installs (make plugin-archive), and its krew
# manifest generated from it, so the manifest's sha256 is always the archive's:
#   dist/plugin/kubectl-sdw_v<version>.tar.gz   the launcher scripts, dist/src, the
#                                               production node_modules (npm ci --omit=dev)
#   dist/plugin/sdw.yaml                        the krew Plugin manifest
# The archive is byte-for-byte reproducible from the same dist/ and lock file
# (sorted entries, fixed mtime, owner and modes, gzip without a timestamp).
# Prints the archive's path. Needs dist/ built (make build).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
[ -f dist/src/cli/main.js ] || { echo "dist/src/cli/main.js is missing: run make build first" >&2; exit 1; }
[ -f dist/hack/plugin/manifest.js ] || { echo "dist/hack/plugin/manifest.js is missing: run make build first" >&2; exit 1; }
version=$(node -p 'require("./package.json").version')
out=dist/plugin
stage=$out/stage
archive=$out/kubectl-sdw_v$version.tar.gz
rm -rf "$stage" "$archive"
mkdir -p "$stage/dist"
cp -r dist/src "$stage/dist/src"
find "$stage/dist" -name '*.map' -delete
cp package.json package-lock.json .npmrc hack/plugin/kubectl-sdw hack/plugin/kubectl_complete-sdw "$stage/"
(cd "$stage" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
rm -f "$stage/.npmrc"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode='u+rw,go+r,go-w' --format=gnu \
  -C "$stage" -cf - . | gzip -n -9 >"$archive"
rm -rf "$stage"
node dist/hack/plugin/manifest.js "$archive" >"$out/sdw.yaml"
echo "$root/$archive"

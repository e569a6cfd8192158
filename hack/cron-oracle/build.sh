#!/usr/bin/env bash
# Builds the cron oracle (main.go here: robfig/cron v3, the library behind
# Kubernetes CronJob, from the Go module proxy, its checksums in go.sum) once,
# and caches it by robfig's version outside the repo, like hack/helm/build.sh.
# The source's hash is part of the cache key, so an edit to main.go rebuilds.
#
# Prints the path of the cron-oracle binary on stdout, progress on stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=version.env
source "$here/version.env"
cache=${SDW_CACHE:-$HOME/.cache/systemd-workload-operator}
src_hash=$(cat "$here/main.go" "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-12)
out="$cache/cron-oracle-$ROBFIG_CRON_VERSION"
bin="$out/cron-oracle-$src_hash"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

log() { echo "[cron-oracle] $*" >&2; }
command -v go >/dev/null || { log "go is not installed: install Go >= 1.24 to build the cron oracle"; exit 1; }
log "building cron-oracle with robfig/cron $ROBFIG_CRON_VERSION"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$here" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o "$tmp/cron-oracle" .) >&2
mv "$tmp/cron-oracle" "$bin"
echo "$bin"

#!/usr/bin/env bash
# Builds helm from the Go module proxy (helm.sh/helm/v3 has no replace
# directives, so `go install module@version` works, its checksums verified by
# the Go checksum database) and caches it by version outside the repo, the way
# hack/k8s/build.sh caches the Kubernetes binaries. The ldflags are the ones of
# helm's own Makefile: its version, and the Kubernetes version its client-go
# stands for (what `helm template` and `helm lint` assume without a cluster).
#
# Prints the path of the helm binary on stdout, progress on stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=version.env
source "$here/version.env"
cache=${SDW_CACHE:-$HOME/.cache/systemd-workload-operator}
out="$cache/helm-$HELM_VERSION"
if [ -x "$out/bin/helm" ]; then echo "$out/bin/helm"; exit 0; fi

log() { echo "[helm-build] $*" >&2; }
command -v go >/dev/null || { log "go is not installed: install Go (helm $HELM_VERSION builds with Go >= 1.26)"; exit 1; }
# helm v3.22 needs Go >= 1.26: an older go fetches that toolchain from the module proxy (GOTOOLCHAIN=auto).
export GOFLAGS=-mod=mod CGO_ENABLED=0

mod="helm.sh/helm/v3"
dir=$(go mod download -json "$mod@$HELM_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[ -n "$dir" ] || { log "go mod download $mod@$HELM_VERSION gave no directory"; exit 1; }
clientgo=$(sed -n 's/^\s*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$dir/go.mod")
[ -n "$clientgo" ] || { log "no k8s.io/client-go in $dir/go.mod"; exit 1; }
ld="-s -w -X $mod/internal/version.version=$HELM_VERSION -X $mod/internal/version.gitTreeState=clean"
for p in pkg/lint/rules pkg/chartutil; do ld="$ld -X $mod/$p.k8sVersionMajor=1 -X $mod/$p.k8sVersionMinor=$clientgo"; done

log "building helm $HELM_VERSION (a few minutes on 2 cores the first time)"
mkdir -p "$out/bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" go install -trimpath -ldflags "$ld" "$mod/cmd/helm@$HELM_VERSION" >&2
mv "$tmp/helm" "$out/bin/helm"
"$out/bin/helm" version --short >&2
echo "$out/bin/helm"

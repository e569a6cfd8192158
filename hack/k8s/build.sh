#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kubectl, etcd, and for the
# kubelet test nodes kube-scheduler and kubelet, from the Go
# module proxy, the way envtest serves Go operators, and caches them by version
# outside the repo. k8s.io/kubernetes cannot be `go install`ed (its go.mod
# replaces the staging modules with ./staging paths), so a wrapper module here
# requires it and replaces every staging module with its v0.X.Y release.
#
# Prints the cache directory (the one holding bin/) on stdout, progress on stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${SDW_CACHE:-$HOME/.cache/systemd-workload-operator}
out="$cache/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"
k8s_bins=(kube-apiserver kube-controller-manager kubectl kube-scheduler kubelet)
bins=("${k8s_bins[@]}" etcd)

have_all() { for b in "${bins[@]}"; do [ -x "$out/bin/$b" ] || return 1; done; }
if have_all; then echo "$out"; exit 0; fi

log() { echo "[k8s-build] $*" >&2; }
command -v go >/dev/null || { log "go is not installed: install Go >= 1.24"; exit 1; }
mkdir -p "$out/bin"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
# The committed go.sum files pin every module by checksum.

# A scratch copy of the wrapper modules: go.sum is written during resolution,
# and the repo's copies stay untouched.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/kubernetes" "$here/etcd" "$work/"

minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
staging=v0.${K8S_VERSION#v1.}
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)

missing_k8s=()
for b in "${k8s_bins[@]}"; do [ -x "$out/bin/$b" ] || missing_k8s+=("$b"); done
if [ ${#missing_k8s[@]} -gt 0 ]; then
  cd "$work/kubernetes"
  if ! grep -q "k8s.io/kubernetes $K8S_VERSION" go.mod 2>/dev/null || [ ! -s go.sum ]; then
    # (Re)generate the wrapper for a new version; commit the result (hack/k8s/kubernetes/go.{mod,sum}).
    log "resolving k8s.io/kubernetes@$K8S_VERSION (staging modules at $staging)"
    kmod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    {
      echo "module sdw.local/hack/k8s/kubernetes"
      echo
      echo "go 1.24.0"
      echo
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo
      echo "replace ("
      # every staging module the release's own go.mod replaces with ./staging/...
      sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$staging"'#p' "$kmod"
      echo ")"
    } > go.mod
    rm -f go.sum
    pkgs=(); for b in "${k8s_bins[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b@$K8S_VERSION"); done
    go get "${pkgs[@]}" >&2
    cp go.mod go.sum "$here/kubernetes/"
  fi
  ver="k8s.io/component-base/version"
  cver="k8s.io/client-go/pkg/version"
  ld="-s -w"
  for p in $ver $cver; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$now -X $p.gitCommit=module-proxy"
  done
  # Only the missing ones: a cache from before kubelet and kube-scheduler were
  # added keeps its control plane and builds just those two.
  for b in "${missing_k8s[@]}"; do
    log "building $b $K8S_VERSION (several minutes on 2 cores the first time)"
    go build -trimpath -ldflags "$ld" -o "$out/bin/$b.tmp" "k8s.io/kubernetes/cmd/$b" >&2
    mv "$out/bin/$b.tmp" "$out/bin/$b"
  done
fi

if ! [ -x "$out/bin/etcd" ]; then
  log "building etcd $ETCD_VERSION from go.etcd.io/etcd/server/v3"
  cd "$work/etcd"
  if ! grep -q "go.etcd.io/etcd/server/v3 $ETCD_VERSION" go.mod 2>/dev/null || [ ! -s go.sum ]; then
    printf 'module sdw.local/hack/k8s/etcd\n\ngo 1.24.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > go.mod
    rm -f go.sum
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
    cp go.mod go.sum "$here/etcd/"
  fi
  go build -trimpath -ldflags "-s -w" -o "$out/bin/etcd.tmp" go.etcd.io/etcd/server/v3 >&2
  mv "$out/bin/etcd.tmp" "$out/bin/etcd"
fi

have_all || { log "build finished but binaries are missing in $out/bin"; exit 1; }
log "binaries ready in $out/bin"
echo "$out"

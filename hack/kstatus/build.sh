#!/usr/bin/env bash
# Builds hack/kstatus (a wrapper around sigs.k8s.io/cli-utils' kstatus, the
# status library of Flux, kpt and helm --wait) from the Go module proxy, its
# checksums pinned by go.sum, and caches the binary by version outside the
# repo, the way hack/helm/build.sh caches helm. The e2e tests run it against
# real workloads to check the conditions the way those tools read them.
#
# Prints the path of the binary on stdout, progress on stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's/^\s*sigs.k8s.io\/cli-utils \(v[0-9.]*\)$/\1/p' "$here/go.mod")
[ -n "$version" ] || { echo "[kstatus-build] no sigs.k8s.io/cli-utils version in $here/go.mod" >&2; exit 1; }
cache=${SDW_CACHE:-$HOME/.cache/systemd-workload-operator}
out="$cache/kstatus-$version"
# The source is part of the key too: a changed main.go must not reuse an old binary.
sum=$(cat "$here/main.go" "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-12)
if [ -x "$out/bin/kstatus-$sum" ]; then echo "$out/bin/kstatus-$sum"; exit 0; fi

command -v go >/dev/null || { echo "[kstatus-build] go is not installed: install Go >= 1.24 to build kstatus" >&2; exit 1; }
echo "[kstatus-build] building kstatus (cli-utils $version)" >&2
mkdir -p "$out/bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$here" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags '-s -w' -o "$tmp/kstatus" .) >&2
mv "$tmp/kstatus" "$out/bin/kstatus-$sum"
echo "$out/bin/kstatus-$sum"

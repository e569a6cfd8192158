#!/usr/bin/env bash
# Boots a real systemd as PID 1 of new pid/mount/cgroup/uts namespaces: one test "node".
# Called by test/harness/systemdNode.ts, which owns the lifecycle; the facts behind
# every step are in shared/node-sandbox.md. Usage: node-sandbox.sh DIR CGROUP_NAME HOSTNAME
#   DIR/bus      <- the node's /run/dbus   (DIR/bus/system_bus_socket is its system bus)
#   DIR/units    <- the node's /etc/systemd/system
#   DIR/journal  <- the node's /var/log/journal
#   DIR/timers   <- the node's /var/lib/systemd/timers (Persistent= stamps stay the node's)
#   DIR/files    <- the node's /etc/sdw (the agent's spec.files; an empty mount point on the host)
#   DIR/agent-state <- the node's /var/lib/systemd-workload-agent (the agent's sealing key)
# Optional, for nodes that run more than systemd (kubeletNode.ts sets them):
#   SDNODE_WANTS    units the boot target also starts (e.g. containerd.service)
#   SDNODE_BINDS    node paths that get their own directory DIR/fs<path> (per-node
#                   state such as /var/lib/containerd); each path must exist on the
#                   host (hack/install-deps.sh creates the kubelet node ones)
#   SDNODE_SYSCTLS  key=value host-wide kernel settings the node reads as set, from
#                   a file bound over /proc/sys/<key>: a /proc/sys file written in
#                   the node would change the host
set -euo pipefail
DIR=$1 CG=$2 HOSTNAME_=${3:-node}
case "$DIR" in
  /tmp/*|/var/tmp/*|/run/*) echo "node-sandbox: $DIR is under /tmp, /var/tmp or /run, which the node mounts privately" >&2; exit 2 ;;
esac
# These nodes remount the cgroup v1 hierarchies of the host (hybrid or legacy layout).
# A pure cgroup v2 host has none: say so, rather than fail on a mount error. The
# cgroup v2 behaviour is tested on VM nodes instead (test/e2e/vm, make test-vm).
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
  echo "node-sandbox: this host has a pure cgroup v2 layout; the namespace test nodes need the hybrid (v1 controllers) layout of the CI machines. Boot the host with systemd.unified_cgroup_hierarchy=0, or run the cgroup v2 suite alone: make test-vm" >&2
  exit 2
fi
mkdir -p "$DIR/bus" "$DIR/units" "$DIR/journal" "$DIR/timers" "$DIR/files" "$DIR/agent-state" \
  /var/lib/systemd/timers /etc/sdw /var/lib/systemd-workload-agent
for d in ${SDNODE_BINDS:-}; do
  [ -d "$d" ] || { echo "node-sandbox: mount point $d is missing on the host: run hack/install-deps.sh" >&2; exit 2; }
  mkdir -p "$DIR/fs$d"
done

# A cgroup subtree of its own in every v1 hierarchy (and the v2 one), below the
# caller's own cgroup, so nodes side by side do not share /system.slice/x.service.
# Read /proc/self/cgroup once, up front: it changes under us as we move.
own_cgroups=$(cat /proc/self/cgroup)
while IFS=: read -r _ ctrl path; do
  case "$ctrl" in
    "") h=unified ;;
    name=systemd) h=systemd ;;
    *) h=${ctrl%%,*} ;;
  esac
  base=/sys/fs/cgroup/$h$path
  [ -d "$base" ] || continue
  mkdir -p "$base/$CG"
  if [ "$h" = cpuset ]; then
    cat "$base/cpuset.cpus" > "$base/$CG/cpuset.cpus"
    cat "$base/cpuset.mems" > "$base/$CG/cpuset.mems"
  fi
  echo $$ > "$base/$CG/cgroup.procs"
done <<< "$own_cgroups"

# --net: each node has its own network (loopback only), so services on two
# nodes can listen on the same port, as on two machines.
exec unshare --pid --fork --mount --cgroup --uts --net --propagation private -- bash -c '
set -euo pipefail
DIR=$1
# Private /tmp, /var/tmp, /run: a systemd that sees the host /tmp wipes it.
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/tmp
mount -t tmpfs tmpfs /run
# Shared within this namespace (its own peer group, nothing reaches the host): systemd
# sets up the credentials of a unit (LoadCredential=) on a ramfs in a child mount namespace
# and moves it to /run/credentials/<unit>, which reaches PID 1 only by propagation.
# On a host systemd makes / shared itself; with container=other it leaves that to us.
mount --make-shared /run
mkdir -p /run/dbus /run/systemd
mount --bind "$DIR/bus" /run/dbus
cat > "$DIR/units/sdnode.target" <<EOT
[Unit]
Description=systemd-workload-operator test node
Wants=dbus.socket dbus.service systemd-journald.service ${SDNODE_WANTS:-}
EOT
mount --bind "$DIR/units" /etc/systemd/system
mkdir -p /var/log/journal && mount --bind "$DIR/journal" /var/log/journal
mount --bind "$DIR/timers" /var/lib/systemd/timers
mount --bind "$DIR/files" /etc/sdw
mount --bind "$DIR/agent-state" /var/lib/systemd-workload-agent
mount -t proc proc /proc
for d in ${SDNODE_BINDS:-}; do mount --bind "$DIR/fs$d" "$d"; done
mkdir -p "$DIR/sysctl"
for kv in ${SDNODE_SYSCTLS:-}; do
  key=${kv%%=*}
  echo "${kv#*=}" > "$DIR/sysctl/$key"
  mount --bind "$DIR/sysctl/$key" "/proc/sys/${key//.//}"
done
ip link set lo up
# A fresh tmpfs on /sys/fs/cgroup: systemd remounts it read-only, which must not
# reach the host superblock. Every hierarchy is mounted afresh at the namespace root.
mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
for c in cpu cpuacct cpuset memory devices freezer blkio pids; do
  mkdir -p /sys/fs/cgroup/$c && mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c
done
mkdir -p /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
hostname "$2"
export container=other
exec /lib/systemd/systemd --system --unit=sdnode.target --log-target=console --log-level=notice
' node-sandbox "$DIR" "$HOSTNAME_"

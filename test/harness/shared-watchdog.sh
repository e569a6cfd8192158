#!/usr/bin/env bash
# Ends a jest worker's shared control plane (test/harness/sharedCluster.ts) once the worker is
# gone. Started by the harness detached, in a session of its own (so neither the worker's exit nor
# a Ctrl-C of the test run ends it first). Usage: shared-watchdog.sh WORKER_PID WORKER_START DIR
#   WORKER_START  the worker's start time (field 22 of /proc/PID/stat): a PID reused by another
#                 process is not the worker
#   DIR/pids      the processes the harness started, one "PID START NAME" a line; each is ended
#                 by its PID, and only if that PID still has the recorded start time
# Then it removes DIR. It leaves nothing behind unless a process had to be killed: DIR.watchdog.log
# says which.
set -uo pipefail
WORKER=$1 WORKER_START=$2 DIR=$3

# Field 22 of /proc/PID/stat (the process's start time in clock ticks since boot); empty if gone
# or a zombie (exited, not yet reaped). The command name (field 2) may hold spaces and
# parentheses: read after its last ')'.
start_time() {
  local stat rest
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  rest=${stat##*) }
  read -ra f <<<"$rest"
  [ "${f[0]:-}" = Z ] || echo "${f[19]:-}"
}

while [ "$(start_time "$WORKER")" = "$WORKER_START" ]; do sleep 1; done

# End each recorded process still alive with its recorded start time, the last started first (as
# ControlPlane.stop: kube-apiserver shuts down gracefully only while etcd answers), each given
# 10 s after SIGTERM before SIGKILL.
recorded=()
[ -f "$DIR/pids" ] && mapfile -t recorded < <(tac "$DIR/pids")
for rec in "${recorded[@]}"; do
  read -r pid start name <<<"$rec"
  [ -n "$pid" ] && [ "$(start_time "$pid")" = "$start" ] || continue
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 100); do
    [ "$(start_time "$pid")" = "$start" ] || continue 2
    sleep 0.1
  done
  echo "$(date -u +%FT%TZ) $name (PID $pid) ignored SIGTERM for 10 s: SIGKILL" >>"$DIR.watchdog.log"
  kill -KILL "$pid" 2>/dev/null
done
rm -rf "$DIR"

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

# The processes to end: the recorded ones still alive with their recorded start time.
ours() {
  [ -f "$DIR/pids" ] || return 0
  while read -r pid start name; do
    [ -n "$pid" ] && [ "$(start_time "$pid")" = "$start" ] && echo "$pid $name"
  done <"$DIR/pids"
}

mapfile -t left < <(ours)
for p in "${left[@]}"; do kill -TERM "${p%% *}" 2>/dev/null; done
for _ in $(seq 1 100); do
  mapfile -t left < <(ours)
  [ ${#left[@]} -eq 0 ] && break
  sleep 0.1
done
for p in "${left[@]}"; do
  echo "$(date -u +%FT%TZ) ${p#* } (PID ${p%% *}) ignored SIGTERM for 10 s: SIGKILL" >>"$DIR.watchdog.log"
  kill -KILL "${p%% *}" 2>/dev/null
done
rm -rf "$DIR"

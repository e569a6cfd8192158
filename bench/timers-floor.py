#!/usr/bin/python3
# The floor of bench/timers.ts: how long one systemd takes to start N oneshot services at once,
# asked for with nothing of this project in the way (no code shared with the agent; a sibling of
# node-apply-floor.py). Debian's python3-dbus and python3-gi (hack/install-deps.sh).
#
# The services PREFIX0.service .. PREFIX<N-1>.service must already be loaded (bench/timers.ts
# writes them, the timers' own .service content, and keeps them loaded by a started target
# that Wants= them, as each timer keeps its service loaded): GetUnit, which only answers for a
# unit in memory, counts those that are not (notLoaded: StartUnit then parses their file inside
# the clock, which the timers never do; expected 0).
#
# Timed: Manager.StartUnit(name, "replace") for every service, pipelined: up to WINDOW jobs
# outstanding (from the call to the job's JobRemoved; default 256), the next call sent as each
# job ends. Not all 1,000 at once: systemd tracks the requester of every job it was asked for
# over D-Bus with one NameOwnerChanged match rule on its own bus connection, and dbus-daemon
# allows 512 (max_match_rules_per_connection); past it systemd's AddMatch fails and systemd
# drops off the bus (NoReply "recipient disconnected": runs with 16 and 128 calls in flight and
# no bound on jobs failed so, bench/results/history/timers.floor-failure-*.txt). A timer's job
# has no requester to track. The agent bounds its jobs to 64 (src/systemd/bus.ts). And at most
# CALLS (64) calls await their reply: dbus-daemon refuses a connection's 129th pending call
# (max_replies_per_connection=128; LimitsExceeded in the run of 06:56, history/timers.floor-failure-0656.txt).
#   t0 = CLOCK_REALTIME (microseconds) just before the first call;
#   lastStartSeconds = the latest ExecMainStartTimestamp among the N services minus t0: when
#     systemd had forked the main process of the last of them (the same timestamp as the
#     timers' lateness, so the two compare directly);
#   jobsSeconds = the last JobRemoved (every job "done" required) minus t0.
# ExecMainStartTimestamp is read after the clock, each one required to be >= t0 (a start of
# this run, not an older one).
#
# usage: timers-floor.py BUS_ADDRESS PREFIX N [WINDOW]   prints one JSON object.
import json
import sys
import time

import dbus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

SYSTEMD = "org.freedesktop.systemd1"
MANAGER_PATH = "/org/freedesktop/systemd1"
MANAGER = "org.freedesktop.systemd1.Manager"
# Calls awaiting their reply: dbus-daemon refuses a connection's 129th (max_replies_per_connection).
CALLS = 64


def now_us():
    return time.time_ns() // 1000


def main():
    address, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    window = int(sys.argv[4]) if len(sys.argv) > 4 else 256
    names = [f"{prefix}{i}.service" for i in range(n)]

    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    manager = dbus.Interface(bus.get_object(SYSTEMD, MANAGER_PATH), MANAGER)
    manager.Subscribe()
    not_loaded = 0
    for name in names:
        try:
            manager.GetUnit(name)
        except dbus.exceptions.DBusException:
            not_loaded += 1

    loop = GLib.MainLoop()
    removed = {}  # job path -> (result, realtime us): a job may end before its StartUnit reply arrives
    jobs = {}  # name -> job path
    mine = set()  # job paths of this run not yet removed
    errors = []
    state = {"next": 0, "outstanding": 0, "inflight": 0, "replies": 0}

    def done():
        return state["replies"] == n and all(j in removed for j in jobs.values())

    def on_job_removed(_id, job, _unit, result):
        job = str(job)
        removed[job] = (str(result), now_us())
        if job in mine:
            mine.discard(job)
            state["outstanding"] -= 1
            send()
        if done():
            loop.quit()

    bus.add_signal_receiver(on_job_removed, "JobRemoved", MANAGER, SYSTEMD, MANAGER_PATH)

    def send():
        while state["outstanding"] < window and state["inflight"] < CALLS and state["next"] < n:
            name = names[state["next"]]
            state["next"] += 1
            state["outstanding"] += 1
            state["inflight"] += 1
            manager.StartUnit(
                name,
                "replace",
                reply_handler=lambda job, name=name: on_reply(name, str(job)),
                error_handler=lambda e, name=name: on_error(name, e),
            )

    def on_reply(name, job):
        jobs[name] = job
        state["replies"] += 1
        state["inflight"] -= 1
        if job in removed:  # its JobRemoved came before this reply
            state["outstanding"] -= 1
        else:
            mine.add(job)
        send()
        if done():
            loop.quit()

    def on_error(name, e):
        errors.append((name, str(e)))
        loop.quit()

    t0 = now_us()
    send()
    loop.run()
    if errors:
        sys.exit(f"timers-floor: {len(errors)} StartUnit call(s) failed, e.g. {errors[:3]}")
    bad = [(name, removed[j][0]) for name, j in jobs.items() if removed[j][0] != "done"]
    if bad:
        sys.exit(f"timers-floor: {len(bad)} job(s) not done, e.g. {bad[:3]}")
    last_removed = max(removed[j][1] for j in jobs.values())

    starts = []
    for name in names:
        props = dbus.Interface(bus.get_object(SYSTEMD, manager.GetUnit(name)), "org.freedesktop.DBus.Properties")
        us = int(props.Get("org.freedesktop.systemd1.Service", "ExecMainStartTimestamp"))
        if us < t0:
            sys.exit(f"timers-floor: {name} ExecMainStartTimestamp {us} is before the first call ({t0})")
        starts.append(us)
    print(
        json.dumps(
            {
                "units": n,
                "window": window,
                "notLoaded": not_loaded,
                "t0Us": t0,
                "firstStartSeconds": (min(starts) - t0) / 1e6,
                "lastStartSeconds": (max(starts) - t0) / 1e6,
                "jobsSeconds": (last_removed - t0) / 1e6,
            }
        )
    )


if __name__ == "__main__":
    main()

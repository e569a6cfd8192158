#!/usr/bin/python3
# The floor of bench/node-apply.ts: applying N units to one systemd with nothing of this
# project in the way (no code shared with the agent; adapted from the reference
# systemd-floor.py of the issue). Debian's python3-dbus and python3-gi (hack/install-deps.sh).
#
# It does the durable work the agent does for new units (src/systemd/unitStore.ts,
# src/agent/reconcile.ts execute()), in the same order:
#   1. each unit file written atomically: temp file in the unit directory (O_EXCL, 0644),
#      write, fsync, close, rename over the name; 16 files at a time (the agent's
#      writeMany); then ONE fsync of the directory;
#   2. ONE Manager.Reload;
#   3. Manager.StartUnit(name, "replace") for every service, each job awaited to its
#      JobRemoved (result "done" required);
#   4. ONE Manager.EnableUnitFiles(all files, runtime=false, force=true) (the boot links).
# The clock runs from before the first write to the reply of EnableUnitFiles.
#
# usage: node-apply-floor.py BUS_ADDRESS UNIT_DIR SOURCE_DIR
#   SOURCE_DIR holds the unit files to apply (written there by bench/node-apply.ts, read
#   into memory before the clock starts). Prints one JSON object: seconds per phase.
import json
import os
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import dbus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

WRITERS = 16
TEMP_SUFFIX = ".floor-tmp"


def write_atomic(unit_dir, name, data):
    tmp = os.path.join(unit_dir, f".{name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, os.path.join(unit_dir, name))


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main():
    address, unit_dir, source_dir = sys.argv[1:4]
    files = {n: open(os.path.join(source_dir, n), "rb").read() for n in sorted(os.listdir(source_dir))}
    services = [n for n in files if n.endswith(".service")]

    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    manager = dbus.Interface(
        bus.get_object("org.freedesktop.systemd1", "/org/freedesktop/systemd1"), "org.freedesktop.systemd1.Manager"
    )
    manager.Subscribe()
    loop = GLib.MainLoop()
    pending = set()
    removed = {}  # job path -> result, for every JobRemoved seen (a job may end before its path is known here)
    state = {"waiting": False}

    def on_job_removed(_id, job, _unit, result):
        removed[str(job)] = str(result)
        pending.discard(str(job))
        if state["waiting"] and not pending:
            loop.quit()

    bus.add_signal_receiver(
        on_job_removed, "JobRemoved", "org.freedesktop.systemd1.Manager", "org.freedesktop.systemd1", "/org/freedesktop/systemd1"
    )

    t0 = time.monotonic()
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(lambda item: write_atomic(unit_dir, item[0], item[1]), files.items()))
    fsync_dir(unit_dir)
    t1 = time.monotonic()
    manager.Reload(timeout=300)
    t2 = time.monotonic()
    jobs = [str(manager.StartUnit(n, "replace")) for n in services]
    pending.update(j for j in jobs if j not in removed)
    if pending:
        state["waiting"] = True
        loop.run()
    t3 = time.monotonic()
    manager.EnableUnitFiles(list(files), False, True, timeout=300)
    t4 = time.monotonic()

    bad = [(n, removed.get(j)) for n, j in zip(services, jobs) if removed.get(j) != "done"]
    if bad:
        sys.exit(f"floor: {len(bad)} job(s) not done, e.g. {bad[:3]}")
    print(json.dumps({"total": t4 - t0, "write": t1 - t0, "reload": t2 - t1, "start": t3 - t2, "enable": t4 - t3}))


if __name__ == "__main__":
    main()

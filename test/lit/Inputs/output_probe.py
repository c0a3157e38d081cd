#!/usr/bin/env python3
"""Helpers for the output-file tests.
  output_probe.py fsize BYTES -- CMD...   run CMD with RLIMIT_FSIZE = BYTES; print its exit code
  output_probe.py fifo DIR -- CMD...      CMD writes to DIR/fifo (a FIFO) while this reads it;
                                          prints the bytes read and whether DIR/fifo is still a FIFO
  output_probe.py ls DIR                  the entries of DIR, sorted, one per line (or '<empty>')"""
import os
import resource
import stat
import subprocess
import sys
import threading

mode = sys.argv[1]
if mode == "fsize":
    limit = int(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1:]

    def lim():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    r = subprocess.run(cmd, preexec_fn=lim, capture_output=True, text=True)
    sys.stdout.write(r.stderr)
    print("exit %d" % r.returncode)
elif mode == "fifo":
    d = sys.argv[2]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    path = os.path.join(d, "fifo")
    os.mkfifo(path)
    got = []

    def reader():
        with open(path, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=reader)
    t.start()
    r = subprocess.run(cmd)
    t.join(timeout=60)
    data = got[0] if got else b""
    print("exit %d, read %d bytes, starts %r, still a fifo: %s" % (
        r.returncode, len(data), data[:6], stat.S_ISFIFO(os.lstat(path).st_mode)))
elif mode == "ls":
    names = sorted(os.listdir(sys.argv[2]))
    print("\n".join(names) if names else "<empty>")

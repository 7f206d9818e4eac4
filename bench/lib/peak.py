#!/usr/bin/python3
"""Runs a Python program (fail2ban-regex) in this process and then reports
its peak resident set and CPU time on stderr, as one line
"bench-peak: {json}".

The resource use of a finished child is no use here: wait4's ru_maxrss of
a process started by the Go driver also counts the driver's own memory
(the child shares the driver's address space until it execs). VmHWM of
the process itself is exact, so the program runs inside this one.

usage: peak.py PROGRAM [ARGS...]
"""
import json
import os
import runpy
import sys


def report():
    peak = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1])
    t = os.times()
    sys.stdout.flush()
    print("bench-peak: " + json.dumps({"peak_rss_kib": peak, "cpu_s": t.user + t.system}), file=sys.stderr)


def main():
    program = sys.argv[1]
    sys.argv = sys.argv[1:]
    try:
        runpy.run_path(program, run_name="__main__")
    finally:
        report()


if __name__ == "__main__":
    main()

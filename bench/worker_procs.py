"""What bench/worker-ab.py and bench/worker-switches.py read from /proc about a bench-cluster's local workers."""
import os


def workers(cli):
    """The pids of the worker processes started from this CLI build (`dotnet CLI worker ...`)."""
    found = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            args = open(f'/proc/{pid}/cmdline').read().split('\0')
        except OSError:
            continue
        if cli in args and 'worker' in args:
            found.append(pid)
    return found


def read_switches(pids, first, last, initial):
    """Each worker thread's (voluntary, involuntary) context switches into last[(pid, tid)]; first keeps the first
    reading, or (0, 0) for a thread first seen after the initial reading (threads come and go: one born mid-window
    counts everything it did)."""
    for pid in pids:
        try:
            tids = os.listdir(f'/proc/{pid}/task')
        except OSError:
            continue
        for tid in tids:
            counts = [0, 0]
            try:
                for row in open(f'/proc/{pid}/task/{tid}/status'):
                    if row.startswith('voluntary_ctxt'):
                        counts[0] = int(row.split()[1])
                    elif row.startswith('nonvoluntary_ctxt'):
                        counts[1] = int(row.split()[1])
            except OSError:
                continue
            first.setdefault((pid, tid), tuple(counts) if initial else (0, 0))
            last[(pid, tid)] = tuple(counts)

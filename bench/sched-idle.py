#!/usr/bin/env python3
"""Where a machine's cores idle while a pipeline's threads wait for one, from the kernel's own timeline.

Record every CPU for a few seconds of a pipeline's window, then read the recording:
  perf sched record -a -o sched.data -- sleep 3      (during bench-cluster's distributed round)
  bench/sched-idle.py sched.data [--match 'tessera frames'] [--examples N]

Prints the share of the cores' capacity spent idle, and how much of that idle time overlapped a matching thread
being runnable but not running (woken, or preempted, and queued on a CPU that was busy while another was idle: the
kernel did not move it), the same split per thread, each thread's total wait to be scheduled ('sch delay') and time on
a CPU; with --examples, the longest such waits with the kernel's timeline around them. 'perf sched timehist' gives one
line per switch: the task switched out, its wait, its scheduling delay and its run time; '<idle>' lines are a CPU's
idle spans. Needs perf with the sched tracepoints (root, or perf_event_paranoid low enough)."""
import argparse, collections, re, subprocess

LINE = re.compile(r"\s*([\d.]+)\s+\[(\d+)\]\s+(.*?)\s{2,}([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")


def timeline(path):
    """Per CPU idle spans and per thread its runs and runnable waits, in ms: (start, end, cpu)."""
    out = subprocess.run(["perf", "sched", "timehist", "-i", path], capture_output=True, text=True, check=True).stdout
    idle, runs, waits, cpus, first, last = [], collections.defaultdict(list), collections.defaultdict(list), set(), None, None
    for line in out.splitlines()[3:]:
        m = LINE.match(line)
        if not m:
            continue
        t, cpu, name = float(m.group(1)) * 1e3, int(m.group(2)), m.group(3).strip()
        delay, ran = float(m.group(5)), float(m.group(6))
        cpus.add(cpu)
        first = t - ran if first is None else min(first, t - ran)
        last = t if last is None else max(last, t)
        if name.startswith("<idle>"):
            idle.append((t - ran, t, cpu))
            continue
        runs[name].append((t - ran, t, cpu))
        if delay > 0:
            waits[name].append((t - ran - delay, t - ran, cpu))
    return idle, runs, waits, len(cpus), (last or 0) - (first or 0)


def merged(spans):
    out = []
    for s, e, _ in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def overlap(idle, spans):
    """Idle time (summed over CPUs) during the union of spans."""
    spans = merged(spans)
    starts = [s for s, _ in spans]
    import bisect
    total = 0.0
    for a, b, _ in idle:
        i = max(0, bisect.bisect_right(starts, a) - 1)
        while i < len(spans) and spans[i][0] < b:
            total += max(0.0, min(b, spans[i][1]) - max(a, spans[i][0]))
            i += 1
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--match", default="tessera frames", help="the threads to follow (name prefix); a pipeline stage runs on its connection's frame thread")
    ap.add_argument("--examples", type=int, default=0)
    a = ap.parse_args()
    idle, runs, waits, ncpu, span = timeline(a.data)
    ours = sorted(n for n in set(runs) | set(waits) if n.startswith(a.match))
    total_idle = sum(e - s for s, e, _ in idle)
    print(f"{span:.0f} ms on {ncpu} CPUs: idle {total_idle:.0f} ms, {total_idle / (span * ncpu):.1%} of the capacity")
    waiting = overlap(idle, [w for n in ours for w in waits[n]])
    print(f"  of which while a '{a.match}' thread was runnable and not running: {waiting:.0f} ms, {waiting / (span * ncpu):.1%} of the capacity")
    print(f"\n{'thread':44} {'on CPU ms':>9} {'waited ms':>9} {'idle meanwhile':>14}")
    for n in ours:
        on = sum(e - s for s, e, _ in runs[n])
        w = sum(e - s for s, e, _ in waits[n])
        print(f"{n[:44]:44} {on:9.0f} {w:9.0f} {overlap(idle, waits[n]):14.0f}")
    if a.examples:
        worst = sorted(((overlap(idle, [x]), x, n) for n in ours for x in waits[n]), reverse=True)[:a.examples]
        for lost, (s, e, cpu), n in worst:
            print(f"\n{n} waited {e - s:.3f} ms from {s / 1e3:.6f} (ran on CPU {cpu}), a CPU idle {lost:.3f} ms of it:")
            around = subprocess.run(["perf", "sched", "timehist", "-w", "-i", a.data, "--time", f"{(s - 2) / 1e3:.6f},{(e + 1) / 1e3:.6f}"],
                                    capture_output=True, text=True).stdout.splitlines()[3:]
            for line in around[:40]:
                print("   " + line.rstrip())


if __name__ == "__main__":
    main()

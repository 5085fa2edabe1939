#!/usr/bin/env python3
"""Reads a WorkerPoolTrace (TESSERA_POOL_TRACE=FILE ./tessera bench ...; FILE and FILE.chunks) and prints, per loop of one
inference (the repeating sequence of loops at the end of the run, averaged over its repeats): its chunks, the CPU time
of its chunks, the time 2 threads would take on them with the pool's split (each thread its contiguous share from the
front, then the other's from the end) if nothing else ran, and the loss against half the CPU; the CPU of its chunks in
the repeats where one thread ran them all ("alone") and where both threads ran some ("both"), and "both / alone": what
running next to the other thread costs the same work (cache lines moving between the cores, shared caches and memory);
then per inference the chunks and CPU each side ran, the caller's wait after its own chunks (wall) and the CPU spent
waiting and idle; and the caller's time between the loops of one inference (wall, each gap's least over the
inferences: the work no loop shares, such as shape arithmetic and a kernel's set-up), added to the simulated split for
the time 2 undisturbed threads would take per inference. CPU times are thread clocks, so the simulated split holds on a loaded machine where the wall times do
not; on a loaded machine "alone" is the common case (the worker held off its core) and "both" the quieter spells."""
import statistics, sys
from collections import defaultdict

def main(path, threads=2):
    head, *rows = [line.split() for line in open(path)]
    col = {name: i for i, name in enumerate(head)}
    chunks = defaultdict(dict)
    threads_of = defaultdict(set)
    for loop, index, thread, cpu in (line.split() for line in list(open(path + ".chunks"))[1:]):
        chunks[int(loop)][int(index)] = float(cpu)
        threads_of[int(loop)].add(thread)
    names = [r[col["body"]] for r in rows]
    # The shortest sequence that repeats over the last half of the run (a loop pattern within one inference, such as
    # fill and compute pairs, repeats only over a few layers).
    period = next((p for p in range(1, len(rows) // 4 + 1) if all(names[-i] == names[-i - p] for i in range(1, len(rows) // 2 - p + 1))), None)
    if period is None:
        sys.exit("no repeating sequence of loops: run more inferences")
    runs = len(rows) // period - 1  # the first repeat is left out: warm-up
    first = len(rows) - runs * period
    print(f"{period} loops per inference, {runs} inferences")
    print(f"{'#':>3} {'body':34} {'chunks':>6} {'cpu us':>9} {'split us':>9} {'loss us':>8} {'loss':>6} {'alone us':>12} {'both us':>12} {'both/alone':>10}")
    total = split = paired_alone = paired_both = 0.0
    for j in range(period):
        cpus, spans, by_threads = [], [], defaultdict(list)
        for k in range(first + j, len(rows), period):
            times = [chunks[k].get(c, 0.0) for c in range(int(rows[k][col["chunks"]]))]
            cpus.append(sum(times))
            spans.append(simulate(times, threads))
            by_threads["both" if len(threads_of[k]) > 1 else "alone"].append(sum(times))
        cpu, span = statistics.mean(cpus), statistics.mean(spans)
        total, split = total + cpu, split + span
        alone, both = (statistics.median(by_threads[w]) if by_threads[w] else None for w in ("alone", "both"))
        side = lambda w, v: f"{v:8.1f} ({len(by_threads[w]):3})" if v is not None else f"{'-':>8} (  0)"
        ratio = f"{both / alone:10.3f}" if alone and both else f"{'-':>10}"
        if alone and both:
            paired_alone, paired_both = paired_alone + alone, paired_both + both
        print(f"{j:3} {names[first + j][:34]:34} {rows[first + j][col['chunks']]:>6} {cpu:9.1f} {span:9.1f} {span - cpu / threads:8.1f} {(span * threads / cpu - 1) * 100 if cpu else 0:5.1f}%"
              f" {side('alone', alone)} {side('both', both)} {ratio}")
    print(f"all loops: cpu {total / 1e3:.2f} ms, split {split / 1e3:.2f} ms, loss {(split - total / threads) / 1e3:.3f} ms ({(split * threads / total - 1) * 100:.1f}%)")
    if paired_alone:
        print(f"loops seen both ways (medians): alone {paired_alone / 1e3:.2f} ms, both threads {paired_both / 1e3:.2f} ms cpu ({paired_both / paired_alone:.3f})")
    per = lambda name: statistics.mean(sum(float(r[col[name]]) for r in rows[i:i + period]) for i in range(first, len(rows), period))
    wait = statistics.mean(sum(float(r[col["end_us"]]) - float(r[col["caller_done_us"]]) for r in rows[i:i + period]) for i in range(first, len(rows), period))
    print(f"per inference: caller {per('caller_chunks'):.1f} chunks {per('caller_cpu_us') / 1e3:.2f} ms cpu, workers {per('worker_chunks'):.1f} chunks "
          f"{per('worker_cpu_us') / 1e3:.2f} ms cpu; caller waited {wait / 1e3:.2f} ms (wall) for the workers, spending {per('join_cpu_us') / 1e3:.2f} ms cpu; "
          f"workers idle {per('worker_idle_cpu_us') / 1e3:.2f} ms cpu")
    # Gaps after loop j of each inference, up to the next loop of the same inference (the gap after the last loop runs
    # into the next inference and holds the bench's own work, so it is left out).
    gaps = [min(float(rows[i + j + 1][col["post_us"]]) - float(rows[i + j][col["end_us"]]) for i in range(first, len(rows) - period + 1, period))
            for j in range(period - 1)]
    print(f"between loops (caller alone, least of each gap): {sum(gaps) / 1e3:.3f} ms per inference, largest {max(gaps, default=0):.1f} us "
          f"after loop {gaps.index(max(gaps)) if gaps else '-'}; undisturbed 2 threads: split + between = {(split + sum(gaps)) / 1e3:.2f} ms")

def simulate(times, threads):
    """Finish time of the pool's split of chunks of these durations over threads that start together."""
    n = len(times)
    helpers = min(threads - 1, n - 1)
    parts = helpers + 1
    shares = [[n * p // parts, n * (p + 1) // parts] for p in range(parts)]
    clock = [0.0] * parts
    active = set(range(parts))
    while active:
        p = min(active, key=lambda t: clock[t])
        for k in range(parts):
            owner = shares[(p + k) % parts]
            if owner[0] < owner[1]:
                if k == 0:
                    chunk, owner[0] = owner[0], owner[0] + 1
                else:
                    owner[1] -= 1
                    chunk = owner[1]
                clock[p] += times[chunk]
                break
        else:
            active.discard(p)
    return max(clock)

if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2)

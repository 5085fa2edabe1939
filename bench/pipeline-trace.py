#!/usr/bin/env python3
"""Reads the pipeline timelines of every process of a run (TESSERA_PIPELINE_TRACE=PREFIX ./tessera bench-cluster ...:
PREFIX.worker.PID.tsv and PREFIX.bench-cluster.PID.tsv, see src/Tessera.Cluster/Telemetry/PipelineTrace.cs) and prints,
over the windows where the coordinator kept batches in flight (stretches longer than a second: the distributed rounds):

- per worker (named by the stage it ran): its session runs (count, rows each, wall and CPU per run, wall / CPU: above 1
  the process was held off its core part-way), and where its wall time went: computing, a RUN queued before the session
  took it (behind a run, or the hand-off to the model's thread), sending the outputs on (including waits for ring
  room), and idle with nothing received (waiting for input: a bubble when other workers have work);
- how many workers computed at once: the share of the window with 0, 1, 2 and 3+ session runs in progress. On a
  machine of C cores, fewer than C while batches are in flight is a core the pipeline left idle (a bubble), more than C
  is time-slicing (runs held off their core); for each count, what the idle workers were doing;
- while fewer runs than cores were in progress: the share of the window where a stage that neither computed nor sent
  held a batch it had not started (unread in its ring or queued: it waited for a core, a wake-up or its reader), per
  stage, and where no stage could start one (every batch behind a run, in a send or with the coordinator: the
  pipeline's own bubble). The first is the scheduler's to fix, the second the pipeline's;
- the coordinator: batches, their cuts (pieces per batch), the time each took from its cut to its join, the join's
  own wall and CPU, and the sends.

Usage: bench/pipeline-trace.py PREFIX [--cores N] [--window I]"""
import argparse, bisect, collections, glob, os, statistics, sys


def load(path):
    rows = []
    with open(path) as f:
        head = f.readline().split()
        for line in f:
            v = line.split("\t")
            rows.append({"kind": v[0], "id": int(v[1]), "stage": int(v[2]), "rows": int(v[3]),
                         "start": float(v[4]), "end": float(v[5]), "cpu": float(v[6])})
    return rows


def windows(batches, gap=100_000, shortest=1_000_000):
    """Stretches where batches stayed in flight (joined when less than `gap` us apart), longer than `shortest` us."""
    spans = sorted((b["start"], b["end"]) for b in batches)
    merged = []
    for s, e in spans:
        if merged and s <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged if e - s >= shortest]


def clip(s, e, wins):
    return sum(max(0.0, min(e, we) - max(s, ws)) for ws, we in wins)


def inside(v, wins):
    return any(ws <= v["start"] and v["end"] <= we for ws, we in wins)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("prefix")
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    ap.add_argument("--window", type=int, help="only this window (0 the first; -1 the last), e.g. a timed round without the warm-up")
    a = ap.parse_args()
    workers, coordinator = {}, []
    for path in sorted(glob.glob(a.prefix + ".*.tsv")):
        rows = load(path)
        if ".worker." in path:
            stages = collections.Counter(r["stage"] for r in rows if r["kind"] == "Request")
            workers[stages.most_common(1)[0][0] if stages else len(workers) + 100] = rows
        else:
            coordinator += rows
    batches = [r for r in coordinator if r["kind"] == "Batch"]
    if not batches or not workers:
        sys.exit(f"no coordinator batches or no worker runs under {a.prefix}.*.tsv")
    wins = windows(batches)
    if not wins:
        sys.exit("no stretch of a second or more with batches in flight")
    if a.window is not None:
        wins = [wins[a.window]]
    total = sum(e - s for s, e in wins)
    print(f"{len(wins)} window(s) with batches in flight, {total / 1e6:.2f} s (" + ", ".join(f"{(e - s) / 1e6:.2f} s" for s, e in wins) + f"); {len(workers)} workers, {a.cores} cores")

    # Per worker: runs and where its wall time went, from disjoint states ordered by precedence.
    print(f"\n{'stage':>5} {'runs':>5} {'wall ms':>8} {'cpu ms':>7} {'cpu ms/row':>10} {'wall/cpu':>8} {'model thr':>9}"
          f" | {'compute':>7} {'queued':>7} {'sending':>7} {'idle':>7}  (share of the window) | rows x runs")
    states = {}
    for stage in sorted(workers):
        rows = [r for r in workers[stage] if inside(r, wins)]
        runs = [r for r in rows if r["kind"] == "Run"]
        requests = {r["id"]: r for r in rows if r["kind"] == "Request"}
        sends = [r for r in rows if r["kind"] == "Send"]
        run_start = {r["id"]: r["start"] for r in runs}
        queued = [(q["start"], run_start[i]) for i, q in requests.items() if i in run_start]
        # Precedence: compute > sending > queued > idle (a worker may hold a queued run while it sends another's outputs).
        intervals = {"compute": [(r["start"], r["end"]) for r in runs], "sending": [(s["start"], s["end"]) for s in sends], "queued": queued}
        states[stage] = intervals
        share = timeline_shares(intervals, wins, total)
        wall = [(r["end"] - r["start"]) / 1e3 for r in runs]
        cpu = [r["cpu"] / 1e3 for r in runs if r["cpu"] >= 0]
        sizes = collections.Counter(r["rows"] for r in runs)
        rows_run = sum(r["rows"] for r in runs if r["cpu"] >= 0)
        print(f"{stage:>5} {len(runs):>5} {statistics.mean(wall):>8.2f} {statistics.mean(cpu):>7.2f} {sum(cpu) / max(1, rows_run):>10.3f}"
              f" {sum(wall) / max(1e-9, sum(cpu)):>8.2f} {sum(r['stage'] for r in runs) / len(runs):>9.0%}"
              f" | {share['compute']:>7.1%} {share['queued']:>7.1%} {share['sending']:>7.1%} {share['idle']:>7.1%}"
              f"  | {', '.join(f'{k}x{n}' for k, n in sorted(sizes.items(), reverse=True))}")

    # How many computed at once, and what the others did meanwhile.
    events = []
    for stage, iv in states.items():
        for state, spans in iv.items():
            for s, e in spans:
                events.append((s, 1, stage, state))
                events.append((e, -1, stage, state))
    events.sort(key=lambda x: (x[0], x[1]))
    active = {stage: collections.Counter() for stage in states}
    at_once = collections.Counter()
    others = collections.defaultdict(collections.Counter)
    last = None
    for t, delta, stage, state in events:
        if last is not None and t > last:
            span = clip(last, t, wins)
            if span > 0:
                what = {st: next((x for x in ("compute", "sending", "queued") if c[x] > 0), "idle") for st, c in active.items()}
                k = sum(1 for w in what.values() if w == "compute")
                at_once[min(k, 3)] += span
                for st, w in what.items():
                    if w != "compute":
                        others[min(k, 3)][f"{st}:{w}"] += span
        active[stage][state] += delta
        last = t
    print(f"\nsession runs in progress at once (share of the window; with {a.cores} cores, fewer is a core the pipeline left idle, more is time-slicing):")
    for k in range(4):
        idle = ", ".join(f"stage {n} {s / at_once[k]:.0%}" for n, s in sorted(others[k].items(), key=lambda x: -x[1])[:6]) if at_once[k] else ""
        print(f"  {k}{'+' if k == 3 else ' '} {at_once[k] / total:>6.1%}   not computing then: {idle}")

    whereabouts(workers, coordinator, wins, total, a.cores)

    # The coordinator.
    bs = [b for b in batches if inside(b, wins)]
    joins = [j for j in coordinator if j["kind"] == "Join" and inside(j, wins)]
    sends = [s for s in coordinator if s["kind"] == "Send" and inside(s, wins)]
    routes = [r for r in coordinator if r["kind"] == "Route" and inside(r, wins)]
    receives = {r["id"]: r for r in coordinator if r["kind"] == "Receive" and inside(r, wins)}
    cuts = collections.Counter(b["stage"] for b in bs)
    rows = sum(b["rows"] for b in bs)
    print(f"\ncoordinator: {len(bs)} batches, {rows / (total / 1e6):.1f} rows/s, pieces per batch {dict(sorted(cuts.items()))},"
          f" batch from cut to join median {statistics.median((b['end'] - b['start']) / 1e3 for b in bs):.2f} ms")
    if receives:
        rs = list(receives.values())
        kept = sum(1 for r in rs if r["stage"] > 0)
        cpu = [r["cpu"] for r in rs if r["cpu"] >= 0]
        print(f"  results read: {len(rs)}, {kept} left in the ring ({len(rs) - kept} copied out), wall median {statistics.median((r['end'] - r['start']) / 1e3 for r in rs):.3f} ms,"
              f" cpu {sum(cpu) / 1e3 / max(1, rows):.4f} ms per row")
    for name, xs in (("join", joins), ("send", sends), ("route", routes)):
        if xs:
            # A route spans awaits (its thread's CPU then counts other work): wall only.
            cpu = [x["cpu"] for x in xs if x["cpu"] >= 0] if name != "route" else []
            print(f"  {name:>5}: {len(xs)}, wall median {statistics.median((x['end'] - x['start']) / 1e3 for x in xs):.3f} ms"
                  + (f", cpu {sum(cpu) / 1e3 / max(1, rows):.4f} ms per row ({len(cpu)} of them on one thread)" if cpu else ""))
    in_flight = collections.Counter()
    ev = sorted([(b["start"], 1) for b in bs] + [(b["end"], -1) for b in bs])
    n, last = 0, None
    for t, d in ev:
        if last is not None:
            in_flight[n] += clip(last, t, wins)
        n += d
        last = t
    print("  batches in flight: " + ", ".join(f"{k}: {v / total:.0%}" for k, v in sorted(in_flight.items())))

    # Hand-offs between processes (a frame written until the next process's reader took it: its wake-up) and the
    # coordinator's own turn-around, which hold a batch while no worker has it.
    request_start = {st: {r["id"]: r["start"] for r in workers[st] if r["kind"] == "Request"} for st in workers}
    # When each worker was last free before a request began (its previous request's end): a frame that arrived while
    # the worker computed on the frame thread waited in the ring, a queue, not a hand-off.
    free = {}
    for st in workers:
        ends = sorted(r["end"] for r in workers[st] if r["kind"] == "Request")
        free[st] = lambda t, ends=ends: ends[bisect.bisect_left(ends, t) - 1] if bisect.bisect_left(ends, t) > 0 else 0.0
    send_end = {st: {r["id"]: r["end"] for r in workers[st] if r["kind"] == "Send"} for st in workers}
    hops = collections.defaultdict(list)
    for s in sends:
        if s["id"] in request_start[0]:
            hops["coordinator -> stage 0"].append(request_start[0][s["id"]] - max(s["end"], free[0](request_start[0][s["id"]])))
    order = sorted(workers)
    for a_, b_ in zip(order, order[1:]):
        for i, t in send_end[a_].items():
            if i in request_start[b_] and clip(t - 1, t, wins):
                hops[f"stage {a_} -> stage {b_}"].append(max(0.0, request_start[b_][i] - max(t, free[b_](request_start[b_][i]))))
    for r in routes:
        if r["id"] in send_end[order[-1]]:
            t = send_end[order[-1]][r["id"]]
            if r["id"] in receives:
                hops[f"stage {order[-1]} -> coordinator's reader"].append(receives[r["id"]]["start"] - t)
            hops[f"stage {order[-1]} -> coordinator's route"].append(r["end"] - t)
    last_route = collections.defaultdict(float)
    print("  hand-offs (frame sent, or the next process free, until it took it), median / mean ms:")
    for name, xs in hops.items():
        print(f"    {name:28} {statistics.median(xs) / 1e3:7.3f} / {statistics.mean(xs) / 1e3:7.3f}  ({len(xs)})")
    starts = sorted(b["start"] for b in bs)
    turn = []
    for b in bs:
        later = [s for s in starts if s >= b["end"]]
        if later:
            turn.append(later[0] - b["end"])
    if turn:
        print(f"  a batch's join until the next batch's cut (the caller's turn-around), median / mean ms: {statistics.median(turn) / 1e3:.3f} / {statistics.mean(turn) / 1e3:.3f}")


def whereabouts(workers, coordinator, wins, total, cores):
    """While fewer runs than cores are in progress: where each batch in flight is. A stage that is not computing but
    holds a batch it has not started (unread in its ring, or queued) and sends nothing had work a core could run (it
    waited for the scheduler, a wake-up or its reader); otherwise every batch sat behind a stage's run, in a send or with the
    coordinator (a bubble of the pipeline itself)."""
    order = sorted(workers)
    ev = collections.defaultdict(dict)
    for r in coordinator:
        if r["kind"] in ("Send", "Receive", "Route"):
            ev[r["id"]]["c" + r["kind"]] = (r["start"], r["end"])
    for st in order:
        for r in workers[st]:
            if r["kind"] in ("Request", "Run", "Send"):
                ev[r["id"]][(r["kind"], st)] = (r["start"], r["end"])
    spans, runs = [], []
    for e in ev.values():
        if "cRoute" not in e or any(("Request", st) not in e or ("Run", st) not in e for st in order):
            continue
        t = e["cSend"][1] if "cSend" in e else e["cRoute"][0]
        for st in order:
            request, run, send = e[("Request", st)], e[("Run", st)], e.get(("Send", st))
            spans += [(t, request[0], st, "waiting"), (request[0], run[0], st, "waiting"), (run[0], run[1], st, "computing")]
            runs.append((run[0], run[1], st))
            t = run[1]
            if send:
                spans.append((run[1], send[1], st, "sending"))
                t = send[1]
        end = e["cReceive"][0] if "cReceive" in e else e["cRoute"][1]
        spans.append((t, end, -1, "to the coordinator"))
    points = []
    for s, e, st, what in spans:
        if e > s:
            points += [(s, 1, st, what), (e, -1, st, what)]
    points.sort(key=lambda x: (x[0], x[1]))
    held = collections.Counter()
    few = 0.0
    kinds = collections.Counter()
    waiting_stage = collections.Counter()
    last = None
    for t, d, st, what in points:
        if last is not None and t > last:
            span = clip(last, t, wins)
            computing = {s for s in order if held[(s, "computing")] > 0}
            if span > 0 and len(computing) < cores:
                few += span
                startable = [s for s in order if s not in computing and held[(s, "sending")] == 0 and held[(s, "waiting")] > 0]
                if startable:
                    kinds["a stage not computing held a batch it had not started"] += span
                    for s in startable:
                        waiting_stage[s] += span
                else:
                    kinds["no stage could start one (all behind a run, sending, or with the coordinator)"] += span
        held[(st, what)] += d
        last = t
    if not few:
        return
    print(f"\nwhile fewer than {cores} runs were in progress ({few / total:.1%} of the window), the batches in flight:")
    for k in ("a stage not computing held a batch it had not started", "no stage could start one (all behind a run, sending, or with the coordinator)"):
        print(f"  {kinds[k] / total:6.1%} of the window: {k}")
    for s, v in sorted(waiting_stage.items()):
        print(f"      stage {s} held one, not computing: {v / total:.1%}")


def timeline_shares(intervals, wins, total):
    """Share of the windows each worker spent per state, the first of compute > sending > queued taking each moment."""
    events = []
    for state, spans in intervals.items():
        for s, e in spans:
            events += [(s, 1, state), (e, -1, state)]
    events.sort(key=lambda x: (x[0], x[1]))
    count = collections.Counter()
    share = collections.Counter()
    last = None
    for t, d, state in events:
        if last is not None and t > last:
            span = clip(last, t, wins)
            now = next((x for x in ("compute", "sending", "queued") if count[x] > 0), "idle")
            share[now] += span
        count[state] += d
        last = t
    covered = sum(share.values())
    share["idle"] += total - covered
    return {k: v / total for k, v in share.items()} | {k: share[k] / total for k in ("compute", "sending", "queued", "idle")}


if __name__ == "__main__":
    main()

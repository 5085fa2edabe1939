#!/usr/bin/env python3
"""A/B (A/B/C...) of worker settings given by environment variables, in alternated runs of one tree's bench-cluster
(GPT b8 s128 3-stage pipeline by default), under the same load:

    python3 bench/worker-ab.py --pairs 6 --trace /tmp/ab normal:TESSERA_WORKER_SCHED=normal batch:

Each run is `./tessera bench-cluster ... --rounds 1` with the config's variables (the workers inherit them); the configs
take turns, the first one alternating. Per run: the workers' + coordinator's CPU per row over the single process's and
over the side-by-side sessions', the throughput over the pipeline's bound, the workers' voluntary and involuntary context
switches per stage run (/proc/PID/task/*/status, read every 0.2 s while the distributed round runs), the cores' idle
share (1 - rows/s x (workers + coordinator) CPU per row / cores: other processes' CPU counts as idle), with --trace the
trace's shares of the window with fewer runs than cores in progress (a stage holding a batch it had not started, stage
2's part of that, the pipeline's bubble) and the load. At the end, the medians per config and each config's per-round
differences against the first one. Settings from outside the CLI: _COORD (the coordinator's frame threads) and _CHEAP
(the cheap stage's worker, e.g. `base: cheap:_CHEAP=normal:0`: issue 19, b18)."""
import argparse, ctypes, os, re, statistics, subprocess, sys, threading, time

from worker_procs import read_switches, workers

parser = argparse.ArgumentParser()
parser.add_argument('configs', nargs='+', help='NAME:VAR=VALUE,VAR=VALUE (empty after the colon: no variables; _INFLIGHT=N sets --in-flight, _CLI=PATH runs that copy of tessera.dll, '
                    '_COORD=batch or _COORD=nice:N puts the coordinator\'s frame threads under SCHED_BATCH or at nice N, from outside, as soon as they appear; '
                    '_CHEAP=normal puts the threads of the worker that used the least CPU in the distributed round\'s first 0.5 s (the cheap stage) under '
                    'SCHED_OTHER (sched_setscheduler: Linux 6.18 keeps its 20 ms slice), _CHEAP=normal:MS with an MS ms slice (sched_setattr; 0: the kernel\'s), '
                    '_CHEAP=nice:N as normal at nice N)')
parser.add_argument('--pairs', type=int, default=6)
parser.add_argument('--in-flight', default='4')
parser.add_argument('--seconds', default='5')
parser.add_argument('--workers', default='3')
parser.add_argument('--strategy', default='pipeline')
parser.add_argument('--model', default='gpt.onnx')
parser.add_argument('--shape', default='input_ids=8x128')
parser.add_argument('--log', default='/tmp/worker-ab.log')
parser.add_argument('--trace', help='a folder for TESSERA_PIPELINE_TRACE timelines: adds the session runs\' CPU per row and wall / CPU')
parser.add_argument('--perf-sched', help='a folder: records `perf sched record -a -- sleep 3` from 1 s into each distributed round '
                    '(NAME-I.data; read it with bench/sched-idle.py)')
parser.add_argument('--cli', help='a copy of artifacts/cli/tessera.dll to run (so that editing the tree mid-run changes nothing)')
args = parser.parse_args()
if args.perf_sched:
    os.makedirs(args.perf_sched, exist_ok=True)
if args.trace:
    os.makedirs(args.trace, exist_ok=True)  # the trace prefix's folder: the CLI does not create it
tree = os.path.abspath('.')
cache = os.environ.get('TESSERA_CACHE', os.path.join(tree, '.cache'))
cli = os.path.abspath(args.cli) if args.cli else os.path.join(tree, 'artifacts', 'cli', 'tessera.dll')
configs = []
for spec in args.configs:
    name, _, env = spec.partition(':')
    configs.append((name, dict(kv.split('=', 1) for kv in env.split(',') if kv)))


results = {n: [] for n, _ in configs}


def new_threads(pid, done):
    """The thread ids of process pid not yet in done (none once the process is gone)."""
    try:
        return [tid for tid in os.listdir(f'/proc/{pid}/task') if tid not in done]
    except OSError:
        return []


def coordinator_threads(pid, how, done):
    """Puts the coordinator's 'tessera frames' threads (one per connection: each reads its worker's frames and runs
    the deployment's continuations) not yet in done under SCHED_BATCH (how 'batch') or at a nice value ('nice:N')."""
    for tid in new_threads(pid, done):
        try:
            if open(f'/proc/{pid}/task/{tid}/comm').read().strip() != 'tessera frames':
                continue
        except OSError:
            continue
        if how == 'batch':
            os.sched_setscheduler(int(tid), os.SCHED_BATCH, os.sched_param(0))
        elif how.startswith('nice:'):
            os.setpriority(os.PRIO_PROCESS, int(tid), int(how[5:]))
        else:
            raise ValueError(f'_COORD must be batch or nice:N, not {how}')
        done.add(tid)


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15, after the command name)."""
    try:
        v = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    except OSError:
        return None
    return int(v[11]) + int(v[12])


_libc = ctypes.CDLL(None, use_errno=True)


class _SchedAttr(ctypes.Structure):  # struct sched_attr, SCHED_ATTR_SIZE_VER1
    _fields_ = [('size', ctypes.c_uint32), ('policy', ctypes.c_uint32), ('flags', ctypes.c_uint64), ('nice', ctypes.c_int32),
                ('priority', ctypes.c_uint32), ('runtime', ctypes.c_uint64), ('deadline', ctypes.c_uint64), ('period', ctypes.c_uint64),
                ('util_min', ctypes.c_uint32), ('util_max', ctypes.c_uint32)]


def thread_sched(pid, tid):
    """(policy, nice, slice in ms) of a thread, from /proc/PID/task/TID/sched and stat."""
    policy = slice_ms = None
    for row in open(f'/proc/{pid}/task/{tid}/sched'):
        if row.startswith('policy'):
            policy = int(row.split(':')[1])
        elif row.startswith('se.slice'):
            slice_ms = int(row.split(':')[1]) / 1e6
    nice = int(open(f'/proc/{pid}/task/{tid}/stat').read().rsplit(')', 1)[1].split()[16])
    return policy, nice, slice_ms


def cheap_threads(pid, how, done):
    """Puts the threads of worker pid not yet in done under SCHED_OTHER: 'normal' through sched_setscheduler (which on
    Linux 6.18 keeps the slice the worker asked for, 20 ms by default: /proc/PID/task/TID/sched se.slice), 'normal:MS'
    through sched_setattr with an MS ms slice (sched_runtime; 0 resets it to the kernel's base slice), 'nice:N' as
    'normal' at nice N."""
    for tid in new_threads(pid, done):
        try:
            if how == 'normal':
                os.sched_setscheduler(int(tid), os.SCHED_OTHER, os.sched_param(0))
            elif how.startswith('normal:'):
                a = _SchedAttr(size=ctypes.sizeof(_SchedAttr), policy=os.SCHED_OTHER, nice=os.getpriority(os.PRIO_PROCESS, int(tid)),
                               runtime=int(float(how[7:]) * 1e6))
                if _libc.syscall(314, int(tid), ctypes.byref(a), 0) != 0:
                    raise OSError(ctypes.get_errno(), 'sched_setattr')
            elif how.startswith('nice:'):
                os.sched_setscheduler(int(tid), os.SCHED_OTHER, os.sched_param(0))
                os.setpriority(os.PRIO_PROCESS, int(tid), int(how[5:]))
            else:
                raise ValueError(f'_CHEAP must be normal, normal:MS or nice:N, not {how}')
            done[tid] = thread_sched(pid, tid)
        except (ProcessLookupError, FileNotFoundError):
            continue  # the thread ended


def one(name, env):
    env = dict(env)
    in_flight = env.pop('_INFLIGHT', args.in_flight)
    run_cli = os.path.abspath(env.pop('_CLI', cli))
    coord = env.pop('_COORD', None)
    cheap = env.pop('_CHEAP', None)
    e = dict(os.environ, TESSERA_HOME=tree, **env)
    trace = os.path.join(args.trace, f'{name}-{len(results[name])}') if args.trace else None
    if trace:
        e['TESSERA_PIPELINE_TRACE'] = trace
    cmd = ['dotnet', run_cli, 'bench-cluster', '--model', os.path.join(cache, 'models', args.model), '--shape', args.shape,
           '--strategy', args.strategy, '--workers', args.workers, '--in-flight', in_flight, '--seconds', args.seconds, '--rounds', '1']
    load0 = open('/proc/loadavg').read().split()[0]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=e, bufsize=1)
    out = []
    first, last = {}, {}
    coord_done = set()
    cheap_state = {}  # 'ticks0' / 't0': the first CPU reading; 'pid': the chosen worker; 'done': its threads set

    perf = {}

    def watch():
        # From the distributed round's start line to the results.
        while p.poll() is None:
            if args.perf_sched and 'proc' not in perf and any('batch(es) in flight' in l for l in out) and not any(l.startswith('model ') for l in out):
                perf.setdefault('t0', time.time())
                if time.time() - perf['t0'] >= 1.0:
                    data = os.path.join(args.perf_sched, f'{name}-{len(results[name])}.data')
                    perf['proc'] = subprocess.Popen(['perf', 'sched', 'record', '-a', '-o', data, '--', 'sleep', '3'],
                                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if coord:
                coordinator_threads(p.pid, coord, coord_done)
            if any('batch(es) in flight' in l for l in out) and not any(l.startswith('model ') for l in out):
                pids = workers(run_cli)
                if len(pids) == int(args.workers):
                    read_switches(pids, first, last, initial=not last)
                    if cheap:
                        if 'ticks0' not in cheap_state:
                            cheap_state.update(ticks0={q: cpu_ticks(q) for q in pids}, t0=time.time())
                        elif 'pid' not in cheap_state and time.time() - cheap_state['t0'] >= 0.5:
                            used = {q: (cpu_ticks(q) or 0) - (cheap_state['ticks0'].get(q) or 0) for q in pids}
                            least = min(used, key=used.get)
                            others = sorted(v for q, v in used.items() if q != least)
                            if used[least] < 0.7 * others[0]:
                                cheap_state.update(pid=least, used=used, done={})
                            else:  # not clear yet (the round's first runs measure each stage): measure again
                                cheap_state.update(ticks0={q: cpu_ticks(q) for q in pids}, t0=time.time())
                        if 'pid' in cheap_state:
                            cheap_threads(cheap_state['pid'], cheap, cheap_state['done'])
                            if 'chrt' not in cheap_state:
                                cheap_state['chrt'] = subprocess.run(['chrt', '-p', cheap_state['pid']], capture_output=True, text=True).stdout.strip()
            time.sleep(0.2)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    for line in p.stdout:
        out.append(line)
    p.wait()
    t.join()
    if 'proc' in perf:
        perf['proc'].wait()
    text = ''.join(out)
    with open(args.log, 'a') as f:
        f.write(f'=== {name} {env}\n{text}\n')
    if 'bit-identical to the single process: yes' not in text:
        raise RuntimeError('outputs not bit-identical (or the run failed): see ' + args.log)
    best = text[text.index('best of'):] if 'best of' in text else text
    single = float(re.search(r'single process .*?cpu ([\d.]+) ms/row', best).group(1))
    beside = float(re.search(r'side by side .*?cpu ([\d.]+) ms/row', best).group(1))
    m = re.search(r'(pipeline|data parallel).*?cpu ([\d.]+) ms/row on the workers, ([\d.]+) on the coordinator\s+\((\d+) runs', best)
    wk, co = float(m.group(2)), float(m.group(3))
    # The pipeline's bound: min(the slowest stage alone, cores / the sum of the stages' times per row).
    stages = [float(x) for x in re.findall(r'stage \d+ alone\s+([\d.]+) rows/s', best)]
    # Each stage's CPU per row alone and beside itself (every core computing), summed over the stages.
    alone_cpu = sum(float(x) for x in re.findall(r'stage \d+ alone .*?cpu ([\d.]+) ms/row', best)) or float('nan')
    beside_cpu = sum(float(x) for x in re.findall(r'stage \d+ beside itself .*?cpu ([\d.]+) ms/row', best)) or float('nan')
    beside_rates = [float(x) for x in re.findall(r'stage \d+ beside itself\s+([\d.]+) rows/s', best)]
    rate = float(re.search(r'(?:pipeline|data parallel)[^\n]*?([\d.]+) rows/s', best).group(1))
    cores = int(re.search(r'(\d+) cores', text).group(1))
    bound = rate / min(min(stages), cores / sum(1 / x for x in stages)) if stages else float('nan')
    bound_beside = rate / min(min(beside_rates), cores / sum(1 / x for x in beside_rates)) if beside_rates else float('nan')
    cuts = re.search(r'micro-batch cuts chosen: (.*)', text)
    runs = sum(len(c.split('+')) * int(n) for c, n in re.findall(r'([\d+]+) x(\d+)', cuts.group(1))) if cuts else 0
    sw = (0, 0)
    if last and runs:
        sw = tuple(sum(last[k][i] - first[k][i] for k in last) / runs for i in (0, 1))
    # From the pipeline trace: the session runs' CPU per row summed over the stages, and their wall / CPU.
    run_cpu = wall_cpu = float('nan')
    few = held = bubble = cheap_held = float('nan')
    if trace:
        t = subprocess.run([sys.executable, os.path.join(tree, 'bench', 'pipeline-trace.py'), trace, '--window', '-1'], capture_output=True, text=True).stdout
        rows = re.findall(r'^\s+\d+\s+\d+\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s+([\d.]+)', t, re.M)
        if rows:
            run_cpu = sum(float(a) for a, _ in rows)
            wall_cpu = statistics.mean(float(b) for _, b in rows)
        # While fewer runs than cores were in progress: a stage held a batch it had not started (queued), or a bubble.
        m = re.search(r'while fewer than \d+ runs were in progress \(([\d.]+)% of the window\)', t)
        if m:
            few = float(m.group(1))
            held = float(re.search(r'([\d.]+)% of the window: a stage not computing', t).group(1))
            bubble = float(re.search(r'([\d.]+)% of the window: no stage could start', t).group(1))
            m = re.search(r'stage 2 held one, not computing: ([\d.]+)%', t)
            cheap_held = float(m.group(1)) if m else 0.0
    load1 = open('/proc/loadavg').read().split()[0]
    if coord and not coord_done:
        raise RuntimeError('_COORD: no coordinator frame thread seen')
    cheap_note = ''
    if cheap:
        if 'pid' not in cheap_state or not cheap_state['done']:
            raise RuntimeError('_CHEAP: no worker chosen')
        stage = None
        if trace:
            f = f"{trace}.worker.{cheap_state['pid']}.tsv"
            if os.path.exists(f):
                # A Request row's stage is the pipeline stage the worker served (a Run row's is not).
                stages = {l.split('\t')[2] for l in open(f).readlines()[1:] if l.split('\t')[0] == 'Request'}
                stage = ','.join(sorted(stages))
        kinds = sorted(set(cheap_state['done'].values()))
        cheap_note = (f"  cheap pid {cheap_state['pid']} stage {stage} (ticks in 0.5 s {sorted(cheap_state['used'].values())}), "
                      f"{len(cheap_state['done'])} threads (policy, nice, slice ms) {kinds}; {cheap_state['chrt'].splitlines()[0] if cheap_state['chrt'] else ''}")
    r = dict(name=name, one=(wk + co) / single, beside=(wk + co) / beside, workers=wk, coord=co, single=single,
             bound=bound, bound_beside=bound_beside, alone=alone_cpu / single, stages_beside=beside_cpu / single,
             runs_alone=run_cpu / alone_cpu, runs_beside=run_cpu / beside_cpu, vol=sw[0], invol=sw[1], run_cpu=run_cpu, wall_cpu=wall_cpu, outside=wk - run_cpu, load=f'{load0}-{load1}',
             idle=100 * (1 - rate * (wk + co) / 1000 / cores), few=few, held=held, bubble=bubble, held2=cheap_held, rate=rate)
    print(f"{name:8s} (w+c)/one {r['one']:.3f}  /side {r['beside']:.3f}  workers {wk:.3f} coord {co:.3f} one {single:.3f}  "
          f"of bound {r['bound']:.2f} (beside {bound_beside:.2f})  stages alone / one {r['alone']:.3f}, beside / one {r['stages_beside']:.3f}, "
          f"runs / alone {r['runs_alone']:.3f}, / beside {r['runs_beside']:.3f}  switches/run vol {sw[0]:.2f} invol {sw[1]:.2f}  runs cpu/row {run_cpu:.3f} outside {wk - run_cpu:.3f} wall/cpu {wall_cpu:.2f}  rows/s {rate:.0f}  idle {r['idle']:.1f}%  "
          f"<cores {few:.1f}% (held {held:.1f}, stage 2 {cheap_held:.1f}, bubble {bubble:.1f})  load {r['load']}{cheap_note}", flush=True)
    return r


for i in range(args.pairs):
    order = configs if i % 2 == 0 else configs[::-1]
    for name, env in order:
        try:
            results[name].append(one(name, env) | {'round': i})
        except Exception as e:  # a failed run is reported, not fatal
            print(f'{name}: run failed: {e}', flush=True)
print('medians:')
for name, rs in results.items():
    if not rs:
        continue
    med = lambda k: statistics.median(r[k] for r in rs)
    print(f"{name:8s} n={len(rs)} (w+c)/one {med('one'):.3f}  /side {med('beside'):.3f}  workers {med('workers'):.3f} "
          f"coord {med('coord'):.3f}  of bound {med('bound'):.2f} (beside {med('bound_beside'):.2f})  stages alone / one {med('alone'):.3f}, "
          f"beside / one {med('stages_beside'):.3f}, runs / alone {med('runs_alone'):.3f}, / beside {med('runs_beside'):.3f}  vol {med('vol'):.2f} invol {med('invol'):.2f}  runs cpu/row {med('run_cpu'):.3f} "
          f"outside {med('outside'):.3f} wall/cpu {med('wall_cpu'):.2f}  rows/s {med('rate'):.0f}  idle {med('idle'):.1f}%  <cores {med('few'):.1f}% "
          f"(held {med('held'):.1f}, stage 2 {med('held2'):.1f}, bubble {med('bubble'):.1f})")
# Per round, each config against the first (rounds where both ran).
base, *others = [n for n, _ in configs]
for name in others:
    theirs = {r['round']: r for r in results[name]}  # a failed run leaves its round out
    pairs = [(a, theirs[a['round']]) for a in results[base] if a['round'] in theirs]
    if not pairs:
        continue
    print(f'{name} - {base}, per round:')
    for k, fmt in (('bound', '+.2f'), ('one', '+.3f'), ('idle', '+.1f'), ('few', '+.1f'), ('held', '+.1f'), ('held2', '+.1f'), ('bubble', '+.1f'), ('rate', '+.0f')):
        d = [b[k] - a[k] for a, b in pairs]
        print(f"  {k:6s} " + ' '.join(format(x, fmt) for x in d) + f"  median {format(statistics.median(d), fmt)}, ahead (+) in {sum(x > 0 for x in d)} of {len(d)}")

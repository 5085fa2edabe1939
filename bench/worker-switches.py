#!/usr/bin/env python3
"""Context switches and CPU per stage run on the workers of a bench-cluster pipeline.

Runs `TREE/tessera bench-cluster` (GPT b8 s128, 3-stage pipeline, 1 round), waits until every local worker has its
model's thread (the deployment is over), then reads each worker thread's voluntary and involuntary context switches
(/proc/PID/task/TID/status) and the process's CPU ticks every 0.2 s until the results are printed. A thread counts
only what it did while watched. Stage runs per worker are the micro-batch cuts' pieces (warm-up included, as the cuts
are counted). Run two trees at once to compare them under the same load:

    python3 bench/worker-switches.py /path/to/main-tree & python3 bench/worker-switches.py . ; wait
"""
import os
import re
import subprocess
import sys
import threading
import time

from worker_procs import read_switches, workers

tree = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else '.')
seconds = sys.argv[2] if len(sys.argv) > 2 else '8'
# As conformance/prepare.sh: TESSERA_CACHE when set, else the tree's own .cache.
cache = os.environ.get('TESSERA_CACHE', os.path.join(tree, '.cache'))
cli = os.path.join(tree, 'artifacts', 'cli', 'tessera.dll')
bench = subprocess.Popen(
    ['nice', '-n', '19', os.path.join(tree, 'tessera'), 'bench-cluster', '--model', os.path.join(cache, 'models', 'gpt.onnx'),
     '--shape', 'input_ids=8x128', '--strategy', 'pipeline', '--workers', '3', '--in-flight', '4', '--seconds', seconds,
     '--rounds', '1'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
output = []


def has_model_thread(pid):
    for tid in os.listdir(f'/proc/{pid}/task'):
        try:
            if open(f'/proc/{pid}/task/{tid}/comm').read().startswith('tessera model'):
                return True
        except OSError:
            pass
    return False


for line in bench.stdout:
    output.append(line)
    if 'pipeline, 3 stages' in line:
        break
else:
    bench.wait()
    sys.exit('bench-cluster ended before its pipeline:\n' + ''.join(output))

pids = workers(cli)
while len(pids) != 3 or not all(has_model_thread(p) for p in pids):
    if bench.poll() is not None:
        sys.exit('bench-cluster ended before its workers had their models:\n' + ''.join(output) + bench.stdout.read())
    time.sleep(0.05)
    pids = workers(cli)

first, last, cpu_first, cpu_last = {}, {}, {}, {}
names = {}
for pid in pids:
    args = open(f'/proc/{pid}/cmdline').read().split('\0')
    names[pid] = args[args.index('--name') + 1] if '--name' in args else pid


def snap(initial):
    for pid in pids:
        fields = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        cpu_first.setdefault(pid, ticks)
        cpu_last[pid] = ticks
    read_switches(pids, first, last, initial)


# The results are printed after the workers stop: the last reading taken while all of them live ends the window.
reader = threading.Thread(target=lambda: output.extend(bench.stdout), daemon=True)
reader.start()
snap(True)
while reader.is_alive():
    time.sleep(0.2)
    try:
        if any(line.startswith('model ') for line in output):
            break
        snap(False)
    except (OSError, IndexError):
        break
reader.join()
bench.wait()
text = ''.join(output)
cuts = re.search(r'micro-batch cuts chosen: (.*)', text)
if bench.returncode != 0 or cuts is None:
    sys.exit(f'bench-cluster failed:\n{text}')
runs = sum(len(cut.split('+')) * int(count) for cut, count in re.findall(r'([\d+]+) x(\d+)', cuts.group(1)))
load = open('/proc/loadavg').read().split()[0]
print(f'{tree}: {runs} stage runs per worker, load {load}')
shown = set()
for line in text.splitlines():
    kind = 'pipeline' if line.startswith('  pipeline') else 'bound' if 'slowest stage' in line else 'same' if 'bit-identical' in line else None
    # With one round the 'best of' section repeats the round's pipeline line: each shown once.
    if kind is not None and kind not in shown:
        shown.add(kind)
        print(' ', line.strip())
for pid in sorted(pids, key=int):
    name = names[pid]
    voluntary = sum(last[k][0] - first[k][0] for k in first if k[0] == pid)
    involuntary = sum(last[k][1] - first[k][1] for k in first if k[0] == pid)
    cpu_ms = (cpu_last[pid] - cpu_first[pid]) * 1000 / os.sysconf('SC_CLK_TCK')
    print(f'  worker {name}: voluntary switches per run {voluntary / runs:.2f}, involuntary {involuntary / runs:.2f}, CPU per run {cpu_ms / runs:.2f} ms')

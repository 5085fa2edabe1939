#!/usr/bin/env python3
"""A worker's CPU per stage run outside its session run, from the TESSERA_PIPELINE_TRACE files of worker-ab runs:

    python3 bench/worker-receive.py TRACE_DIR [TRACE_DIR...]

Per config (the run's name before '-N') and stage, over the 8-row runs of each run's last 4.5 s: the median CPU of the
Receive interval (the wake-up, the RUN frame and its tensors read and parsed), of the send, of the rest of the request
outside its run (Request - Run - Send) and of their sum, pooled over the runs, with the range of the runs' own medians."""
import glob, os, re, statistics, sys, collections

def load(path):
    rows = []
    with open(path) as f:
        f.readline()
        for line in f:
            v = line.rstrip('\n').split('\t')
            rows.append(dict(kind=v[0], id=int(v[1]), stage=int(v[2]), rows=int(v[3]), start=float(v[4]), end=float(v[5]), cpu=float(v[6])))
    return rows

per = collections.defaultdict(lambda: collections.defaultdict(list))  # config -> (stage, what) -> values (run medians pooled)
runmed = collections.defaultdict(lambda: collections.defaultdict(list))  # config -> (stage, what) -> per-run median
for d in sys.argv[1:]:
    for coord in sorted(glob.glob(os.path.join(d, '*.bench-cluster.*.tsv'))):
        name = os.path.basename(coord).split('.')[0]
        config = name.rsplit('-', 1)[0]
        batches = [r for r in load(coord) if r['kind'] == 'Batch']
        if not batches:
            continue
        # the last window: batches of the distributed round (the last 5 s+).
        end = max(b['end'] for b in batches)
        lo = end - 4.5e6
        for wf in glob.glob(os.path.join(d, name + '.worker.*.tsv')):
            rows = [r for r in load(wf) if r['start'] >= lo and r['end'] <= end]
            by = collections.defaultdict(dict)
            for r in rows:
                by[r['id']][r['kind']] = r
            vals = collections.defaultdict(list)
            for rid, k in by.items():
                if not {'Receive', 'Request', 'Run', 'Send'} <= k.keys():
                    continue
                if k['Request']['rows'] != 8 or min(k[x]['cpu'] for x in ('Receive', 'Request', 'Run', 'Send')) < 0:
                    continue
                st = k['Request']['stage']
                rest = k['Request']['cpu'] - k['Run']['cpu'] - k['Send']['cpu']
                vals[(st, 'receive')].append(k['Receive']['cpu'])
                vals[(st, 'send')].append(k['Send']['cpu'])
                vals[(st, 'rest')].append(rest)
                vals[(st, 'outside')].append(k['Receive']['cpu'] + k['Send']['cpu'] + rest)
            for key, v in vals.items():
                per[config][key].extend(v)
                runmed[config][key].append(statistics.median(v))
for config in per:
    print(f'{config}:')
    for st in sorted({k[0] for k in per[config]}):
        parts = []
        for what in ('receive', 'send', 'rest', 'outside'):
            v = per[config][(st, what)]
            m = runmed[config][(st, what)]
            parts.append(f'{what} {statistics.median(v):6.1f} us (runs {len(m)}: {min(m):.1f}-{max(m):.1f})')
        print(f'  stage {st} n={len(per[config][(st, "send")])}: ' + '  '.join(parts))

"""Plot training curves from mmengine scalar logs.

    python tools/analysis/plot_curves.py LOG [LOG ...] --keys loss acc/top1
        --out curves.png [--legend NAME ...] [--title TEXT]

LOG: a ``vis_data/<timestamp>.json`` (or ``vis_data/scalars.json``) file that
mmengine's ``LocalVisBackend`` writes, one JSON object per line; or a work
dir / run dir, where the newest ``*/vis_data/scalars.json`` is used.

One subplot per key, one line per log. Training rows (``loss``, ``lr``, ...)
are plotted against their iteration. Validation rows (``acc/top1``, ...)
of epoch-based runs carry the epoch as ``step``; they are placed at the last
iteration of that epoch, so all keys share an iteration axis.
"""
import argparse
import glob
import json
import os.path as osp
import sys
from collections import defaultdict


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot scalars of mmengine vis_data JSON logs.')
    parser.add_argument('logs', nargs='+', metavar='LOG',
                        help='vis_data/*.json files or work dirs')
    parser.add_argument('--keys', nargs='+', default=['loss'],
                        help='scalar names, e.g. loss acc/top1 lr')
    parser.add_argument('--out', required=True, help='output image (.png)')
    parser.add_argument('--legend', nargs='+',
                        help='one name per log (default: the file names)')
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--dpi', type=int, default=120)
    return parser.parse_args(argv)


def find_log(path, keys=None):
    """The scalars JSON of a file, or the newest one in a (work / run) dir
    that has one of ``keys``."""
    if osp.isfile(path):
        return path
    if osp.isdir(path):
        for pattern in ('vis_data/scalars.json', '*/vis_data/scalars.json'):
            found = sorted(glob.glob(osp.join(path, pattern)),
                           key=osp.getmtime, reverse=True)
            for candidate in found:
                if not keys or set(keys) & set(load_scalars(candidate)):
                    return candidate
    raise FileNotFoundError(f'no mmengine scalars log at {path}' +
                            (f' with {list(keys)}' if keys else ''))


def load_scalars(path):
    """``{key: ([x...], [y...])}`` with iterations on x (see module doc)."""
    rows = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    # end-of-epoch iteration, from the training rows of epoch-based runs
    epoch_end = {}
    for row in rows:
        if 'epoch' in row and 'iter' in row:
            epoch_end[row['epoch']] = max(
                epoch_end.get(row['epoch'], 0), row['iter'])
    curves = defaultdict(lambda: ([], []))
    for row in rows:
        is_train = 'iter' in row or 'epoch' in row
        if is_train:
            x = row.get('iter', row.get('step'))
        else:  # validation / test row: step is an epoch when epoch_end
            step = row.get('step')
            x = epoch_end.get(step, step) if epoch_end else step
        for key, value in row.items():
            if key in ('epoch', 'iter', 'step') or not isinstance(
                    value, (int, float)):
                continue
            xs, ys = curves[key]
            xs.append(x)
            ys.append(float(value))
    return dict(curves)


def plot(logs, keys, out, legend=None, title=None, dpi=120):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    paths = [find_log(p, keys) for p in logs]
    names = legend or [osp.basename(osp.dirname(osp.dirname(p)))
                       or osp.basename(p) for p in paths]
    if len(names) != len(paths):
        raise SystemExit('--legend needs one name per log')
    data = [load_scalars(p) for p in paths]
    missing = [k for k in keys if not any(k in d for d in data)]
    if missing:
        available = sorted({k for d in data for k in d})
        raise SystemExit(f'no scalar {missing} in the logs; available: '
                         f'{available}')
    fig, axes = plt.subplots(
        len(keys), 1, figsize=(7, 3 * len(keys)), squeeze=False,
        sharex=True)
    for ax, key in zip(axes[:, 0], keys):
        for name, curves in zip(names, data):
            if key not in curves:
                continue
            xs, ys = curves[key]
            marker = 'o' if len(xs) < 30 else None
            ax.plot(xs, ys, label=name, marker=marker, markersize=3)
        ax.set_ylabel(key)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    axes[-1, 0].set_xlabel('iteration')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return paths


def main(argv=None):
    args = parse_args(argv)
    try:
        paths = plot(args.logs, args.keys, args.out, args.legend, args.title,
                     args.dpi)
    except FileNotFoundError as e:
        sys.exit(f'plot_curves.py: error: {e}')
    for p in paths:
        print(f'log: {p}')
    print(f'saved {args.out}')


if __name__ == '__main__':
    main()

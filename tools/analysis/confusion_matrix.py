"""Confusion matrix and accuracies from a ``tools/test.py --dump`` file.

    python tools/analysis/confusion_matrix.py DUMP.pkl --out cm.png
        [--label-map FILE] [--normalize true|pred|none] [--csv cm.csv]
        [--allow-unsafe-pickle] [--debug]

The dump is what mmengine's ``DumpResults`` pickles: a list with one dict
per test sample, the ``to_dict()`` of mmaction2's ``ActionDataSample`` or
mmpretrain's ``DataSample``; the keys used here are ``pred_score`` (class
scores, after the head's view fusion) and ``gt_label``. It is read without
``pickle.load``: the restricted reader of
``uniformer_mm.checkpoint.safe_pickle.load_plain_pickle`` rebuilds only
containers, numbers, strings, numpy arrays and tensors, and refuses a file
that names anything else (a pickle that would run code); only
``--allow-unsafe-pickle`` reads such a file, with full pickle, if you trust
it. A ``torch.save`` file is read with ``torch.load(weights_only=True)``.

``--label-map`` must have one name per class of the scores.

Printed: top-1 accuracy and mean class accuracy (mmaction2's ``acc/top1``
and ``acc/mean1``: the predicted class is the highest score), top-5, and the
matrix itself when it has at most 20 classes. Rows are true classes,
columns predicted classes.
"""
import argparse
import os.path as osp
import pickle
import sys

import numpy as np


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Confusion matrix of a tools/test.py --dump file.')
    parser.add_argument('dump', help='pickle written by tools/test.py --dump')
    parser.add_argument('--out', required=True, help='output image (.png)')
    parser.add_argument(
        '--label-map', help='class names, one per line (a file or a shipped '
        "map such as 'uniformer_mm::label_maps/kinetics400.txt')")
    parser.add_argument(
        '--normalize', choices=['true', 'pred', 'none'], default='true',
        help="colours: rows sum to 1 ('true'), columns ('pred') or counts")
    parser.add_argument('--csv', help='also save the counts as CSV')
    parser.add_argument('--dpi', type=int, default=120)
    parser.add_argument(
        '--allow-unsafe-pickle', action='store_true',
        help='read a dump that the restricted reader refuses with full '
        'pickle (runs code stored in the file: only for files you trust)')
    parser.add_argument('--debug', action='store_true',
                        help='show tracebacks instead of one-line errors')
    return parser.parse_args(argv)


def _to_numpy(value):
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _import_uniformer_mm():
    """``uniformer_mm``, also from a checkout that is not pip-installed
    (imported only when needed: the rest of the tool is numpy)."""
    try:
        import uniformer_mm  # noqa: F401
    except ImportError:
        sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
            osp.abspath(__file__)))))
        import uniformer_mm  # noqa: F401


def read_dump(path, allow_unsafe=False):
    """The objects of a results dump, read without running code from it
    (full pickle only with ``allow_unsafe``)."""
    _import_uniformer_mm()
    from uniformer_mm.checkpoint.safe_pickle import (RefusedGlobalError,
                                                     load_plain_pickle)
    try:
        return load_plain_pickle(path)
    except RefusedGlobalError as e:
        if not allow_unsafe:
            raise ValueError(
                f'{path} needs {e.module}.{e.name} to be read, which the '
                'results reader refuses (a pickle that names it could run '
                'code); re-create the dump with tools/test.py --dump, or '
                'pass --allow-unsafe-pickle if you trust the file') from e
    except (pickle.UnpicklingError, EOFError, RuntimeError) as e:
        raise ValueError(f'{path} is not a readable results dump '
                         f'({type(e).__name__}: {e})') from e
    print(f'warning: reading {path} with full pickle (--allow-unsafe-pickle)',
          file=sys.stderr)
    with open(path, 'rb') as f:
        return pickle.load(f)


def load_dump(path, allow_unsafe=False):
    """``(scores [N, C], labels [N])`` of a DumpResults pickle."""
    results = read_dump(path, allow_unsafe)
    if isinstance(results, dict):
        results = [results]
    scores, labels = [], []
    for i, sample in enumerate(results):
        if not isinstance(sample, dict) or 'pred_score' not in sample or \
                'gt_label' not in sample:
            keys = sorted(sample) if isinstance(sample, dict) else \
                type(sample).__name__
            raise ValueError(f'{path}: sample {i} has no pred_score / '
                             f'gt_label (has {keys})')
        scores.append(_to_numpy(sample['pred_score']).reshape(-1))
        label = _to_numpy(sample['gt_label']).reshape(-1)
        if label.size != 1:
            raise ValueError(f'{path}: sample {i}: expected one label, got '
                             f'{label.tolist()} (multi-label dumps are not '
                             'supported)')
        labels.append(int(label[0]))
    return np.stack(scores).astype(np.float64), np.asarray(labels)


def top1_predictions(scores):
    """The class with the highest score (the last one among exact ties, as
    mmaction2's ``top_k_accuracy`` picks)."""
    return np.argsort(scores, axis=1, kind='stable')[:, -1]


def confusion(labels, preds, num_classes):
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels, preds), 1)
    return matrix


def accuracies(scores, labels):
    preds = top1_predictions(scores)
    num_classes = scores.shape[1]
    matrix = confusion(labels, preds, num_classes)
    support = matrix.sum(1)
    per_class = np.diag(matrix)[support > 0] / support[support > 0]
    k = min(5, num_classes)
    topk = np.argsort(scores, axis=1, kind='stable')[:, -k:]
    return dict(
        top1=float((preds == labels).mean()),
        mean1=float(per_class.mean()),
        topk=float((topk == labels[:, None]).any(1).mean()),
        k=k,
        correct=int((preds == labels).sum()),
        total=len(labels),
        matrix=matrix)


def plot_matrix(matrix, names, out, normalize='true', dpi=120, title=None):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    values = matrix.astype(np.float64)
    if normalize == 'true':
        values = values / np.maximum(values.sum(1, keepdims=True), 1)
    elif normalize == 'pred':
        values = values / np.maximum(values.sum(0, keepdims=True), 1)
    n = len(matrix)
    size = min(4 + 0.35 * n, 30)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    image = ax.imshow(values, cmap='Blues', interpolation='nearest')
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if n <= 60:
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.set_xticklabels(names, rotation=90, fontsize=7)
        ax.set_yticklabels(names, fontsize=7)
    if n <= 20:
        limit = values.max() / 2 if values.size else 0
        for i in range(n):
            for j in range(n):
                text = (f'{matrix[i, j]}' if normalize == 'none' else
                        f'{values[i, j]:.2f}')
                ax.text(j, i, text, ha='center', va='center', fontsize=7,
                        color='white' if values[i, j] > limit else 'black')
    ax.set_xlabel('predicted')
    ax.set_ylabel('true')
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def read_label_map(path, num_classes):
    """Class names of ``--label-map`` (a file, or a map shipped with the
    package: ``uniformer_mm::label_maps/NAME``), exactly ``num_classes``."""
    _import_uniformer_mm()
    from uniformer_mm import label_maps
    return label_maps.read_label_map(path, num_classes)


def main(argv=None):
    args = parse_args(argv)
    try:
        scores, labels = load_dump(args.dump, args.allow_unsafe_pickle)
    except (OSError, ValueError) as e:
        if args.debug:
            raise
        sys.exit(f'confusion_matrix.py: error: {" ".join(str(e).split())}')
    num_classes = scores.shape[1]
    if args.label_map:
        try:
            names = read_label_map(args.label_map, num_classes)
        except (OSError, ValueError) as e:
            sys.exit(f'confusion_matrix.py: error: --label-map: {e}')
    else:
        names = [str(i) for i in range(num_classes)]
    acc = accuracies(scores, labels)
    print(f'samples: {acc["total"]}  classes: {num_classes}')
    print(f'top-1 accuracy: {acc["top1"]:.4f} ({acc["correct"]}/'
          f'{acc["total"]})')
    print(f'mean class accuracy: {acc["mean1"]:.4f}')
    print(f'top-{acc["k"]} accuracy: {acc["topk"]:.4f}')
    matrix = acc['matrix']
    if num_classes <= 20:
        width = max(len(n) for n in names)
        print('confusion matrix (rows: true, columns: predicted):')
        for name, row in zip(names, matrix):
            print(f'  {name:<{width}} ' + ' '.join(f'{v:>4d}' for v in row))
    plot_matrix(matrix, names, args.out, args.normalize, args.dpi,
                title=f'{osp.basename(args.dump)}: top-1 {acc["top1"]:.4f}')
    print(f'saved {args.out}')
    if args.csv:
        np.savetxt(args.csv, matrix, fmt='%d', delimiter=',',
                   header=','.join(names))
        print(f'saved {args.csv}')
    return acc


if __name__ == '__main__':
    main()

"""Check an ImageNet-1k folder and write mmpretrain's meta files.

    python tools/data/imagenet/build_meta.py [ROOT] [--val-labels FILE]
        [--check-only]

``ROOT`` (default ``data/imagenet``) must hold

* ``train/<wnid>/*.JPEG`` (the ILSVRC2012 training archive, extracted per
  class: 1000 folders ``n01440764`` ...), and
* ``val/``: either ``val/<wnid>/*.JPEG`` (already sorted into classes) or
  the 50,000 flat ``ILSVRC2012_val_*.JPEG`` images plus ``--val-labels``:
  Kaggle's ``LOC_val_solution.csv`` (``ImageId,PredictionString``, the first
  word of the prediction string is the wnid) or a text file of
  ``<file name> <wnid>`` lines.

Labels are the index of the wnid in the sorted list of the training
folders (mmpretrain's ``IMAGENET_CATEGORIES`` and torchvision's order).
Writes ``ROOT/meta/train.txt`` and ``ROOT/meta/val.txt`` (lines
``<path relative to ROOT/train or ROOT/val> <label>``), which mmpretrain's
``ImageNet`` dataset reads (configs/_base_/datasets/
imagenet_bs128_uniformer.py). Problems that do not prevent writing them
(not 1000 classes, empty class folders, val classes without training
folder) are printed as warnings; ``--check-only`` only prints the checks.

Exit status 0, 1 if a warning was printed with ``--check-only``, 2 with a
one-line message when the layout cannot be used.
"""
import argparse
import csv
import os
import os.path as osp
import re
import sys

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png')
WNID = re.compile(r'^n\d{8}$')


class UsageError(Exception):
    """A problem reported in one line (exit status 2)."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Check an ImageNet folder and write meta/{train,val}.txt')
    parser.add_argument('root', nargs='?', default='data/imagenet')
    parser.add_argument('--val-labels', help="labels of a flat val/ folder: "
                        "Kaggle's LOC_val_solution.csv or '<file> <wnid>' "
                        'lines')
    parser.add_argument('--check-only', action='store_true',
                        help='print the checks, write nothing')
    return parser.parse_args(argv)


def _images(folder):
    return sorted(f for f in os.listdir(folder)
                  if osp.splitext(f)[1].lower() in IMG_EXTENSIONS)


def read_val_labels(path):
    """``{file name: wnid}``."""
    labels = {}
    with open(path, newline='') as f:
        if path.lower().endswith('.csv'):
            for row in csv.DictReader(f):
                image = row.get('ImageId')
                pred = (row.get('PredictionString') or '').split()
                if not image or not pred:
                    raise UsageError(f'{path}: expected the columns ImageId,'
                                     'PredictionString')
                labels[image] = pred[0]
        else:
            for n, line in enumerate(f, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 2:
                    raise UsageError(f'{path}:{n}: expected "<file> <wnid>"')
                labels[osp.splitext(parts[0])[0]] = parts[1]
    return labels


def build(root, val_labels=None):
    """Return ``(train_lines, val_lines, warnings)``."""
    train_dir, val_dir = osp.join(root, 'train'), osp.join(root, 'val')
    for d in (train_dir, val_dir):
        if not osp.isdir(d):
            raise UsageError(f'{d!r} does not exist (expected ROOT/train/'
                             '<wnid>/*.JPEG and ROOT/val/; see '
                             'docs/datasets/imagenet.md)')
    wnids = sorted(d for d in os.listdir(train_dir)
                   if osp.isdir(osp.join(train_dir, d)))
    if not wnids:
        raise UsageError(f'{train_dir!r} has no class folders (extract '
                         'the per-class tar files of ILSVRC2012_img_train '
                         'into train/<wnid>/)')
    warnings = []
    odd = [w for w in wnids if not WNID.match(w)]
    if odd:
        warnings.append(f'{len(odd)} training folders are not WordNet ids, '
                        f'e.g. {odd[0]!r}')
    if len(wnids) != 1000:
        warnings.append(f'{len(wnids)} classes in train/, ImageNet-1k has '
                        '1000 (labels are their sorted order)')
    label = {w: i for i, w in enumerate(wnids)}
    train = []
    for w in wnids:
        images = _images(osp.join(train_dir, w))
        if not images:
            warnings.append(f'train/{w} has no images')
        train += [f'{w}/{img} {label[w]}' for img in images]

    val = []
    val_classes = sorted(d for d in os.listdir(val_dir)
                         if osp.isdir(osp.join(val_dir, d)))
    if val_classes:
        unknown = [w for w in val_classes if w not in label]
        if unknown:
            warnings.append(f'{len(unknown)} val class folders have no '
                            f'training folder, e.g. {unknown[0]!r} (left out)')
        for w in val_classes:
            if w in label:
                val += [f'{w}/{img} {label[w]}'
                        for img in _images(osp.join(val_dir, w))]
    else:
        images = _images(val_dir)
        if images and not val_labels:
            raise UsageError(
                f'{val_dir!r} holds {len(images)} images but no class '
                'folders: give their labels with --val-labels '
                '(LOC_val_solution.csv)')
        if images:
            labels = read_val_labels(val_labels)
            unlabelled = 0
            for img in images:
                w = labels.get(osp.splitext(img)[0])
                if w not in label:
                    unlabelled += 1
                    continue
                val.append(f'{img} {label[w]}')
            if unlabelled:
                warnings.append(f'{unlabelled} val images have no label in '
                                f'{val_labels} (left out)')
    if not val:
        warnings.append('no validation images')
    return train, val, warnings


def main(argv=None):
    args = parse_args(argv)
    try:
        train, val, warnings = build(args.root, args.val_labels)
    except (UsageError, OSError) as e:
        msg = e if isinstance(e, UsageError) else f'{e.filename}: {e.strerror}'
        print(f'build_meta.py: error: {msg}', file=sys.stderr)
        return 2
    for w in warnings:
        print(f'warning: {w}')
    print(f'{len(train)} training and {len(val)} validation images')
    if args.check_only:
        return 1 if warnings else 0
    meta = osp.join(args.root, 'meta')
    os.makedirs(meta, exist_ok=True)
    for name, lines in (('train', train), ('val', val)):
        with open(osp.join(meta, f'{name}.txt'), 'w') as f:
            f.writelines(line + '\n' for line in lines)
    print(f'wrote {osp.join(meta, "train.txt")} and '
          f'{osp.join(meta, "val.txt")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

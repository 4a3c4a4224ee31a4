"""Annotation lists for your own videos: a folder of class-named subfolders.

    python tools/data/build_file_list.py ROOT [--out-dir DIR]
        [--val-ratio 0.2] [--seed 0] [--label-map FILE] [--ext mp4 avi ...]
        [--train-out FILE] [--val-out FILE]

``ROOT`` is either

* ``ROOT/<class name>/<video>`` (every class in its own folder): the videos
  of each class are split into train / val (``--val-ratio``, at least one
  video per class in each split when the class has two or more); or
* ``ROOT/train/<class name>/<video>`` and ``ROOT/val/<class name>/<video>``:
  the given split is kept.

Writes, into ``--out-dir`` (default: the parent of ROOT):

* ``train_list.txt`` and ``val_list.txt``: mmaction2 ``VideoDataset``
  lines ``<path relative to ROOT> <label>``, sorted by path;
* ``label_map.txt``: the class names, one per line, line ``i`` = label ``i``.

(``--train-out`` / ``--val-out`` name the two lists otherwise; with
``--val-ratio 0`` every video goes to the train list, e.g. to list a split
that comes in its own folder.)

Labels follow the alphabetical order of the class folders, or the order of
``--label-map`` (a file with one class name per line, or a map shipped with
the package such as ``uniformer_mm::label_maps/ucf101.txt``) when given, so that
the labels of a new list match those of a trained model. Use the lists with
``data_prefix=dict(video=ROOT)`` (see docs/custom_dataset.md).

Exit status 0 on success, 2 with a one-line message on a usage problem
(missing folder, no videos, a class folder missing from ``--label-map``).
"""
import argparse
import os
import os.path as osp
import random
import sys

VIDEO_EXTENSIONS = ('mp4', 'avi', 'webm', 'mkv', 'mov', 'mpg', 'mpeg', 'm4v',
                    'flv', 'wmv')


class UsageError(Exception):
    """A problem reported in one line (exit status 2)."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build train / val video lists and a label map from a '
        'folder of class-named subfolders.')
    parser.add_argument('root', help='folder with one subfolder per class '
                        '(or train/ and val/ folders holding them)')
    parser.add_argument('--out-dir', help='where to write the lists '
                        '(default: the parent folder of ROOT)')
    parser.add_argument('--val-ratio', type=float, default=0.2,
                        help='fraction of the videos of each class used for '
                        'validation (default 0.2)')
    parser.add_argument('--seed', type=int, default=0,
                        help='random seed of the train / val split')
    parser.add_argument('--label-map', help='class names, one per line, in '
                        'label order (default: alphabetical folder order)')
    parser.add_argument('--ext', nargs='+', default=list(VIDEO_EXTENSIONS),
                        help='video file extensions (case-insensitive)')
    parser.add_argument('--train-out', help='train list to write (default: '
                        'OUT_DIR/train_list.txt)')
    parser.add_argument('--val-out', help='val list to write (default: '
                        'OUT_DIR/val_list.txt)')
    return parser.parse_args(argv)


def list_videos(folder, extensions):
    """Video files under ``folder`` (recursively), relative, sorted."""
    exts = {'.' + e.lower().lstrip('.') for e in extensions}
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames.sort()
        for name in filenames:
            if osp.splitext(name)[1].lower() in exts:
                found.append(
                    osp.relpath(osp.join(dirpath, name), folder).replace(
                        os.sep, '/'))
    return sorted(found)


def class_folders(folder):
    return sorted(d for d in os.listdir(folder)
                  if osp.isdir(osp.join(folder, d)) and not d.startswith('.'))


def read_label_map(path):
    """Class names of ``--label-map``: a file, or a map shipped with the
    package (``uniformer_mm::label_maps/ucf101.txt``; see
    ``uniformer_mm/label_maps/README.md``)."""
    try:
        from uniformer_mm import label_maps
    except ImportError:  # a checkout that is not pip-installed
        sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
            osp.abspath(__file__)))))
        from uniformer_mm import label_maps
    try:
        return label_maps.read_label_map(path)
    except (OSError, ValueError) as e:
        raise UsageError(f'--label-map: {e}') from None


def split_class(videos, val_ratio, rng):
    """(train, val) of one class: a shuffled split, at least one video in
    each part when there are two or more."""
    videos = list(videos)
    rng.shuffle(videos)
    n_val = int(round(len(videos) * val_ratio))
    if len(videos) >= 2 and val_ratio > 0:
        n_val = min(max(n_val, 1), len(videos) - 1)
    return videos[n_val:], videos[:n_val]


def build(root, val_ratio=0.2, seed=0, label_map=None,
          extensions=VIDEO_EXTENSIONS):
    """Return ``(classes, train_lines, val_lines)`` for ``root``."""
    if not osp.isdir(root):
        raise UsageError(f'{root!r} is not a directory')
    if not 0 <= val_ratio < 1:
        raise UsageError(f'--val-ratio must be in [0, 1), got {val_ratio}')
    presplit = all(osp.isdir(osp.join(root, s)) for s in ('train', 'val'))
    if presplit:
        folders = sorted(set(class_folders(osp.join(root, 'train'))) |
                         set(class_folders(osp.join(root, 'val'))))
    else:
        folders = class_folders(root)
    if not folders:
        raise UsageError(f'{root!r} has no class folders (expected '
                         'ROOT/<class>/<video> or ROOT/{train,val}/<class>/'
                         '<video>)')
    if label_map:
        classes = read_label_map(label_map)
        unknown = [c for c in folders if c not in classes]
        if unknown:
            raise UsageError(
                f'class folders {unknown} are not in --label-map '
                f'{label_map}')
    else:
        classes = folders
    label = {c: i for i, c in enumerate(classes)}
    rng = random.Random(seed)
    train, val = [], []
    for cls in folders:
        if presplit:
            for split, out in (('train', train), ('val', val)):
                folder = osp.join(root, split, cls)
                if osp.isdir(folder):
                    out += [(f'{split}/{cls}/{v}', label[cls])
                            for v in list_videos(folder, extensions)]
        else:
            videos = list_videos(osp.join(root, cls), extensions)
            tr, va = split_class(videos, val_ratio, rng)
            train += [(f'{cls}/{v}', label[cls]) for v in tr]
            val += [(f'{cls}/{v}', label[cls]) for v in va]
    if not train:
        raise UsageError(
            f'no videos with extensions {sorted(set(extensions))} under '
            f'{root!r}')
    for name, items in (('train', train), ('val', val)):
        spaced = [p for p, _ in items if ' ' in p]
        if spaced:
            raise UsageError(
                f'{len(spaced)} {name} paths contain spaces, which the '
                f'"path label" list format cannot hold, e.g. {spaced[0]!r}; '
                'rename them')
    fmt = sorted(f'{p} {lab}' for p, lab in train), \
        sorted(f'{p} {lab}' for p, lab in val)
    return classes, fmt[0], fmt[1]


def write_lines(path, lines):
    with open(path, 'w') as f:
        f.writelines(line + '\n' for line in lines)


def main(argv=None):
    args = parse_args(argv)
    root = osp.normpath(args.root)
    out_dir = args.out_dir or osp.dirname(osp.abspath(root))
    try:
        classes, train, val = build(root, args.val_ratio, args.seed,
                                    args.label_map, args.ext)
    except UsageError as e:
        print(f'build_file_list.py: error: {e}', file=sys.stderr)
        return 2
    train_out = args.train_out or osp.join(out_dir, 'train_list.txt')
    val_out = args.val_out or osp.join(out_dir, 'val_list.txt')
    label_out = osp.join(out_dir, 'label_map.txt')
    for path in (train_out, val_out, label_out):
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    write_lines(train_out, train)
    write_lines(val_out, val)
    write_lines(label_out, classes)
    print(f'{len(classes)} classes, {len(train)} train and {len(val)} val '
          f'videos -> {train_out}, {val_out}, {label_out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

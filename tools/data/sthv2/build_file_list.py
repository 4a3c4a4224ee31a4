"""mmaction2 lists for Something-Something V2 (videos) and V1 (frames).

Something-Something V2 (webm videos, ``VideoDataset``; or the frame folders
of ``extract_frames.py``, ``RawframeDataset``)::

    python tools/data/sthv2/build_file_list.py v2 ANN_DIR [--videos DIR]
        [--frames DIR] [--out-dir data/sthv2]

``ANN_DIR`` holds the official ``labels.json`` (``{"<template>": "<index>"}``,
also accepted as ``something-something-v2-labels.json``),
``something-something-v2-train.json`` and ``...-validation.json`` (lists of
``{"id", "label", "template", "placeholders"}``). The label of a video is the
index of its template with the brackets removed (``"Putting [something] on
[something]"`` -> ``"Putting something on something"``), as in mmaction2 and
the official code. Writes ``sthv2_train_list_videos.txt`` and
``sthv2_val_list_videos.txt`` (lines ``<id>.webm <label>``) and
``sthv2_label_map.txt`` (templates in label order). With ``--videos`` the
files are checked and missing ones are left out and reported. With
``--frames DIR`` (frame folders ``DIR/<id>/img_00001.jpg ...``, e.g. the 30
fps frames of ``extract_frames.py``) the lists are
``sthv2_train_list_rawframes.txt`` and ``sthv2_val_list_rawframes.txt``
instead (lines ``<id> <number of frames> <label>``, the format of the
official lists); videos without frames are left out and reported.

Something-Something V1 (JPEG frame folders, ``RawframeDataset``)::

    python tools/data/sthv2/build_file_list.py v1 ANN_DIR FRAMES_DIR
        [--out-dir data/sthv1]

``ANN_DIR`` holds ``something-something-v1-labels.csv`` (one class per line,
line ``i`` = label ``i``), ``something-something-v1-train.csv`` and
``...-validation.csv`` (lines ``<id>;<class>``); ``FRAMES_DIR/<id>/`` holds
the frames ``00001.jpg, 00002.jpg, ...`` of the official release. Writes
``sthv1_train_list_rawframes.txt`` and ``sthv1_val_list_rawframes.txt``
(lines ``<id> <number of frames> <label>``) and ``sthv1_label_map.txt``;
videos without a frame folder (or with an empty one) are left out and
reported.

Exit status 0 (also with missing videos), 2 with a one-line message when an
annotation file is missing or malformed.
"""
import argparse
import json
import os
import os.path as osp
import sys


class UsageError(Exception):
    """A problem reported in one line (exit status 2)."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build mmaction2 lists for Something-Something V1 / V2.')
    sub = parser.add_subparsers(dest='version', required=True)
    v2 = sub.add_parser('v2', help='Something-Something V2 (webm videos)')
    v2.add_argument('ann_dir', help='folder with labels.json and '
                    'something-something-v2-{train,validation}.json')
    v2.add_argument('--videos', help='folder of the <id>.webm videos: check '
                    'that they exist')
    v2.add_argument('--frames', help='folder of the <id>/ frame folders '
                    '(30 fps extraction): write rawframe lists')
    v2.add_argument('--out-dir', default='data/sthv2')
    v1 = sub.add_parser('v1', help='Something-Something V1 (frame folders)')
    v1.add_argument('ann_dir', help='folder with something-something-v1-'
                    '{labels,train,validation}.csv')
    v1.add_argument('frames', help='folder of the <id>/ frame folders')
    v1.add_argument('--out-dir', default='data/sthv1')
    v1.add_argument('--ext', default='.jpg', help='frame file extension')
    return parser.parse_args(argv)


def _first_existing(folder, names):
    for name in names:
        path = osp.join(folder, name)
        if osp.isfile(path):
            return path
    raise UsageError(f'none of {names} in {folder!r} (download the '
                     'annotations first, see docs/datasets/)')


def _load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as e:
        raise UsageError(f'{path} is not valid JSON: {e}') from None


def template_to_class(template):
    return template.replace('[', '').replace(']', '')


def count_frames(folder, ext='.jpg'):
    """Frame files in ``folder`` (0 if it does not exist)."""
    if not osp.isdir(folder):
        return 0
    return len([x for x in os.listdir(folder) if x.lower().endswith(ext)])


def build_v2(ann_dir, videos=None, frames=None):
    """``({'train': lines, 'val': lines}, classes, {'train': missing...})``;
    rawframe lines (``<id> <frames> <label>``) with ``frames``."""
    if frames and not osp.isdir(frames):
        raise UsageError(f'frame folder {frames!r} does not exist')
    labels = _load_json(_first_existing(
        ann_dir, ['labels.json', 'something-something-v2-labels.json']))
    classes = [None] * len(labels)
    for name, idx in labels.items():
        classes[int(idx)] = name
    if None in classes:
        raise UsageError('labels.json: the label indices are not 0..N-1')
    out, missing = {}, {}
    for split, fname in (('train', 'something-something-v2-train.json'),
                         ('val', 'something-something-v2-validation.json')):
        items = _load_json(_first_existing(ann_dir, [fname]))
        lines, gone = [], []
        for item in items:
            name = template_to_class(item['template'])
            if name not in labels:
                raise UsageError(f'{fname}: video {item["id"]} has the '
                                 f'template {item["template"]!r}, which is '
                                 'not in labels.json')
            path = f'{item["id"]}.webm'
            if videos and not osp.isfile(osp.join(videos, path)):
                gone.append(path)
                continue
            if frames:
                count = count_frames(osp.join(frames, item['id']))
                if not count:
                    gone.append(item['id'])
                    continue
                lines.append(f'{item["id"]} {count} {int(labels[name])}')
                continue
            lines.append(f'{path} {int(labels[name])}')
        out[split], missing[split] = lines, gone
    return out, classes, missing


def build_v1(ann_dir, frames, ext='.jpg'):
    """``({'train': lines, 'val': lines}, classes, {'train': missing...})``"""
    with open(_first_existing(ann_dir,
                              ['something-something-v1-labels.csv'])) as f:
        classes = [line.strip() for line in f if line.strip()]
    label = {c: i for i, c in enumerate(classes)}
    if not osp.isdir(frames):
        raise UsageError(f'frame folder {frames!r} does not exist')
    out, missing = {}, {}
    for split, fname in (('train', 'something-something-v1-train.csv'),
                         ('val', 'something-something-v1-validation.csv')):
        lines, gone = [], []
        with open(_first_existing(ann_dir, [fname])) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                vid, sep, name = line.strip().partition(';')
                if not sep or name not in label:
                    raise UsageError(f'{fname}:{n}: expected "<id>;<class '
                                     'name>" with a class of the labels '
                                     f'file, got {line.strip()!r}')
                count = count_frames(osp.join(frames, vid), ext)
                if not count:
                    gone.append(vid)
                    continue
                lines.append(f'{vid} {count} {label[name]}')
        out[split], missing[split] = lines, gone
    return out, classes, missing


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.version == 'v2':
            lists, classes, missing = build_v2(args.ann_dir, args.videos,
                                               args.frames)
            kind = 'rawframes' if args.frames else 'videos'
            names = {s: f'sthv2_{s}_list_{kind}.txt' for s in lists}
            label_map = 'sthv2_label_map.txt'
        else:
            lists, classes, missing = build_v1(args.ann_dir, args.frames,
                                               args.ext)
            names = {s: f'sthv1_{s}_list_rawframes.txt' for s in lists}
            label_map = 'sthv1_label_map.txt'
    except UsageError as e:
        print(f'build_file_list.py: error: {e}', file=sys.stderr)
        return 2
    os.makedirs(args.out_dir, exist_ok=True)
    for split, lines in lists.items():
        path = osp.join(args.out_dir, names[split])
        with open(path, 'w') as f:
            f.writelines(line + '\n' for line in lines)
        gone = missing[split]
        print(f'{split}: {len(lines)} videos -> {path}' +
              (f'; {len(gone)} missing, e.g. {gone[0]}' if gone else ''))
    with open(osp.join(args.out_dir, label_map), 'w') as f:
        f.writelines(c + '\n' for c in classes)
    print(f'{len(classes)} classes -> {osp.join(args.out_dir, label_map)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

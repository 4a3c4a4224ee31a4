"""mmaction2 video lists for Kinetics-400/600/700 from the official CSVs.

    python tools/data/kinetics/build_file_list.py CSV VIDEO_DIR OUT
        [--label-map FILE] [--missing FILE]

* ``CSV``: an official annotation file (``kinetics400/train.csv``,
  ``validate.csv``, ...; columns ``label, youtube_id, time_start, time_end,
  split[, is_cc]`` in any order, read by header name).
* ``VIDEO_DIR``: the downloaded videos of that split, in any layout
  (``VIDEO_DIR/<class>/<id>_<start>_<end>.mp4`` of mmaction2's download
  script, flat ``VIDEO_DIR/<id>.mp4``, ...): every video file below it is
  matched to its CSV row by YouTube id (the first 11 characters of
  ``<id>_<start:06d>_<end:06d>`` names, else the file name without
  extension); when several files share an id, the one with the row's
  start / end times wins.
* ``OUT``: the list to write (e.g. ``data/kinetics400/
  kinetics400_train_list_videos.txt``): lines ``<path relative to
  VIDEO_DIR> <label>`` in CSV order.
* ``--label-map``: class names in label order, one per line, e.g. the map
  shipped with the package, ``uniformer_mm::label_maps/kinetics400.txt``
  (mmaction2's order; the released models use this order).
  Default: the alphabetical order of the CSV's class names, which is the
  same for the official CSVs.

Rows whose video is missing (Kinetics videos keep disappearing from
YouTube) are left out of ``OUT``, counted on stdout and, with ``--missing
FILE``, listed there (``youtube_id,time_start,time_end,label``). Exit status
0 (also with missing videos), 2 on a usage problem (unreadable CSV, a class
name not in the label map).
"""
import argparse
import csv
import os
import os.path as osp
import re
import sys

VIDEO_EXTENSIONS = ('.mp4', '.webm', '.mkv', '.avi', '.mov')
_TRIMMED = re.compile(r'^(?P<id>.{11})_(?P<start>\d+)_(?P<end>\d+)$')


class UsageError(Exception):
    """A problem reported in one line (exit status 2)."""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build an mmaction2 video list from an official Kinetics '
        'CSV and a folder of downloaded videos.')
    parser.add_argument('csv', help='official annotation CSV of one split')
    parser.add_argument('video_dir', help='folder with the videos of that '
                        'split (any layout)')
    parser.add_argument('out', help='list to write ("path label" lines)')
    parser.add_argument('--label-map', help='class names in label order, '
                        'one per line (default: sorted CSV class names)')
    parser.add_argument('--missing', help='write the rows without a video '
                        'to this file')
    return parser.parse_args(argv)


def normalise(name):
    """Class names as in mmaction2's label maps (CSV quotes removed;
    underscores of folder-style names read as spaces)."""
    return ' '.join(name.replace('"', '').replace('_', ' ').split())


def read_label_map(path):
    """Class names of ``--label-map``: a file, or a map shipped with the
    package (``uniformer_mm::label_maps/kinetics400.txt``)."""
    try:
        from uniformer_mm import label_maps
    except ImportError:  # a checkout that is not pip-installed
        sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.dirname(
            osp.abspath(__file__))))))
        from uniformer_mm import label_maps
    try:
        return label_maps.read_label_map(path)
    except (OSError, ValueError) as e:
        raise UsageError(f'--label-map: {e}') from None


def read_csv(path):
    """Rows ``(youtube_id, start, end, label)`` of an official CSV."""
    try:
        with open(path, newline='') as f:
            reader = csv.DictReader(f)
            fields = [h.strip() for h in reader.fieldnames or []]
            need = {'youtube_id', 'time_start', 'time_end', 'label'}
            if not need <= set(fields):
                raise UsageError(
                    f'{path}: expected the columns {sorted(need)} (official '
                    f'Kinetics CSV), found {fields}')
            rows = []
            for row in reader:
                row = {k.strip(): (v or '').strip() for k, v in row.items()
                       if k is not None}
                rows.append((row['youtube_id'], int(float(row['time_start'])),
                             int(float(row['time_end'])), row['label']))
            return rows
    except OSError as e:
        raise UsageError(f'cannot read {path}: {e.strerror}') from None
    except ValueError as e:
        raise UsageError(f'{path}: {e}') from None


def index_videos(video_dir):
    """``{youtube_id: [(relative path, start, end), ...]}`` of the videos."""
    if not osp.isdir(video_dir):
        raise UsageError(f'video folder {video_dir!r} does not exist')
    index = {}
    for dirpath, dirnames, filenames in os.walk(video_dir, followlinks=True):
        dirnames.sort()
        for name in sorted(filenames):
            stem, ext = osp.splitext(name)
            if ext.lower() not in VIDEO_EXTENSIONS:
                continue
            rel = osp.relpath(osp.join(dirpath, name), video_dir).replace(
                os.sep, '/')
            m = _TRIMMED.match(stem)
            if m:
                key, times = m.group('id'), (int(m.group('start')),
                                             int(m.group('end')))
            else:
                key, times = stem, None
            index.setdefault(key, []).append((rel, times))
    return index


def build(csv_path, video_dir, label_map=None):
    """Return ``(lines, missing_rows, classes)``."""
    rows = read_csv(csv_path)
    if label_map:
        classes = read_label_map(label_map)
    else:
        classes = sorted({normalise(r[3]) for r in rows if r[3]})
    label = {normalise(c): i for i, c in enumerate(classes)}
    unknown = sorted({r[3] for r in rows if normalise(r[3]) not in label})
    if unknown:
        raise UsageError(
            f'{len(unknown)} class names of {csv_path} are not in the label '
            f'map, e.g. {unknown[0]!r}')
    index = index_videos(video_dir)
    lines, missing = [], []
    for yid, start, end, name in rows:
        candidates = index.get(yid)
        if not candidates:
            missing.append((yid, start, end, name))
            continue
        exact = [c for c in candidates if c[1] == (start, end)]
        path = (exact or candidates)[0][0]
        if ' ' in path:
            raise UsageError(
                f'{path!r} contains a space, which the "path label" list '
                'format cannot hold; rename the folders (mmaction2: '
                'tools/data/kinetics/rename_classnames.sh)')
        lines.append(f'{path} {label[normalise(name)]}')
    return lines, missing, classes


def main(argv=None):
    args = parse_args(argv)
    try:
        lines, missing, classes = build(args.csv, args.video_dir,
                                        args.label_map)
    except UsageError as e:
        print(f'build_file_list.py: error: {e}', file=sys.stderr)
        return 2
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    with open(args.out, 'w') as f:
        f.writelines(line + '\n' for line in lines)
    total = len(lines) + len(missing)
    print(f'{len(lines)} of {total} videos listed in {args.out} '
          f'({len(classes)} classes)')
    if missing:
        print(f'{len(missing)} videos of {args.csv} are missing from '
              f'{args.video_dir}' +
              (f' (listed in {args.missing})' if args.missing else
               ' (--missing FILE lists them)'))
        if args.missing:
            with open(args.missing, 'w') as f:
                f.writelines(f'{y},{s},{e},{n}\n' for y, s, e, n in missing)
    return 0


if __name__ == '__main__':
    sys.exit(main())

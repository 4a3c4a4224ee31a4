"""Clip-level features (pooled backbone output, before the classifier).

    python tools/extract_features.py CONFIG CHECKPOINT LIST_OR_FOLDER
        --out-dir DIR [--data-prefix DIR] [--per-view] [--device cpu]
        [--cfg-options KEY=VALUE ...]

LIST_OR_FOLDER: a folder (searched recursively for videos, or images with an
image config) or a text file with one input per line (an mmaction2
annotation list works: the first field of each line is the path; relative
paths are joined to ``--data-prefix``, default the list's folder).

For each input, the config's test pipeline and data preprocessor are
applied, the backbone runs on every view, its output is average-pooled over
time and space (the class token of the light models is not used, as in
their inference), and the views are averaged: one ``[C]`` float32 vector,
saved as ``DIR/<relative path without extension>.npy`` (``[views, C]``
with ``--per-view``). CHECKPOINT ``none``: random weights.
"""
import argparse
import os
import os.path as osp
import sys

try:
    import uniformer_mm  # noqa: F401
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    import uniformer_mm  # noqa: F401

import numpy as np  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

from uniformer_mm.apis import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS,  # noqa
                               extract_clip_feature, init_model)
from uniformer_mm.engine.errors import (add_debug_argument,  # noqa: E402
                                        cli_errors)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Pooled backbone features per video (or image).')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="checkpoint, or 'none'")
    parser.add_argument('source', metavar='LIST_OR_FOLDER',
                        help='folder, or text file with one path per line')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--data-prefix',
                        help='root of the relative paths of a list file')
    parser.add_argument('--per-view', action='store_true',
                        help='save [views, C] instead of the view average')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, KEY=VALUE with dotted keys')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def list_inputs(source, extensions, data_prefix=None):
    """``[(path, relative name)]`` from a folder or a list file."""
    items = []
    if osp.isdir(source):
        for root, dirs, names in os.walk(source):
            dirs.sort()
            for name in sorted(names):
                if osp.splitext(name)[1].lower() in extensions:
                    path = osp.join(root, name)
                    items.append((path, osp.relpath(path, source)))
        return items
    if not osp.isfile(source):
        raise FileNotFoundError(f'no such file or folder: {source}')
    prefix = data_prefix if data_prefix is not None else osp.dirname(
        osp.abspath(source))
    with open(source, encoding='utf-8') as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0].startswith('#'):
                continue
            rel = fields[0]
            path = rel if osp.isabs(rel) else osp.join(prefix, rel)
            name = osp.relpath(path, prefix) if not osp.isabs(rel) else \
                osp.basename(rel)
            items.append((path, name))
    return items


def main(argv=None):
    args = parse_args(argv)
    with cli_errors('extract_features.py', debug=args.debug):
        return run(args)


def run(args):
    random_init = args.checkpoint.lower() == 'none'
    model = init_model(args.config, None if random_init else args.checkpoint,
                       device=args.device, cfg_options=args.cfg_options)
    if random_init:
        print('WARNING: checkpoint "none": random weights',
              file=sys.stderr)
    extensions = VIDEO_EXTENSIONS if model.task == 'video' \
        else IMAGE_EXTENSIONS
    try:
        items = list_inputs(args.source, extensions, args.data_prefix)
    except FileNotFoundError as e:
        sys.exit(f'extract_features.py: error: {e}')
    if not items:
        sys.exit('extract_features.py: error: no inputs found')
    os.makedirs(args.out_dir, exist_ok=True)
    progress = ProgressBar(len(items), file=sys.stderr)
    dims, failed = set(), []
    for path, name in items:
        try:
            feat = extract_clip_feature(model, path, per_view=args.per_view)
        except Exception as e:  # report and go on
            failed.append(f'{path}: {type(e).__name__}: {e}')
            progress.update()
            continue
        out = osp.join(args.out_dir, osp.splitext(name)[0] + '.npy')
        os.makedirs(osp.dirname(out), exist_ok=True)
        np.save(out, feat.astype(np.float32))
        dims.add(tuple(feat.shape))
        progress.update()
    sys.stderr.write('\n')
    done = len(items) - len(failed)
    shapes = ', '.join(str(list(d)) for d in sorted(dims)) or '-'
    print(f'{done} feature file(s) of shape {shapes} written to '
          f'{args.out_dir}')
    for line in failed:
        print(f'FAILED {line}', file=sys.stderr)
    if failed:
        sys.exit(1)


if __name__ == '__main__':
    main()

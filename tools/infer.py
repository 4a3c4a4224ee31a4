"""Classify videos or images with a config and a checkpoint.

    python tools/infer.py CONFIG CHECKPOINT INPUT [INPUT ...]
        [--label-map FILE] [--topk 5] [--device cpu] [--out results.json]
        [--cfg-options KEY=VALUE ...] [--debug]

INPUT: files or folders. Folders are searched recursively for videos (video
configs) or images (image configs), by extension. An image given to a video
model is classified as a one-frame video. The config's test pipeline is used
(views fused as its head does); see ``uniformer_mm/apis/inference.py``.

CHECKPOINT ``none`` runs the model with random weights (a smoke test: the
predictions mean nothing, and a warning says so). A checkpoint that does not
fit the config (too little of the model filled, see
``uniformer_mm/checkpoint/coverage.py``), a label map with another number
of names than the model has classes, or a config mistake is one line on
stderr (exit status 2; ``--debug`` shows the traceback).

A table per input is printed on stdout (rank, label, score); the progress
bar goes to stderr.
"""
import argparse
import json
import os
import os.path as osp
import sys

try:
    import uniformer_mm  # noqa: F401
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    import uniformer_mm  # noqa: F401

from mmengine.config import DictAction  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

from uniformer_mm.apis import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS,  # noqa
                               class_names, init_model, predict_scores,
                               topk_predictions)
from uniformer_mm.engine.errors import (add_debug_argument,  # noqa: E402
                                        cli_errors)
from uniformer_mm.label_maps import LabelMapError  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Top-k predictions of a UniFormer model for videos or '
        'images.')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        'checkpoint', help="checkpoint file, or 'none' for random weights")
    parser.add_argument(
        'inputs', nargs='+', metavar='INPUT',
        help='video / image files, or folders (searched recursively)')
    parser.add_argument(
        '--label-map',
        help='class names, one per line (label order): a file or a shipped '
        "map such as 'uniformer_mm::label_maps/kinetics400.txt'; default: "
        "the checkpoint's class names, else the config's label_map")
    parser.add_argument('--topk', type=int, default=5,
                        help='predictions shown per input')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--out', help='also write the results to this JSON '
                        'file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, KEY=VALUE with dotted keys')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def collect_inputs(paths, extensions):
    """Files as given; folders searched recursively for ``extensions``
    (sorted). Missing paths raise ``FileNotFoundError``."""
    files = []
    for path in paths:
        if osp.isdir(path):
            found = []
            for root, dirs, names in os.walk(path):
                dirs.sort()
                found.extend(
                    osp.join(root, n) for n in sorted(names)
                    if osp.splitext(n)[1].lower() in extensions)
            files.extend(found)
        elif osp.isfile(path):
            files.append(path)
        else:
            raise FileNotFoundError(f'no such file or folder: {path}')
    return files


def format_table(predictions):
    """Rank / label / score table (label index when there is no name)."""
    labels = [
        name if name is not None else f'class {index}'
        for index, name, _ in predictions
    ]
    width = max([len('label')] + [len(label) for label in labels])
    lines = [f'  {"rank":>4}  {"label":<{width}}  {"score":>8}']
    for rank, (label, (_, _, score)) in enumerate(
            zip(labels, predictions), 1):
        lines.append(f'  {rank:>4}  {label:<{width}}  {score:>8.4f}')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    with cli_errors('infer.py', debug=args.debug):
        return run(args)


def run(args):
    random_init = args.checkpoint.lower() == 'none'
    if not random_init and not osp.isfile(args.checkpoint) and \
            '://' not in args.checkpoint:
        sys.exit(f'infer.py: error: checkpoint {args.checkpoint!r} does not '
                 "exist (use 'none' for random weights)")
    model = init_model(
        args.config, None if random_init else args.checkpoint,
        device=args.device, cfg_options=args.cfg_options)
    if random_init:
        print('WARNING: checkpoint "none": the model has random weights, '
              'its predictions are meaningless (smoke test only).',
              file=sys.stderr, flush=True)
    try:
        names = class_names(model, args.label_map)
    except (FileNotFoundError, LabelMapError) as e:
        sys.exit(f'infer.py: error: --label-map: {e}')
    extensions = VIDEO_EXTENSIONS if model.task == 'video' \
        else IMAGE_EXTENSIONS
    try:
        files = collect_inputs(args.inputs, extensions)
    except FileNotFoundError as e:
        sys.exit(f'infer.py: error: {e}')
    if not files:
        sys.exit('infer.py: error: no input files found')

    results, failed = [], 0
    progress = ProgressBar(len(files), file=sys.stderr)
    for path in files:
        try:
            scores, views = predict_scores(model, path)
        except Exception as e:  # report and go on with the other inputs
            failed += 1
            print(f'\n{path}: FAILED: {type(e).__name__}: {e}', flush=True)
            progress.update()
            continue
        predictions = topk_predictions(scores, args.topk, names)
        kind = 'video' if model.task == 'video' else 'image'
        print(f'\n{path}  ({kind}, {views} view{"s" if views > 1 else ""})')
        print(format_table(predictions), flush=True)
        results.append(
            dict(input=path, views=views,
                 predictions=[
                     dict(rank=r, label=i, name=n, score=s)
                     for r, (i, n, s) in enumerate(predictions, 1)
                 ]))
        progress.update()
    sys.stderr.write('\n')
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(results, f, indent=2)
        print(f'\nresults written to {args.out}')
    if failed:
        print(f'\n{failed} of {len(files)} inputs failed', file=sys.stderr)
        sys.exit(1)
    return results


if __name__ == '__main__':
    main()

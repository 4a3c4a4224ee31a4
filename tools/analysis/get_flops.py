"""Parameters and FLOPs of a config's model, per view, as in the papers.

    python tools/analysis/get_flops.py CONFIG [--shape T H W | --shape H W]
        [--cfg-options KEY=VALUE ...] [--params-only]

FLOPs are multiply-accumulates of ``backbone (+ neck) + head`` on one view
(batch 1), counted with ``uniformer_mm.analysis.flops.count_flops`` (fvcore /
mmengine convention, scaled-dot-product attention included), which is what
the UniFormer / UniFormerV2 papers' tables report. The view shape comes from
the config's test pipeline (clip_len, crop size) unless ``--shape`` is
given; the number of views (clips x crops) is printed too.

The model is built without pretrained weights and without ``init_weights``;
``--params-only`` builds it on PyTorch's ``meta`` device (no memory, no
forward pass), which is enough to count parameters of the largest models.

Dense-prediction configs (mmdet / mmseg / mmpose): segmentation FLOPs are
those of backbone + neck + decode head at 512x2048 (the papers'), pose
FLOPs those of backbone + head at the model input, counted on the meta
device with ``uniformer_mm.analysis.flops.count_dense_flops`` (``--shape H
W`` for another input); detection models get their parameters only (their
FLOPs are not counted by this project).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import _checkout  # noqa: E402,F401  (uniformer_mm, also from a checkout)

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from uniformer_mm.analysis.flops import (count_dense_flops,  # noqa: E402
                                         count_flops, dense_flops_input)
from uniformer_mm.analysis.input_shape import (ViewSpec,  # noqa: E402
                                               infer_view_spec)
from uniformer_mm.apis.export import ScoreModel  # noqa: E402
from uniformer_mm.apis.inference import (DENSE_TASKS,  # noqa: E402
                                         build_model, get_task, load_config)
from uniformer_mm.engine.errors import (add_debug_argument,  # noqa: E402
                                        cli_errors)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Params and FLOPs (multiply-accumulates) per view.')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--shape', type=int, nargs='+',
        help='view size: T H W (video) or H W (image); default: from the '
        'test pipeline')
    parser.add_argument(
        '--params-only', action='store_true',
        help='count parameters only (model built on the meta device)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, KEY=VALUE with dotted keys')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def _giga(value):
    value = value / 1e9
    return f'{value:.2f}' if value >= 1 else f'{value:.3g}'


def _fmt_shape(shape):
    return 'x'.join(str(s) for s in shape)


def get_dense_flops(cfg, task, shape=None, params_only=False):
    """:func:`get_flops` of a dense-prediction config (see the module
    doc); ``flops`` is None with ``params_only`` and for detection."""
    if shape and len(shape) != 2:
        raise SystemExit(f'--shape needs H W for this {task} config, got '
                         f'{shape}')
    with torch.device('meta'):
        model = build_model(cfg, task)
    params = sum(p.numel() for p in model.parameters())
    view = tuple(shape) if shape else dense_flops_input(cfg)
    flops = None
    if view is None:  # detection
        if not params_only:
            print('note: the FLOPs of detection models are not counted '
                  '(parameters only)')
    elif not params_only:
        flops = count_dense_flops(model, view)
    return dict(params=params, flops=flops, input_shape=(1, 3) + tuple(
        view or ()), spec=ViewSpec((3, ) + tuple(view or ())),
        counted=('backbone + neck + decode head' if task == 'segmentation'
                 else 'backbone + head') + ', torch.utils.flop_counter')


def get_flops(cfg, shape=None, params_only=False):
    """``dict(params, flops, input_shape, spec)`` for ``cfg``'s model;
    ``flops`` is None with ``params_only``."""
    task = get_task(cfg, dense=True)
    if task in DENSE_TASKS:
        return get_dense_flops(cfg, task, shape, params_only)
    spec = infer_view_spec(cfg, task)
    if shape:
        want = 3 if task == 'video' else 2
        if len(shape) != want:
            raise SystemExit(
                f'--shape needs {"T H W" if want == 3 else "H W"} for this '
                f'{task} config, got {shape}')
        view = (3, ) + tuple(shape)
        spec.guessed = []
    else:
        view = spec.shape
    input_shape = (1, ) + tuple(view)
    if params_only:
        with torch.device('meta'):
            model = build_model(cfg, task)
        params = sum(p.numel() for p in model.parameters())
        return dict(params=params, flops=None, input_shape=input_shape,
                    spec=spec)
    model = build_model(cfg, task)
    model.eval()
    flops, params = count_flops(
        ScoreModel(model, task), torch.zeros(input_shape))
    return dict(params=params, flops=flops, input_shape=input_shape,
                spec=spec)


def main(argv=None):
    args = parse_args(argv)
    with cli_errors('get_flops.py', debug=args.debug):
        return run(args)


def run(args):
    cfg = load_config(args.config, args.cfg_options)
    result = get_flops(cfg, args.shape, args.params_only)
    spec = result['spec']
    if spec.guessed:
        print(f'note: not in the config\'s test pipeline, assumed: '
              f'{", ".join(spec.guessed)} (set --shape to change)')
    line = f'params: {result["params"] / 1e6:.2f} M'
    if result['flops'] is not None:
        line += f'  FLOPs/view: {_giga(result["flops"])} G'
    if len(result['input_shape']) > 2:  # none for detection
        line += f'  input: {_fmt_shape(result["input_shape"])}'
    print(line)
    if result['flops'] is not None and spec.views > 1 and not args.shape:
        print(f'views: {spec.clips} clips x {spec.crops} crops = '
              f'{spec.views}  FLOPs/sample: '
              f'{_giga(result["flops"] * spec.views)} G')
    if result['flops'] is not None:
        counted = result.get('counted',
                             'backbone + head, fvcore convention')
        print(f'(FLOPs = multiply-accumulates of {counted}, as in the '
              'papers)')
    return result


if __name__ == '__main__':
    main()

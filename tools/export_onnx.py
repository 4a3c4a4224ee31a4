"""Export a UniFormer / UniFormerV2 model to ONNX for inference.

    python tools/export_onnx.py CONFIG CHECKPOINT --out model.onnx
        [--shape T H W | H W] [--batch-size 1] [--opset 17] [--softmax]
        [--static-batch] [--verify] [--tolerance 1e-4]
        [--cfg-options KEY=VALUE ...]

The graph is ``backbone (+ neck) + head`` in eval mode for one view
(``uniformer_mm.apis.export.ScoreModel``): input ``input``, the normalised
view ``[B, 3, T, H, W]`` (video) or ``[B, 3, H, W]`` (image) as the data
preprocessor makes it (mean / std applied, RGB); output ``scores``
``[B, classes]``, raw scores (``--softmax``: probabilities). The view size
comes from the config's test pipeline unless ``--shape`` is given, and only
the batch axis is dynamic. Fuse multi-view results outside (average the
softmax for ``average_clips='prob'``).

After the export the model is run with onnxruntime on a random input and
compared with PyTorch; the max absolute difference is printed. With
``--verify`` the export fails (exit 1) if onnxruntime is missing or the
difference exceeds ``--tolerance``.

CHECKPOINT ``none``: random weights (to test the export). Note that the
light models (XXS/XS) at random initialisation have a zero class token, so
all tokens tie in the token-pruning order, which PyTorch and onnxruntime
break differently; trained weights do not tie.
"""
import argparse
import os.path as osp
import sys

try:
    import uniformer_mm  # noqa: F401
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    import uniformer_mm  # noqa: F401

from mmengine.config import DictAction  # noqa: E402

from uniformer_mm.analysis.input_shape import infer_view_spec  # noqa: E402
from uniformer_mm.apis import init_model  # noqa: E402
from uniformer_mm.apis.export import (ScoreModel, export_onnx,  # noqa: E402
                                      verify_onnx)
from uniformer_mm.engine.errors import (add_debug_argument,  # noqa: E402
                                        cli_errors)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='ONNX export (+ onnxruntime check) of a classifier.')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="checkpoint, or 'none'")
    parser.add_argument('--out', required=True, help='output .onnx file')
    parser.add_argument('--shape', type=int, nargs='+',
                        help='view size T H W (video) or H W (image)')
    parser.add_argument('--batch-size', type=int, default=1,
                        help='batch of the example input')
    parser.add_argument('--opset', type=int, default=17,
                        help='ONNX opset (>= 14 for attention)')
    parser.add_argument('--softmax', action='store_true',
                        help='output probabilities instead of raw scores')
    parser.add_argument('--static-batch', action='store_true',
                        help='fixed batch axis (default: dynamic)')
    parser.add_argument('--verify', action='store_true',
                        help='fail unless onnxruntime matches PyTorch')
    parser.add_argument('--tolerance', type=float, default=1e-4,
                        help='max abs difference accepted by --verify')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, KEY=VALUE with dotted keys')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with cli_errors('export_onnx.py', debug=args.debug):
        return run(args)


def run(args):
    random_init = args.checkpoint.lower() == 'none'
    model = init_model(args.config, None if random_init else args.checkpoint,
                       device='cpu', cfg_options=args.cfg_options)
    if random_init:
        print('WARNING: checkpoint "none": random weights', file=sys.stderr)
    if args.shape:
        want = 3 if model.task == 'video' else 2
        if len(args.shape) != want:
            sys.exit(f'export_onnx.py: error: --shape needs '
                     f'{"T H W" if want == 3 else "H W"} for this config')
        view = (3, ) + tuple(args.shape)
    else:
        view = infer_view_spec(model.cfg, model.task).shape
    shape = (args.batch_size, ) + tuple(view)
    wrapper = ScoreModel(model, softmax=args.softmax).eval()
    out, example = export_onnx(
        wrapper, args.out, shape, opset=args.opset,
        dynamic_batch=not args.static_batch)
    print(f'exported {out}: input {"x".join(map(str, shape))} '
          f'({"static" if args.static_batch else "dynamic"} batch), opset '
          f'{args.opset}, output '
          f'{"probabilities" if args.softmax else "scores"}')
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        if args.verify:
            sys.exit('export_onnx.py: error: --verify needs onnxruntime '
                     '(pip install onnx onnxruntime)')
        print('onnxruntime is not installed: not checked')
        return None
    diff = verify_onnx(wrapper, out, example)
    ok = diff <= args.tolerance
    print(f'onnxruntime vs PyTorch: max abs diff {diff:.3e} '
          f'({"OK" if ok else "ABOVE"} tolerance {args.tolerance:g})')
    if args.verify and not ok:
        sys.exit(1)
    return diff


if __name__ == '__main__':
    main()

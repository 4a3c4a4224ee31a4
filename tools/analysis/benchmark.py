"""Inference and training speed and peak memory of a config's model.

    python tools/analysis/benchmark.py CONFIG [CONFIG ...]
        [--device cpu|cuda] [--batch-size 1] [--runs 5] [--warmup 1]
        [--amp bf16|fp16] [--with-data] [--no-train] [--shape T H W | H W]
        [--json OUT] [--cfg-options KEY=VALUE ...]

    python tools/analysis/benchmark.py --compare-mmaction
        {uniformer-s16,uniformerv2-b16} [...] [--runs 5] [--warmup 1]
        [--pipeline] [--tiny] [--mem-reps 1] [--no-memory] [--json OUT]

The second form is the side-by-side comparison with mmaction2's own
UniFormer / UniFormerV2 (same weights, outputs checked, alternating runs,
ratios; and with ``--pipeline`` the Kinetics train data pipelines): see
``tools/analysis/compare_mmaction.py``, which it runs.

For every config (several configs print one table each, with the same
settings, for side-by-side comparisons) it measures, with the functions of
``uniformer_mm/analysis/benchmark.py`` (read its docstring for exactly what
is timed and how memory is measured):

* ``inference``: forward of backbone + head on random inputs of one view
  (the view shape from the test pipeline, or ``--shape``), no gradients;
* ``train``: forward + loss + backward (no optimizer step) on the same;
* with ``--with-data``, also ``inference+data`` (the config's
  ``test_dataloader``: decoding, test pipeline with all its views,
  ``test_step``) and ``train+data`` (``train_dataloader``, preprocessing,
  forward, loss, backward). The data sets must exist (the demo configs
  generate theirs).

Throughput is clips (or images) per second; ``+data`` rows count samples
(videos with all their views). Weights are random: speed does not depend on
them.
"""
import argparse
import json
import os.path as osp
import sys

try:
    import uniformer_mm  # noqa: F401
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    import uniformer_mm  # noqa: F401

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from uniformer_mm.analysis.benchmark import (peak_memory,  # noqa: E402
                                             run_inference, run_train_step,
                                             synthetic_inputs,
                                             time_inference, time_train_step,
                                             time_with_data, amp_context)
from uniformer_mm.analysis.input_shape import infer_view_spec  # noqa: E402
from uniformer_mm.apis.inference import (_scope, build_model,  # noqa: E402
                                         get_task, load_config)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Speed (clips/s) and peak memory of inference and '
        'training.')
    parser.add_argument('configs', nargs='*', metavar='CONFIG',
                        help='config file(s)')
    parser.add_argument(
        '--compare-mmaction', nargs='+', metavar='VARIANT',
        choices=['uniformer-s16', 'uniformerv2-b16'],
        help='side-by-side comparison with mmaction2 (no CONFIG): see '
        'tools/analysis/compare_mmaction.py')
    parser.add_argument('--device', default=None,
                        help='cpu or cuda[:i] (default: cuda if available)')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--runs', type=int, default=5,
                        help='timed iterations per measurement')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed iterations before the timed ones')
    parser.add_argument('--amp', choices=['bf16', 'fp16'], default=None,
                        help='autocast dtype (default: float32)')
    parser.add_argument('--with-data', action='store_true',
                        help='also time the test / train data loaders')
    parser.add_argument('--no-train', action='store_true',
                        help='inference only')
    parser.add_argument('--shape', type=int, nargs='+',
                        help='view size T H W (video) or H W (image)')
    parser.add_argument('--json', help='write the results to this file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, KEY=VALUE with dotted keys')
    group = parser.add_argument_group('--compare-mmaction options')
    _compare_tool().add_arguments(group)
    args = parser.parse_args(argv)
    if not args.configs and not args.compare_mmaction:
        parser.error('give CONFIG(s) or --compare-mmaction VARIANT')
    if args.configs and args.compare_mmaction:
        parser.error('--compare-mmaction takes no CONFIG')
    return args


def _compare_tool():
    """tools/analysis/compare_mmaction.py as a module."""
    import importlib.util
    path = osp.join(osp.dirname(osp.abspath(__file__)),
                    'compare_mmaction.py')
    spec = importlib.util.spec_from_file_location('_compare_mmaction', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mib(num_bytes):
    return '-' if num_bytes is None else f'{num_bytes / 2**20:.1f} MiB'


def _loader(cfg, key, batch_size, task):
    from mmengine.runner import Runner
    loader_cfg = cfg.get(key)
    if not loader_cfg:
        raise SystemExit(f'--with-data: the config has no {key}')
    loader_cfg = loader_cfg.copy()
    loader_cfg['batch_size'] = batch_size
    with _scope(task):
        return Runner.build_dataloader(loader_cfg, seed=0)


def benchmark_config(cfg, args, device):
    """Results (a list of row dicts) for one config."""
    task = get_task(cfg)
    spec = infer_view_spec(cfg, task)
    view = spec.shape if not args.shape else (3, ) + tuple(args.shape)
    model = build_model(cfg, task)
    model.task = task
    model.to(device)
    inputs = synthetic_inputs(
        model, view, args.batch_size, task=task, device=device)
    rows = []

    def add(mode, timing, memory=None):
        rows.append(
            dict(mode=mode,
                 items_per_s=timing['items_per_s'],
                 ms_per_iter=timing['mean_s'] * 1000,
                 std_ms=timing['std_s'] * 1000,
                 data_ms=(timing['data_s'] * 1000
                          if 'data_s' in timing else None),
                 peak_bytes=memory['bytes'] if memory else None,
                 memory_method=memory['method'] if memory else None))

    timing = time_inference(model, inputs, args.runs, args.warmup, args.amp)

    def infer_once():
        with torch.no_grad(), amp_context(args.amp, device):
            run_inference(model, inputs)

    model.eval()
    add('inference', timing, peak_memory(infer_once, device))
    if not args.no_train:
        timing = time_train_step(model, inputs, args.runs, args.warmup,
                                 args.amp)

        def train_once():
            model.train()
            with amp_context(args.amp, device):
                run_train_step(model, inputs)
            model.zero_grad(set_to_none=True)

        add('train (fwd+bwd)', timing, peak_memory(train_once, device))
    if args.with_data:
        loader = _loader(cfg, 'test_dataloader', args.batch_size, task)
        with _scope(task):
            timing = time_with_data(model, loader, args.runs, args.warmup,
                                    False, args.amp)
        add(f'inference+data ({spec.views} view{"s" * (spec.views > 1)})',
            timing)
        if not args.no_train:
            loader = _loader(cfg, 'train_dataloader', args.batch_size, task)
            with _scope(task):
                timing = time_with_data(model, loader, args.runs,
                                        args.warmup, True, args.amp)
            add('train+data (fwd+bwd)', timing)
    params = sum(p.numel() for p in model.parameters())
    return dict(view_shape=list(view), views=spec.views, params=params,
                rows=rows)


def print_result(config, result, args, device):
    shape = 'x'.join(str(s) for s in [args.batch_size] + result['view_shape'])
    print(f'\n{config}')
    print(f'  params {result["params"] / 1e6:.2f} M, input {shape}, device '
          f'{device}, amp {args.amp or "none"}, {args.runs} runs after '
          f'{args.warmup} warm-up')
    header = (f'  {"mode":<26} {"items/s":>9} {"ms/iter":>12} '
              f'{"data ms":>8} {"peak memory":>12}')
    print(header)
    for row in result['rows']:
        ms = f'{row["ms_per_iter"]:.1f}±{row["std_ms"]:.1f}'
        data = '-' if row['data_ms'] is None else f'{row["data_ms"]:.1f}'
        print(f'  {row["mode"]:<26} {row["items_per_s"]:>9.2f} {ms:>12} '
              f'{data:>8} {_mib(row["peak_bytes"]):>12}')
    methods = {r['memory_method'] for r in result['rows']
               if r['memory_method']}
    if methods:
        print(f'  memory: {", ".join(sorted(methods))} (see '
              'uniformer_mm/analysis/benchmark.py)')


def main(argv=None):
    args = parse_args(argv)
    if args.compare_mmaction:
        args.variants = args.compare_mmaction
        return _compare_tool().main(args=args)
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))
    results = {}
    for config in args.configs:
        cfg = load_config(config, args.cfg_options)
        result = benchmark_config(cfg, args, device)
        print_result(config, result, args, device)
        results[config] = result
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(device=str(device), amp=args.amp,
                           batch_size=args.batch_size, runs=args.runs,
                           results=results), f, indent=2)
    return results


if __name__ == '__main__':
    main()

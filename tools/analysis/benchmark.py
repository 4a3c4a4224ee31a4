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
settings, for side-by-side comparisons) it measures (what is timed and how memory is measured: below):

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

The measuring functions (importable: ``import benchmark`` with this folder
on ``sys.path``; ``compare_mmaction.py`` and the tests use them).

Speed and memory measurements, model-agnostic.

The three building blocks work for any model, so that other models (e.g.
mmaction2's own recognizers) can be measured the same way side by side:

:func:`time_inference` ``(model, inputs, runs)``
    forward passes without gradients, in eval mode.
:func:`time_train_step` ``(model, inputs, runs)``
    forward + loss + backward in train mode (no optimizer step, no data
    preprocessing).
:func:`peak_memory` ``(fn)``
    peak memory of one call of ``fn``.

``model`` is an OpenMMLab model (mmengine ``BaseModel``: an mmaction2
recognizer, an mmpretrain classifier; called with ``mode='tensor'`` /
``mode='loss'``) or any ``nn.Module`` (called as ``model(x)``; the training
loss is then the mean of the output). ``inputs`` is a tensor or
``dict(inputs=tensor, data_samples=list)``; :func:`synthetic_inputs` makes
one for a model family.

Times are wall-clock seconds per call (CUDA synchronised before and after),
after ``warmup`` untimed calls. Throughput is ``batch / time`` items per
second, an item being one clip (video) or image.

Peak memory:

* CUDA: ``torch.cuda.max_memory_allocated`` during the call minus the
  memory allocated before it (tensors only, not the caching allocator's
  reserve, nor the CUDA context).
* CPU: growth of the process's peak resident set size during the call. On
  Linux the peak (``VmHWM`` in ``/proc/self/status``) is reset to the current
  RSS first by writing ``5`` to ``/proc/self/clear_refs``, so the result
  is ``VmHWM(after) - VmRSS(before)``; before that, glibc's
  ``malloc_trim(0)`` returns the memory freed by earlier calls to the OS,
  so that it is not silently reused. This is the real memory the process
  touched (tensors, allocator slack, oneDNN scratch space, thread stacks),
  not the sum of tensor sizes; it is approximate (page granularity, memory
  that stays cached by other libraries). Where
  ``clear_refs`` cannot be written, RSS is sampled every millisecond by a
  thread instead (method ``'rss-sampled'``, may miss short peaks).
"""
import argparse
import contextlib
import json
import os.path as osp
import sys
import time
from typing import Callable, Dict, Optional, Sequence, Union

# the sibling tools of this folder (pipelines.py, benchmark.py) import by
# name, also when a test loads this file by its path
_HERE = osp.dirname(osp.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
import _checkout  # noqa: E402,F401  (uniformer_mm, also from a checkout)
from memory import peak_memory  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from uniformer_mm.analysis.input_shape import infer_view_spec  # noqa: E402
from uniformer_mm.apis.inference import (_scope, build_model,  # noqa: E402
                                         get_task, load_config)

__all__ = [
    'synthetic_inputs', 'time_inference', 'time_train_step', 'peak_memory',
    'amp_context', 'synchronize', 'run_inference', 'run_train_step',
    'time_with_data'
]

Inputs = Union[torch.Tensor, dict]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def _is_mm_model(model) -> bool:
    from mmengine.model import BaseModel
    return isinstance(model, BaseModel)


def _device_of(model, inputs) -> torch.device:
    tensor = inputs['inputs'] if isinstance(inputs, dict) else inputs
    if torch.is_tensor(tensor):
        return tensor.device
    for p in model.parameters():
        return p.device
    return torch.device('cpu')


def _batch_size(inputs) -> int:
    tensor = inputs['inputs'] if isinstance(inputs, dict) else inputs
    return int(tensor.shape[0])


def synchronize(device: Union[str, torch.device, None] = None) -> None:
    """Wait for the device's queued work (no-op on CPU)."""
    device = torch.device(device) if device is not None else None
    if device is not None and device.type == 'cuda':
        torch.cuda.synchronize(device)


_AMP_DTYPES = {
    None: None,
    'none': None,
    'bf16': torch.bfloat16,
    'bfloat16': torch.bfloat16,
    'fp16': torch.float16,
    'float16': torch.float16
}


def amp_context(amp: Optional[str], device: Union[str, torch.device]):
    """``torch.autocast`` for ``amp`` in ``{None, 'bf16', 'fp16'}``."""
    if amp not in _AMP_DTYPES:
        raise ValueError(f'amp must be one of bf16, fp16 or None, got {amp}')
    dtype = _AMP_DTYPES[amp]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


def synthetic_inputs(model: nn.Module,
                     view_shape: Sequence[int],
                     batch_size: int = 1,
                     num_classes: Optional[int] = None,
                     task: Optional[str] = None,
                     device: Union[str, torch.device] = 'cpu',
                     seed: int = 0) -> dict:
    """Random normalised inputs and labels for one view per item.

    Args:
        view_shape: ``(3, T, H, W)`` or ``(3, H, W)``.
        task: ``'video'`` (mmaction2: inputs ``[B, 1, 3, T, H, W]``,
            ``ActionDataSample`` labels) or ``'image'`` (mmpretrain:
            ``[B, 3, H, W]``, ``DataSample`` labels); default ``model.task``,
            else from the view shape. Plain modules get ``[B, *view_shape]``
            and no labels.
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn((batch_size, ) + tuple(view_shape), generator=gen)
    if not _is_mm_model(model):
        return dict(inputs=x.to(device), data_samples=None)
    task = task or getattr(model, 'task', None) or (
        'video' if len(view_shape) == 4 else 'image')
    if num_classes is None:
        head = getattr(model, 'cls_head', None) or getattr(model, 'head',
                                                           None)
        num_classes = getattr(head, 'num_classes', 2)
    labels = torch.randint(0, num_classes, (batch_size, ), generator=gen)
    if task == 'video':
        from mmaction.structures import ActionDataSample
        samples = [ActionDataSample().set_gt_label(int(i)) for i in labels]
        x = x.unsqueeze(1)  # one view: [B, 1, C, T, H, W]
    else:
        from mmpretrain.structures import DataSample
        samples = [DataSample().set_gt_label(int(i)) for i in labels]
    return dict(inputs=x.to(device), data_samples=samples)


def run_inference(model: nn.Module, inputs: Inputs):
    """One forward pass as timed by :func:`time_inference`."""
    if isinstance(inputs, dict):
        if _is_mm_model(model):
            return model(inputs['inputs'], None, mode='tensor')
        return model(inputs['inputs'])
    return model(inputs)


def run_train_step(model: nn.Module, inputs: Inputs,
                   loss_fn: Optional[Callable] = None) -> torch.Tensor:
    """Forward + loss + backward, as timed by :func:`time_train_step`.
    Returns the (detached) loss."""
    if loss_fn is not None:
        loss = loss_fn(model, inputs)
    elif _is_mm_model(model) and isinstance(inputs, dict) and \
            inputs.get('data_samples') is not None:
        losses = model(inputs['inputs'], inputs['data_samples'], mode='loss')
        loss, _ = model.parse_losses(losses)
    else:
        out = run_inference(model, inputs)
        if isinstance(out, (tuple, list)):
            out = out[0]
        loss = out.float().mean()
    loss.backward()
    return loss.detach()


def _time_calls(fn, runs, warmup, device):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def _summary(times, batch):
    mean = sum(times) / len(times)
    std = (sum((t - mean)**2 for t in times) / len(times))**0.5
    return dict(
        runs=len(times),
        batch_size=batch,
        times=times,
        mean_s=mean,
        std_s=std,
        min_s=min(times),
        items_per_s=batch / mean if mean > 0 else float('inf'))


# --------------------------------------------------------------------------
# the three measurements
# --------------------------------------------------------------------------
def time_inference(model: nn.Module,
                   inputs: Inputs,
                   runs: int = 5,
                   warmup: int = 1,
                   amp: Optional[str] = None) -> Dict[str, float]:
    """Time ``runs`` forward passes (eval mode, no gradients).

    Returns ``dict(mean_s, std_s, min_s, times, runs, batch_size,
    items_per_s)``.
    """
    device = _device_of(model, inputs)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), amp_context(amp, device):
            times = _time_calls(lambda: run_inference(model, inputs), runs,
                                warmup, device)
    finally:
        model.train(was_training)
    return _summary(times, _batch_size(inputs))


def time_train_step(model: nn.Module,
                    inputs: Inputs,
                    runs: int = 5,
                    warmup: int = 1,
                    amp: Optional[str] = None,
                    loss_fn: Optional[Callable] = None) -> Dict[str, float]:
    """Time ``runs`` training steps: forward + loss + backward in train mode
    (gradients are cleared before each step, outside the timing; no
    optimizer step). Same result keys as :func:`time_inference`."""
    device = _device_of(model, inputs)
    was_training = model.training
    model.train()

    def step():
        with amp_context(amp, device):
            return run_train_step(model, inputs, loss_fn)

    try:
        for _ in range(warmup):
            model.zero_grad(set_to_none=True)
            step()
        times = []
        for _ in range(runs):
            model.zero_grad(set_to_none=True)
            synchronize(device)
            start = time.perf_counter()
            step()
            synchronize(device)
            times.append(time.perf_counter() - start)
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return _summary(times, _batch_size(inputs))


# --------------------------------------------------------------------------
# with data loading
# --------------------------------------------------------------------------
def time_with_data(model: nn.Module,
                   dataloader,
                   runs: int = 5,
                   warmup: int = 1,
                   train: bool = False,
                   amp: Optional[str] = None) -> Dict[str, float]:
    """Time ``runs`` iterations of an OpenMMLab data loader + model.

    Each iteration is: fetch the next batch (decoding and the test / train
    pipeline, in the loader's workers if it has some), then

    * ``train=False``: ``model.test_step(batch)`` (data preprocessing,
      every view of the test pipeline, score fusion), no gradients;
    * ``train=True``: data preprocessing + forward + loss + backward (no
      optimizer step), as :func:`time_train_step`.

    Returns the keys of :func:`time_inference` (``items_per_s`` counts
    samples: videos or images, with all their views) plus ``data_s``, the
    mean time spent waiting for batches.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.train(train)
    iterator = iter(dataloader)

    def next_batch():
        nonlocal iterator
        try:
            return next(iterator)
        except StopIteration:
            iterator = iter(dataloader)
            return next(iterator)

    def step(batch):
        if train:
            model.zero_grad(set_to_none=True)
            with amp_context(amp, device):
                data = model.data_preprocessor(batch, True)
                losses = model(**data, mode='loss')
                loss, _ = model.parse_losses(losses)
            loss.backward()
        else:
            with torch.no_grad(), amp_context(amp, device):
                model.test_step(batch)

    times, data_times, sizes = [], [], []
    try:
        for i in range(warmup + runs):
            synchronize(device)
            start = time.perf_counter()
            batch = next_batch()
            fetched = time.perf_counter()
            step(batch)
            synchronize(device)
            end = time.perf_counter()
            if i >= warmup:
                times.append(end - start)
                data_times.append(fetched - start)
                sizes.append(len(batch['inputs']))
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    result = _summary(times, sizes[0] if sizes else 0)
    result['items_per_s'] = sum(sizes) / sum(times)
    result['data_s'] = sum(data_times) / len(data_times)
    return result


# ---------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------
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
    """compare_mmaction.py beside this file, as a module."""
    import compare_mmaction
    return compare_mmaction


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
              'tools/analysis/benchmark.py)')


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

"""Our backbones and data pipeline vs mmaction2's, measured side by side.

    python tools/analysis/compare_mmaction.py
        [--variants uniformer-s16 uniformerv2-b16] [--runs 5]
        [--inference-runs 15] [--warmup 1] [--mem-reps 1] [--no-memory]
        [--no-models] [--pipeline] [--decode-study] [--pipeline-n 20]
        [--video PATH] [--tiny] [--json OUT]

(also ``python tools/analysis/benchmark.py --compare-mmaction VARIANT``).

Models, per variant (``uniformer-s16``: UniFormer-S, input 1x3x16x224x224;
``uniformerv2-b16``: UniFormerV2-B/16 Kinetics style, 1x3x8x224x224; with
``--tiny`` two toy versions for tests):

1. our backbone (``UniFormerVideo`` / ``UniFormerV2Video``, default
   arguments) and mmaction2's (``UniFormer`` / ``UniFormerV2``) are built
   with drop path and dropout 0; mmaction2's weights are randomised
   (deterministically, every tensor perturbed so that no zero-initialised
   branch is trivially zero) and copied into ours (V1: same names; V2:
   ``uniformer_mm.checkpoint.mmaction_v2``). mmaction2's V1 has LayerNorm
   eps 1e-5 in its self-attention blocks, the official model and ours 1e-6:
   mmaction2's are set to 1e-6 so that outputs can be compared exactly.
2. outputs are compared (eval mode and train mode, same random input) and
   so are the gradients of the training loss w.r.t. the input and the
   parameters; the tool reports the max differences and fails (exit 1)
   when an output differs by more than ``--tol`` (1e-4).
3. inference (eval, ``torch.no_grad``) and forward+backward (train mode,
   loss = fixed random projection of the output to a scalar, gradients set
   to None before each step, no optimizer step) are timed alternately:
   ours, theirs, theirs, ours, ... (``--inference-runs`` / ``--runs`` each
   after ``--warmup`` untimed calls each), wall-clock, batch 1, float32,
   torch's default threads. Printed: medians, the ratio of the medians
   (ours / theirs) and the median of the per-round ratios (robust to load
   drifting on a shared machine).
4. peak memory of one forward+backward: a fresh Python process per side
   and measurement (``--mem-reps`` per side, alternating) builds the same
   pair, keeps one side, runs one untimed fwd+bwd, then measures the growth
   of the peak resident set size during a second one (``VmHWM`` after
   resetting it with ``/proc/self/clear_refs``, minus ``VmRSS`` before;
   see ``tools/analysis/memory.py:peak_memory``): real memory
   touched (activations, gradients, allocator and oneDNN scratch), not a
   sum of tensor sizes. The processes run with glibc's
   ``MALLOC_MMAP_THRESHOLD_=65536`` so that freed tensors go back to the OS
   at once and the RSS follows the live memory (with glibc's adaptive
   default, identical runs differed by +-10 %).

Data pipeline (``--pipeline``): clips/s of the Kinetics training pipelines
on one real video (default: the Kinetics clip of the repository's test data,
``tests/data/videos/kinetics_arm_wrestling.mp4``), single process, OpenCV and torch
single-threaded (= one data loader worker), interleaved, same seeds:

* ``mmaction2 (no RandAugment)``: DecordInit -> UniformSample(8) ->
  DecordDecode -> Resize(-1, 256) -> RandomResizedCrop -> Resize(224) ->
  Flip -> FormatShape -> PackActionInputs. mmaction2's recipe also has
  ``PytorchVideoWrapper(op='RandAugment')`` which needs pytorchvideo +
  torchvision (not installable here), so this chain is a *lower bound* of
  the cost of mmaction2's recipe;
* ``ours (recipe, with RandAugment)``: ``train_pipeline`` of
  ``configs/_base_/datasets/kinetics400.py`` (decoding with ``VideoInit`` /
  ``VideoDecode``: decord's frames, decoding only the frames the sampled
  ones need);
* ``ours without RandAugment``: the same without ``VideoRandAugment``
  (like for like with the mmaction2 chain).

Decoding (``--decode-study``): median time of decoding the 8 sparse
training frames of a video (indices as UniformSample draws them) with
decord (mmaction2's DecordDecode), our VideoInit + VideoDecode, decord
resizing to half size in the decoder, OpenCV, and PyAV decoding every
frame / skipping the non-reference frames that are not sampled; with the
max pixel difference from decord's frames.

Training throughput (``--train-throughput``, the GPU mode; runs on CPU
too): both models on ``--device`` (default cuda when available), batch
``--batch-size`` of the variant's clip, full AdamW training steps, ours
under autocast ``--amp`` (default bf16), mmaction2's under
``--theirs-amp`` (default fp16 with a GradScaler, what its default
``AmpOptimWrapper`` does); ``--steps`` steps per timed run, runs
alternating; clips/s per side, their ratio (target >= 1.5 on a GPU), peak
allocated CUDA memory per side and the model FLOPs utilization
``3 x forward FLOPs x clips/s / peak`` (forward FLOPs counted on our model,
2 per multiply-add; peak from ``--peak-tflops`` or a table of dense
bf16 tensor-core peaks: H100/H200 989 TFLOP/s, A100 312, ...). E.g.::

    # the GPU target's models: UniFormer-B 16x224, UniFormerV2-B/16 8x224
    python tools/analysis/compare_mmaction.py --no-models \
        --train-throughput --variants uniformer-b16 uniformerv2-b16 \
        --batch-size 8 --runs 5 --steps 5

Ratios are ours / mmaction2 for times and memory (lower is better) and
clips/s ours / mmaction2 for the pipeline (higher is better).

The variants compare *backbones* (the heads are one linear layer on both
sides). mmaction2's V1 ``UniFormer`` uses LayerNorm eps 1e-5 in its
self-attention blocks where the official model (and ours) use 1e-6; its SA
LayerNorms are set to eps 1e-6 after building so that the outputs can be
compared exactly (eps has no effect on speed).

The parts, importable (``import compare_mmaction`` with this folder on
``sys.path``; ``tools/analysis/bench_video_pipeline.py`` and the tests
use them):

:func:`build_pair`
    our backbone and mmaction2's for a variant, with the *same* weights
    (random, perturbed so that no zero-initialised branch is trivially
    zero, copied from mmaction2's model into ours) and one random input.
:func:`check_outputs`
    outputs in eval and train mode and the input gradient of the
    forward+backward loss, ours vs theirs (max abs difference).
:func:`alternate`
    alternating timed runs of two callables; medians and ratios.
:func:`memory_in_subprocess`
    peak memory of one forward+backward in a fresh process per side.
:func:`time_pipelines`
    the Kinetics training data pipelines, ours vs mmaction2's
    (``pipelines.pipeline_chains``).
:func:`training_throughput`
    training clips/s with mixed precision (GPU mode: ours bf16 vs
    mmaction2's default fp16 AMP), peak memory and model FLOPs utilization.
"""
import argparse
import contextlib
import copy
import gc
import json
import os
import os.path as osp
import random
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

# the sibling tools of this folder (pipelines.py, benchmark.py) import by
# name, also when a test loads this file by its path
_HERE = osp.dirname(osp.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
import _checkout  # noqa: E402,F401  (uniformer_mm, also from a checkout)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from pipelines import (OUR_PIPELINE_CONFIG, pipeline_chains,  # noqa: E402,F401
                       split_decode, without)

__all__ = [
    'VARIANTS', 'build_pair', 'check_outputs', 'alternate',
    'memory_in_subprocess', 'pipeline_chains', 'time_pipelines', 'loss_fn',
    'run_comparison', 'load_average', 'describe_machine',
    'training_throughput', 'make_train_step', 'PEAK_TFLOPS'
]

# ---------------------------------------------------------------------------
# variants
# ---------------------------------------------------------------------------
_V1_TINY = dict(depth=[1, 1, 1, 1], embed_dim=[16, 32, 64, 64], head_dim=16)
#: the toy V1 pair of both V1 variants (family, theirs, ours, input)
_V1_TINY_PAIR = ('v1', dict(type='UniFormer', **_V1_TINY),
                 dict(type='UniFormerVideo',
                      arch=dict(depths=_V1_TINY['depth'],
                                embed_dims=_V1_TINY['embed_dim'],
                                head_dim=_V1_TINY['head_dim'])),
                 (1, 3, 4, 64, 64))
_V2_TINY = dict(input_resolution=32, patch_size=16, width=64, layers=2,
                heads=2, return_list=[0, 1])


def _v1_variant(depth: List[int], arch: str) -> Dict[str, tuple]:
    """A UniFormer (V1) variant at 16x224: mmaction2's ``UniFormer`` with
    ``depth`` vs our ``UniFormerVideo(arch=arch)``."""
    return dict(
        full=('v1',
              dict(type='UniFormer', depth=depth,
                   embed_dim=[64, 128, 320, 512], head_dim=64),
              dict(type='UniFormerVideo', arch=arch),
              (1, 3, 16, 224, 224)),
        tiny=_V1_TINY_PAIR)


#: name -> (family, mmaction2 kwargs, our kwargs, input shape), full size
#: and ``--tiny``.
VARIANTS: Dict[str, Dict[str, tuple]] = {
    'uniformer-s16': _v1_variant([3, 4, 8, 3], 'small'),
    # the GPU training-throughput target's V1 model (CPU targets: S)
    'uniformer-b16': _v1_variant([5, 8, 20, 7], 'base'),
    'uniformerv2-b16': dict(
        full=('v2',
              dict(type='UniFormerV2', input_resolution=224, patch_size=16,
                   width=768, layers=12, heads=12, t_size=8,
                   return_list=[8, 9, 10, 11], n_layers=4, n_dim=768,
                   n_head=12),
              dict(type='UniFormerV2Video', arch='vit-b16', t_size=8),
              (1, 3, 8, 224, 224)),
        tiny=('v2',
              dict(type='UniFormerV2', t_size=4, n_layers=2, n_dim=64,
                   n_head=2, **_V2_TINY),
              dict(type='UniFormerV2Video',
                   arch=dict(_V2_TINY), t_size=4),
              (1, 3, 4, 32, 32))),
}


def _import_registries():
    import uniformer_mm  # noqa: F401  (compat fixes, our registrations)
    import mmaction.models  # noqa: F401
    from mmaction.registry import MODELS
    return MODELS


def _build(cfg):
    from mmengine.registry import DefaultScope
    models = _import_registries()
    with DefaultScope.overwrite_default_scope('mmaction'):
        return models.build(cfg)


def _quiet_mmaction_logs():
    """mmaction2's UniFormerV2 logs one INFO line per block."""
    import logging
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.WARNING)


def _randomize_(module: nn.Module, seed: int = 0) -> None:
    """Deterministic non-trivial weights: small normal noise on every float
    parameter and buffer (norm weights around 1, variances positive)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if not t.is_floating_point():
                continue
            noise = torch.randn(t.shape, generator=gen)
            if name.endswith('running_var'):
                t.copy_(1. + 0.1 * noise.abs())
            elif name.endswith('running_mean'):
                t.copy_(0.1 * noise)
            elif t.dim() == 1 and name.endswith('weight'):  # norms
                t.copy_(1. + 0.1 * noise)
            elif t.dim() == 1:  # biases, class embedding, balance
                t.copy_(0.02 * noise)
            else:
                fan_in = t[0].numel()
                t.copy_(noise * fan_in**-0.5)


def build_pair(variant: str, tiny: bool = False, seed: int = 0
               ) -> Tuple[nn.Module, nn.Module, torch.Tensor, dict]:
    """``(ours, theirs, input, info)`` with identical weights.

    Drop path and dropout are 0 on both sides (the defaults of both
    backbones, mlp_dropout set to 0 for V2) so that training-mode outputs
    can be compared too.
    """
    family, theirs_cfg, ours_cfg, shape = VARIANTS[variant][
        'tiny' if tiny else 'full']
    theirs_cfg, ours_cfg = copy.deepcopy(theirs_cfg), copy.deepcopy(ours_cfg)
    _import_registries()
    _quiet_mmaction_logs()
    torch.manual_seed(seed)
    info = dict(variant=variant, family=family, tiny=tiny,
                input_shape=list(shape))
    if family == 'v1':
        theirs_cfg.update(pretrained2d=False, pretrained=None, init_cfg=None,
                          drop_path_rate=0.)
        ours_cfg.update(drop_path_rate=0.)
        theirs = _build(theirs_cfg)
        ours = _build(ours_cfg)
        # official (and our) SA-block LayerNorm eps is 1e-6, mmaction2's
        # nn.LayerNorm default 1e-5: align theirs for an exact comparison
        n_eps = 0
        for name, m in theirs.named_modules():
            if isinstance(m, nn.LayerNorm) and name.startswith(
                    ('blocks3.', 'blocks4.')):
                m.eps = 1e-6
                n_eps += 1
        info['note'] = (f'mmaction2 SA-block LayerNorm eps set to 1e-6 '
                        f'({n_eps} layers) to match the official/our value')
        _randomize_(theirs, seed)
        ours.load_state_dict(theirs.state_dict(), strict=True)
    else:
        n_layers = theirs_cfg['n_layers']
        theirs_cfg.update(clip_pretrained=False, pretrained=None,
                          init_cfg=None, mlp_dropout=[0.] * n_layers,
                          drop_path_rate=0., backbone_drop_path_rate=0.)
        ours_cfg.update(mlp_dropout=0., drop_path_rate=0.,
                        backbone_drop_path_rate=0.)
        theirs = _build(theirs_cfg)
        ours = _build(ours_cfg)
        _randomize_(theirs, seed)
        from uniformer_mm.checkpoint.mmaction_v2 import \
            mmaction_to_uniformerv2
        converted = mmaction_to_uniformerv2(
            {'backbone.' + k: v for k, v in theirs.state_dict().items()})
        ours.load_state_dict(
            {k[len('backbone.'):]: v for k, v in converted.items()},
            strict=True)
        info['note'] = ('weights converted with '
                        'uniformer_mm.checkpoint.mmaction_v2')
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(shape, generator=gen)
    info['params_ours'] = sum(p.numel() for p in ours.parameters())
    info['params_theirs'] = sum(p.numel() for p in theirs.parameters())
    return ours, theirs, x, info


def _output(out):
    if isinstance(out, (tuple, list)):
        out = out[0]
    return out


def loss_fn(out: torch.Tensor) -> torch.Tensor:
    """The training loss of the fwd+bwd measurements: a fixed random
    projection of the output to a scalar (same on both sides), so that every
    output element gets a non-trivial gradient."""
    out = _output(out)
    gen = torch.Generator().manual_seed(1234)
    w = torch.randn(out.shape, generator=gen, dtype=out.dtype).to(out.device)
    return (out * w).sum() / out.numel()**0.5


def infer(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return _output(model(x))


def train_step(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Forward + loss + backward (no optimizer step); grads are cleared
    first (set to None, as ``optimizer.zero_grad()`` does)."""
    model.zero_grad(set_to_none=True)
    loss = loss_fn(model(x))
    loss.backward()
    return loss.detach()


def check_outputs(ours: nn.Module, theirs: nn.Module, x: torch.Tensor
                  ) -> Dict[str, float]:
    """Max abs differences ours vs theirs: eval output, train output, and
    the gradient of the loss w.r.t. the input (train mode)."""
    res = {}
    ours.eval()
    theirs.eval()
    a, b = infer(ours, x), infer(theirs, x)
    res['eval_out_max_abs'] = float((a - b).abs().max())
    res['out_max_abs_value'] = float(b.abs().max())
    ours.train()
    theirs.train()
    grads = []
    outs = []
    param_grads = []
    for m in (ours, theirs):
        xi = x.clone().requires_grad_(True)
        m.zero_grad(set_to_none=True)
        out = _output(m(xi))
        loss_fn(out).backward()
        outs.append(out.detach())
        grads.append(xi.grad)
        param_grads.append({k: p.grad for k, p in m.named_parameters()
                            if p.grad is not None})
        m.zero_grad(set_to_none=True)
    res['train_out_max_abs'] = float((outs[0] - outs[1]).abs().max())
    res['input_grad_max_abs'] = float((grads[0] - grads[1]).abs().max())
    res['input_grad_max_abs_value'] = float(grads[1].abs().max())
    # parameter gradients: worst max|diff| / max|grad| over the tensors
    # (the denominator floored at 1e-3 x the largest gradient of all, for
    # tensors whose gradient is ~0, e.g. biases before a train-mode BN)
    go, gt = param_grads
    worst, worst_key = 0., None
    floor = 1e-3 * max([float(g.abs().max()) for g in gt.values()] + [0.])
    for k, g in gt.items():
        if k not in go:
            worst, worst_key = float('inf'), k
            break
        rel = float((go[k] - g).abs().max()) / max(float(g.abs().max()),
                                                    floor, 1e-30)
        if rel > worst:
            worst, worst_key = rel, k
    res['param_grad_max_rel'] = worst
    res['param_grad_worst'] = worst_key
    res['param_grads_missing'] = sorted(set(gt) ^ set(go))
    return res


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------
def alternate(fn_ours: Callable[[], object], fn_theirs: Callable[[], object],
              runs: int = 5, warmup: int = 1) -> Dict[str, object]:
    """Alternating timed calls: ``ours, theirs, theirs, ours, ours, ...``
    (the order flips every round so that neither side always runs first
    after the other). Returns per-side times, medians, the ratio of the
    medians and the median of the per-round ratios."""
    for _ in range(warmup):
        fn_ours()
        fn_theirs()
    t_ours, t_theirs = [], []
    for r in range(runs):
        order = [(fn_ours, t_ours), (fn_theirs, t_theirs)]
        if r % 2:
            order.reverse()
        for fn, times in order:
            gc.collect()
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    med_o, med_t = statistics.median(t_ours), statistics.median(t_theirs)
    return dict(ours_s=t_ours, theirs_s=t_theirs, ours_median_s=med_o,
                theirs_median_s=med_t, ratio_of_medians=med_o / med_t,
                median_of_ratios=statistics.median(
                    o / t for o, t in zip(t_ours, t_theirs)))


# ---------------------------------------------------------------------------
# memory (fresh process per measurement)
# ---------------------------------------------------------------------------
def memory_worker(variant: str, side: str, tiny: bool, threads: int
                  ) -> Dict[str, object]:
    """In a fresh process: build the pair (same weights as the parent),
    keep ``side``, one untimed warm-up fwd+bwd, then the peak RSS growth of
    one fwd+bwd (``benchmark.peak_memory``)."""
    from memory import peak_memory
    if threads:
        torch.set_num_threads(threads)
    ours, theirs, x, _ = build_pair(variant, tiny)
    model = ours if side == 'ours' else theirs
    del ours, theirs
    gc.collect()
    model.train()
    train_step(model, x)  # warm-up (one-time allocations, oneDNN caches)
    model.zero_grad(set_to_none=True)
    mem = peak_memory(lambda: train_step(model, x))
    return dict(side=side, bytes=mem['bytes'], method=mem['method'])


#: glibc mmap threshold of the memory-measuring processes (bytes)
MMAP_THRESHOLD = 65536


def memory_in_subprocess(variant: str, tiny: bool = False, reps: int = 1,
                         threads: int = 0) -> Dict[str, object]:
    """Fresh subprocesses ``ours, theirs`` (``reps`` times, alternating);
    medians of the peak RSS growth of one fwd+bwd per side."""
    res = {'ours': [], 'theirs': []}
    method = None
    for r in range(reps):
        sides = ['ours', 'theirs'] if r % 2 == 0 else ['theirs', 'ours']
        for side in sides:
            code = ('import json,sys;'
                    'from compare_mmaction import '
                    'memory_worker;'
                    f'print("RESULT "+json.dumps(memory_worker('
                    f'{variant!r},{side!r},{tiny!r},{threads!r})))')
            env = dict(os.environ)
            # every allocation above 64 KiB its own mapping, unmapped when
            # freed, so that the RSS follows the live memory (glibc's
            # default threshold adapts upwards after frees and lets freed
            # tensors linger in the heap: +-10 % between identical runs)
            env.setdefault('MALLOC_MMAP_THRESHOLD_', str(MMAP_THRESHOLD))
            root = osp.dirname(osp.dirname(_HERE))
            env['PYTHONPATH'] = os.pathsep.join(
                [_HERE, root] + ([env['PYTHONPATH']]
                                 if env.get('PYTHONPATH') else []))
            proc = subprocess.run([sys.executable, '-c', code],
                                  capture_output=True, text=True, env=env)
            lines = [ln for ln in proc.stdout.splitlines()
                     if ln.startswith('RESULT ')]
            if proc.returncode or not lines:
                raise RuntimeError(f'memory worker ({variant}, {side}) '
                                   f'failed:\n{proc.stdout[-2000:]}\n'
                                   f'{proc.stderr[-4000:]}')
            out = json.loads(lines[-1][len('RESULT '):])
            res[side].append(out['bytes'])
            method = out['method']
    med_o = statistics.median(res['ours'])
    med_t = statistics.median(res['theirs'])
    return dict(ours_bytes=res['ours'], theirs_bytes=res['theirs'],
                ours_median_bytes=med_o, theirs_median_bytes=med_t,
                ratio=med_o / med_t if med_t else float('nan'),
                method=f'{method}, MALLOC_MMAP_THRESHOLD_='
                f'{os.environ.get("MALLOC_MMAP_THRESHOLD_", MMAP_THRESHOLD)}')


# ---------------------------------------------------------------------------
# data pipelines
# ---------------------------------------------------------------------------
# (the pipeline definitions live in pipelines.py beside this file, shared
# with bench_video_pipeline.py)


def time_pipelines(video: str, n: int = 20, warmup: int = 2,
                   chains: Optional[Dict[str, List[dict]]] = None
                   ) -> Dict[str, Dict[str, object]]:
    """Clips/s of each chain on ``video``, single process (one data loader
    worker: OpenCV and torch single-threaded, as in mmengine's workers),
    interleaved (video ``i`` goes through every chain before ``i + 1``),
    same seeds for all chains."""
    import cv2
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope
    _import_registries()
    init_default_scope('mmaction')
    cv2.setNumThreads(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    chains = chains or pipeline_chains()
    built = {}
    for name, pipe in chains.items():
        dec, aug = split_decode(pipe)
        built[name] = (Compose(copy.deepcopy(dec)), Compose(copy.deepcopy(
            aug)))
    times = {name: dict(total=[], decode=[], aug=[]) for name in built}
    try:
        for i in range(-warmup, n):
            names = list(built)
            if i % 2:
                names.reverse()
            for name in names:
                dec, aug = built[name]
                seed = max(i, 0)
                np.random.seed(seed)
                random.seed(seed)
                torch.manual_seed(seed)
                t0 = time.perf_counter()
                res = dec(dict(filename=video, label=0, start_index=0,
                               modality='RGB'))
                t1 = time.perf_counter()
                out = aug(res)
                t2 = time.perf_counter()
                if isinstance(out, list):  # RepeatClips
                    assert len(out) == 1, 'one clip per video expected'
                    out = out[0]
                assert out is not None and out['inputs'].shape[-1] > 0
                if i >= 0:
                    times[name]['total'].append(t2 - t0)
                    times[name]['decode'].append(t1 - t0)
                    times[name]['aug'].append(t2 - t1)
                    times[name]['shape'] = list(out['inputs'].shape)
    finally:
        torch.set_num_threads(threads)
    result = {}
    for name, tm in times.items():
        med = statistics.median(tm['total'])
        result[name] = dict(
            clips_per_s=1. / med, total_median_ms=1000 * med,
            decode_median_ms=1000 * statistics.median(tm['decode']),
            aug_median_ms=1000 * statistics.median(tm['aug']),
            aug_clips_per_s=1. / statistics.median(tm['aug']),
            output_shape=tm.get('shape'), runs=len(tm['total']),
            total_s=tm['total'])
    return result


def load_average() -> List[float]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def describe_machine() -> Dict[str, object]:
    import platform
    return dict(cpu_count=os.cpu_count(),
                torch_threads=torch.get_num_threads(),
                torch=torch.__version__, python=platform.python_version(),
                processor=platform.processor() or platform.machine())


def fmt_bytes(num: Optional[float]) -> str:
    return '-' if num is None else f'{num / 2**20:.0f} MiB'


def run_comparison(variants: Sequence[str], tiny: bool = False,
                   runs: int = 5, warmup: int = 1, mem_reps: int = 1,
                   inference_runs: Optional[int] = None,
                   modes: Sequence[str] = ('inference', 'train', 'memory'),
                   log: Callable[[str], None] = print,
                   tol: float = 1e-4) -> Dict[str, object]:
    """The model part of the comparison for each variant."""
    results = {}
    for variant in variants:
        ours, theirs, x, info = build_pair(variant, tiny)
        log(f'\n== {variant}{" (tiny)" if tiny else ""}: input '
            f'{"x".join(map(str, info["input_shape"]))}, params ours '
            f'{info["params_ours"] / 1e6:.2f} M, mmaction2 '
            f'{info["params_theirs"] / 1e6:.2f} M; {info["note"]}')
        check = check_outputs(ours, theirs, x)
        ok = (check['eval_out_max_abs'] <= tol
              and check['train_out_max_abs'] <= tol)
        check['outputs_equal'] = ok
        log(f'  outputs: eval max|diff| {check["eval_out_max_abs"]:.2e}, '
            f'train max|diff| {check["train_out_max_abs"]:.2e} (max|out| '
            f'{check["out_max_abs_value"]:.2f}); input grad max|diff| '
            f'{check["input_grad_max_abs"]:.2e} (max|grad| '
            f'{check["input_grad_max_abs_value"]:.2e}); parameter grads '
            f'max|diff|/max|grad| {check["param_grad_max_rel"]:.1e} '
            f'(worst {check["param_grad_worst"]}) -> '
            f'{"EQUAL" if ok else "DIFFERENT"} within {tol:g}')
        res = dict(info=info, check=check, load_before=load_average())
        if 'inference' in modes:
            ours.eval()
            theirs.eval()
            n_inf = inference_runs or runs
            t = alternate(lambda: infer(ours, x), lambda: infer(theirs, x),
                          n_inf, warmup)
            res['inference'] = t
            log(f'  inference   ours {t["ours_median_s"]:.3f} s, mmaction2 '
                f'{t["theirs_median_s"]:.3f} s -> ratio '
                f'{t["ratio_of_medians"]:.3f} (median of per-round ratios '
                f'{t["median_of_ratios"]:.3f}), {n_inf} alternating runs')
        if 'train' in modes:
            ours.train()
            theirs.train()
            t = alternate(lambda: train_step(ours, x),
                          lambda: train_step(theirs, x), runs, warmup)
            ours.zero_grad(set_to_none=True)
            theirs.zero_grad(set_to_none=True)
            res['train'] = t
            log(f'  fwd+bwd     ours {t["ours_median_s"]:.3f} s, mmaction2 '
                f'{t["theirs_median_s"]:.3f} s -> ratio '
                f'{t["ratio_of_medians"]:.3f} (median of per-round ratios '
                f'{t["median_of_ratios"]:.3f}), {runs} alternating runs')
        del ours, theirs
        gc.collect()
        if 'memory' in modes:
            m = memory_in_subprocess(variant, tiny, mem_reps,
                                     torch.get_num_threads())
            res['memory'] = m
            log(f'  peak memory fwd+bwd ours '
                f'{fmt_bytes(m["ours_median_bytes"])}'
                f', mmaction2 {fmt_bytes(m["theirs_median_bytes"])} -> ratio '
                f'{m["ratio"]:.3f} ({m["method"]}, fresh process per '
                f'measurement, {mem_reps} per side)')
        res['load_after'] = load_average()
        log(f'  load average before/after: {res["load_before"]} / '
            f'{res["load_after"]}')
        results[variant] = res
    return results


# ---------------------------------------------------------------------------
# training throughput with mixed precision (GPU mode)
# ---------------------------------------------------------------------------
#: dense bf16/fp16 tensor-core peak (TFLOP/s) by device-name substring, for
#: the model FLOPs utilization (SXM parts; pass ``peak_tflops`` otherwise)
PEAK_TFLOPS = {'H200': 989.4, 'H100': 989.4, 'A100': 312.0, 'L40S': 362.1,
               'A10G': 70.0, 'V100': 125.0}


def device_peak_tflops(device: torch.device) -> Optional[float]:
    """Tensor-core peak of a CUDA device from :data:`PEAK_TFLOPS`."""
    if device.type != 'cuda':
        return None
    name = torch.cuda.get_device_name(device)
    for key, value in PEAK_TFLOPS.items():
        if key in name:
            return value
    return None


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _amp_dtype(amp: Optional[str]):
    return {None: None, 'none': None, 'bf16': torch.bfloat16,
            'fp16': torch.float16}[amp]


def make_train_step(model: nn.Module, x: torch.Tensor, amp: Optional[str],
                    lr: float = 1e-5) -> Callable[[], torch.Tensor]:
    """One full training step (AdamW, as both recipes) under autocast:
    ``amp='fp16'`` with a ``GradScaler`` (what mmaction2's default
    ``AmpOptimWrapper`` does), ``'bf16'`` without."""
    device = x.device
    dtype = _amp_dtype(amp)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype is torch.float16)

    def step():
        opt.zero_grad(set_to_none=True)
        ctx = contextlib.nullcontext() if dtype is None else \
            torch.autocast(device.type, dtype=dtype)
        with ctx:
            loss = loss_fn(model(x).float())
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return loss.detach()

    return step


def training_throughput(variant: str, device: str = 'cuda',
                        amp: str = 'bf16', theirs_amp: str = 'fp16',
                        batch_size: int = 8, steps: int = 5, runs: int = 5,
                        warmup: int = 2, tiny: bool = False,
                        peak_tflops: Optional[float] = None,
                        log: Callable[[str], None] = print
                        ) -> Dict[str, object]:
    """Training clips/s, ours (``amp``) vs mmaction2's (``theirs_amp``: its
    default AMP is fp16 with loss scaling), same weights, batch
    ``batch_size``; each timed run is ``steps`` optimizer steps, runs
    alternate between the sides. Also the peak memory the steps of each
    side allocate (CUDA; both models stay on the device, so the other one
    is not counted) and the model FLOPs utilization: ``3 x forward FLOPs x clips/s /
    peak`` (forward FLOPs counted on our model, 2 per multiply-add)."""
    from uniformer_mm.analysis.flops import count_flops
    dev = torch.device(device)
    ours, theirs, x1, info = build_pair(variant, tiny)
    macs, _ = count_flops(ours, (x1, ))
    x = x1.expand(batch_size, *x1.shape[1:]).contiguous().to(dev)
    peak = peak_tflops or device_peak_tflops(dev)
    res = dict(info=info, device=str(dev), amp=amp, theirs_amp=theirs_amp,
               batch_size=batch_size, steps_per_run=steps,
               forward_gmacs_per_clip=macs / 1e9, peak_tflops=peak)
    if dev.type == 'cuda':
        res['device_name'] = torch.cuda.get_device_name(dev)
    steps_fn = {}
    for side, model, side_amp in (('ours', ours, amp),
                                  ('theirs', theirs, theirs_amp)):
        model.to(dev).train()
        one = make_train_step(model, x, side_amp)

        def run(one=one):
            for _ in range(steps):
                one()
            _sync(dev)

        steps_fn[side] = run
    mem = {}
    for side in ('ours', 'theirs'):  # warm-up + peak memory per side
        if dev.type == 'cuda':
            # both models live on the device: count what this side's steps
            # allocate beyond what was allocated before them (the other
            # model, the input) -- activations, gradients, optimizer state
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(dev)
            base = torch.cuda.memory_allocated(dev)
        for _ in range(max(warmup, 1)):
            steps_fn[side]()
        if dev.type == 'cuda':
            mem[side] = torch.cuda.max_memory_allocated(dev) - base
    t = alternate(steps_fn['ours'], steps_fn['theirs'], runs, warmup=0)
    clips = batch_size * steps
    for side in ('ours', 'theirs'):
        cps = clips / t[f'{side}_median_s']
        res[f'{side}_clips_per_s'] = cps
        res[f'{side}_peak_bytes'] = mem.get(side)
        if peak:
            res[f'{side}_mfu'] = 3 * 2 * macs * cps / (peak * 1e12)
    res['speedup'] = res['ours_clips_per_s'] / res['theirs_clips_per_s']
    res['median_of_ratios'] = 1. / t['median_of_ratios']
    res['times'] = t
    mfu = (f', MFU ours {res["ours_mfu"]:.1%} / mmaction2 '
           f'{res["theirs_mfu"]:.1%} of {peak:g} TFLOP/s') if peak else \
        ' (MFU: unknown peak, pass --peak-tflops)'
    memtxt = (f'; peak allocated ours {fmt_bytes(mem["ours"])}, mmaction2 '
              f'{fmt_bytes(mem["theirs"])}') if mem else ''
    log(f'  training {dev} batch {batch_size}: ours ({amp}) '
        f'{res["ours_clips_per_s"]:.2f} clips/s, mmaction2 ({theirs_amp}) '
        f'{res["theirs_clips_per_s"]:.2f} clips/s -> {res["speedup"]:.3f}x '
        f'(median of per-run ratios {res["median_of_ratios"]:.3f}){mfu}'
        f'{memtxt}; {macs / 1e9:.4g} GMACs/clip forward')
    return res


# ---------------------------------------------------------------------------
# decoding alternatives (where the data pipeline's time goes)
# ---------------------------------------------------------------------------
def _sparse_indices(total: int, clip_len: int, rng) -> List[int]:
    """UniformSample's training indices (one random frame per segment)."""
    seg = total / clip_len
    return sorted({min(int(seg * i + rng.uniform(0, seg)), total - 1)
                   for i in range(clip_len)})


def _decoders(video: str) -> Dict[str, Callable[[List[int]], list]]:
    import cv2
    import decord

    def decord_full(idx):  # what DecordInit + DecordDecode do
        with open(video, 'rb') as f:
            import io
            vr = decord.VideoReader(io.BytesIO(f.read()), num_threads=1)
        return list(vr.get_batch(idx).asnumpy())

    def decord_half(idx):  # resized by the decoder
        probe = decord.VideoReader(video, num_threads=1)
        h, w = probe[0].shape[:2]
        del probe
        vr = decord.VideoReader(video, num_threads=1, width=w // 2,
                                height=h // 2)
        return list(vr.get_batch(idx).asnumpy())

    def opencv(idx):
        cap = cv2.VideoCapture(video)
        wanted, out = set(idx), []
        for i in range(max(idx) + 1):
            if not cap.grab():
                break
            if i in wanted:
                out.append(cv2.cvtColor(cap.retrieve()[1], cv2.COLOR_BGR2RGB))
        cap.release()
        return out

    def ours(idx):  # VideoInit + VideoDecode (the configs' decoding)
        from uniformer_mm.datasets.transforms.video_decode import (
            VideoDecode, VideoInit)
        res = VideoInit()(dict(filename=video))
        res.update(frame_inds=np.array(idx), clip_len=len(idx),
                   num_clips=1)
        return VideoDecode()(res)['imgs']

    decoders = {'decord get_batch (mmaction2 DecordDecode)': decord_full,
                'VideoInit + VideoDecode (ours: PyAV, skips unneeded '
                'non-reference frames)': ours,
                'decord, decoder resizes to half size': decord_half,
                'OpenCV grab/retrieve': opencv}
    try:
        import av
    except ImportError:
        return decoders

    def pyav(idx, skip_nonref=False):
        with av.open(video) as container:
            stream = container.streams.video[0]
            stream.thread_type = 'NONE'
            stream.codec_context.thread_count = 1
            packets = [p for p in container.demux(stream) if p.pts is not None]
            pts = sorted(p.pts for p in packets)
            wanted = {pts[i] for i in idx}
            last = pts[max(idx)]
            container.seek(0)
            out = {}
            for packet in container.demux(stream):
                if skip_nonref:
                    stream.codec_context.skip_frame = (
                        'DEFAULT' if packet.pts in wanted else 'NONREF')
                for frame in packet.decode():
                    if frame.pts in wanted:
                        out[frame.pts] = frame.to_ndarray(format='rgb24')
                if len(out) == len(wanted) or (packet.pts is not None
                                               and packet.pts > last
                                               and len(out) == len(wanted)):
                    break
            return [out[p] for p in sorted(out)]

    decoders['PyAV, decode every frame'] = pyav
    decoders['PyAV, skip non-reference frames not sampled'] = \
        lambda idx: pyav(idx, True)
    return decoders


def time_decoders(video: str, n: int = 10, clip_len: int = 8,
                  seed: int = 0) -> Dict[str, Dict[str, object]]:
    """Median time per video of decoding ``clip_len`` sparse training
    frames with several decoders (single-threaded, interleaved), and the
    max abs pixel difference of their frames from decord's."""
    import cv2
    import decord
    cv2.setNumThreads(0)
    total = len(decord.VideoReader(video, num_threads=1))
    decoders = _decoders(video)
    rng = random.Random(seed)
    times = {k: [] for k in decoders}
    diffs = {k: 0 for k in decoders}
    for i in range(n + 1):
        idx = _sparse_indices(total, clip_len, rng)
        ref = None
        for name, fn in decoders.items():
            start = time.perf_counter()
            frames = fn(idx)
            elapsed = time.perf_counter() - start
            if ref is None:
                ref = frames
            elif frames[0].shape == ref[0].shape and len(frames) == len(ref):
                diffs[name] = max(diffs[name], int(max(
                    np.abs(a.astype(int) - b).max()
                    for a, b in zip(frames, ref))))
            else:
                diffs[name] = None
            if i > 0:  # first round: warm-up
                times[name].append(elapsed)
    return {k: dict(median_ms=1000 * statistics.median(v),
                    max_abs_pixel_diff=diffs[k]) for k, v in times.items()}


# ---------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------
DEFAULT_VIDEO = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'tests', 'data', 'videos', 'kinetics_arm_wrestling.mp4')

#: done-when targets of the comparison (ours / mmaction2)
TARGETS = {
    'uniformer-s16': dict(train=0.8, inference=0.9, memory=0.7),
    'uniformerv2-b16': dict(train=0.8, inference=0.9),
    'pipeline': 1.5,
    'train_throughput': 1.5,  # GPU, ours bf16 vs mmaction2's default AMP
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options besides the variants, --runs, --warmup and --json
    (shared with tools/analysis/benchmark.py --compare-mmaction)."""
    parser.add_argument('--tiny', action='store_true',
                        help='toy versions of the variants (tests)')
    parser.add_argument('--mem-reps', type=int, default=1,
                        help='fresh processes per side for peak memory')
    parser.add_argument('--no-memory', action='store_true')
    parser.add_argument('--no-models', action='store_true',
                        help='only the data pipeline comparison')
    parser.add_argument('--pipeline', action='store_true',
                        help='also compare the Kinetics train pipelines')
    parser.add_argument('--pipeline-n', type=int, default=20,
                        help='videos per pipeline (after 2 warm-up)')
    parser.add_argument('--decode-study', action='store_true',
                        help='also time decoding alternatives')
    parser.add_argument('--video', default=DEFAULT_VIDEO)
    parser.add_argument('--tol', type=float, default=1e-4,
                        help='max abs output difference allowed')
    parser.add_argument('--train-throughput', action='store_true',
                        help='training clips/s with mixed precision (GPU '
                        'mode): ours --amp vs mmaction2 --theirs-amp, '
                        'AdamW steps, batch --batch-size, with MFU')
    parser.add_argument('--theirs-amp', default='fp16',
                        choices=['bf16', 'fp16', 'none'],
                        help="mmaction2's (its AmpOptimWrapper default: fp16 "
                        'with loss scaling)')
    parser.add_argument('--steps', type=int, default=5,
                        help='optimizer steps per timed run '
                        '(--train-throughput)')
    parser.add_argument('--peak-tflops', type=float, default=None,
                        help='device peak for the MFU (default: known '
                        'H100/H200/A100/... bf16 dense peaks)')
    parser.add_argument('--inference-runs', type=int, default=15,
                        help='timed inference runs per side (alternating; '
                        'inference is short, more runs are cheap)')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--variants', nargs='+',
                        default=['uniformer-s16', 'uniformerv2-b16'],
                        choices=sorted(VARIANTS), help='models to compare')
    add_arguments(parser)
    # (tools/analysis/benchmark.py has its own --device, --amp and
    # --batch-size, which --compare-mmaction --train-throughput uses)
    parser.add_argument('--device', default=None,
                        help='for --train-throughput (default: cuda if '
                        'available, else cpu)')
    parser.add_argument('--amp', default='bf16',
                        choices=['bf16', 'fp16', 'none'],
                        help='our mixed precision for --train-throughput')
    parser.add_argument('--batch-size', type=int, default=8,
                        help='clips per step for --train-throughput')
    parser.add_argument('--runs', type=int, default=5,
                        help='timed runs per side (alternating)')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--json', help='write all results to this file')
    return parser.parse_args(argv)


def _mark(value, target, higher_is_better=False):
    if target is None or value is None:
        return ''
    ok = value >= target if higher_is_better else value <= target
    sign = '>=' if higher_is_better else '<='
    return f' ({"meets" if ok else "MISSES"} {sign}{target})'


def summary_table(results: dict, tiny: bool = False) -> str:
    """Markdown table of the ratios."""
    lines = ['| comparison | ours | mmaction2 | ours / mmaction2 | '
             'median of per-run ratios |',
             '|---|---:|---:|---:|---:|']
    for variant, res in results.get('models', {}).items():
        target = {} if tiny else TARGETS.get(variant, {})
        ok = res['check']['outputs_equal']
        lines.append(
            f'| {variant}: outputs (eval / train max abs diff) | | | '
            f'{res["check"]["eval_out_max_abs"]:.1e} / '
            f'{res["check"]["train_out_max_abs"]:.1e} '
            f'({"equal" if ok else "DIFFERENT"}) | |')
        for mode, label in (('inference', 'inference time'),
                            ('train', 'forward+backward time')):
            if mode not in res:
                continue
            t = res[mode]
            lines.append(
                f'| {variant}: {label} | {t["ours_median_s"]:.2f} s | '
                f'{t["theirs_median_s"]:.2f} s | '
                f'{t["ratio_of_medians"]:.3f}'
                f'{_mark(t["ratio_of_medians"], target.get(mode))} | '
                f'{t["median_of_ratios"]:.3f} |')
        if 'memory' in res:
            m = res['memory']
            lines.append(
                f'| {variant}: peak memory fwd+bwd | '
                f'{fmt_bytes(m["ours_median_bytes"])} | '
                f'{fmt_bytes(m["theirs_median_bytes"])} | {m["ratio"]:.3f}'
                f'{_mark(m["ratio"], target.get("memory"))} | |')
    for variant, r in results.get('train_throughput', {}).items():
        target = None if tiny or not r['device'].startswith('cuda') else \
            TARGETS['train_throughput']
        mfu = (f'MFU {r["ours_mfu"]:.1%} vs {r["theirs_mfu"]:.1%}'
               if r.get('ours_mfu') is not None else 'MFU n/a')
        lines.append(
            f'| {variant}: training clips/s on {r["device"]} (ours '
            f'{r["amp"]}, mmaction2 {r["theirs_amp"]}; {mfu}) | '
            f'{r["ours_clips_per_s"]:.2f} | {r["theirs_clips_per_s"]:.2f} | '
            f'{r["speedup"]:.3f}{_mark(r["speedup"], target, True)} '
            f'(clips/s ratio) | {r["median_of_ratios"]:.3f} |')
    pipe = results.get('pipeline')
    if pipe:
        base_name = next(k for k in pipe if k.startswith('mmaction2'))
        base = pipe[base_name]
        for name, r in pipe.items():
            ratio = r['clips_per_s'] / base['clips_per_s']
            mark = '' if name == base_name or 'without' in name else \
                _mark(ratio, TARGETS['pipeline'], True)
            lines.append(
                f'| pipeline: {name} (clips/s; decode / aug ms) | '
                f'{r["clips_per_s"]:.2f} ({r["decode_median_ms"]:.0f} / '
                f'{r["aug_median_ms"]:.1f}) | {base["clips_per_s"]:.2f} | '
                f'{ratio:.3f}{mark} (clips/s ratio) | |')
    return '\n'.join(lines)


def main(argv=None, args=None):
    args = args or parse_args(argv)
    results = dict(machine=describe_machine(), load_start=load_average(),
                   runs=args.runs, warmup=args.warmup, tiny=args.tiny)
    print(f'machine: {results["machine"]}; load average '
          f'{results["load_start"]}')
    failed = []
    if not args.no_models:
        modes = ['inference', 'train'] + ([] if args.no_memory else
                                          ['memory'])
        results['models'] = run_comparison(
            args.variants, tiny=args.tiny, runs=args.runs,
            warmup=args.warmup, mem_reps=args.mem_reps,
            inference_runs=args.inference_runs, modes=modes,
            tol=args.tol)
        failed = [v for v, r in results['models'].items()
                  if not r['check']['outputs_equal']]
    if args.train_throughput:
        device = args.device or ('cuda' if torch.cuda.is_available() else
                                 'cpu')
        results['train_throughput'] = {}
        for variant in args.variants:
            print(f'\n== {variant}{" (tiny)" if args.tiny else ""}: '
                  f'training throughput on {device}')
            results['train_throughput'][variant] = training_throughput(
                variant, device=device,
                amp=None if args.amp in (None, 'none') else args.amp,
                theirs_amp=None if args.theirs_amp == 'none' else
                args.theirs_amp, batch_size=args.batch_size,
                steps=args.steps, runs=args.runs, warmup=args.warmup,
                tiny=args.tiny, peak_tflops=args.peak_tflops)
    if args.pipeline:
        load = load_average()
        print(f'\n== Kinetics train pipeline, {args.pipeline_n} videos '
              f'interleaved, one process: {args.video}')
        pipe = time_pipelines(args.video, n=args.pipeline_n)
        results['pipeline'] = pipe
        results['pipeline_load'] = [load, load_average()]
        for name, r in pipe.items():
            print(f'  {name:<34} {r["clips_per_s"]:6.2f} clips/s (decode '
                  f'{r["decode_median_ms"]:.1f} ms, augmentation '
                  f'{r["aug_median_ms"]:.1f} ms per clip, medians)')
        print(f'  load average before/after: {load} / {load_average()}')
    if args.decode_study:
        load = load_average()
        print(f'\n== decoding 8 sparse training frames, '
              f'{args.pipeline_n} videos interleaved: {args.video}')
        dec = time_decoders(args.video, n=args.pipeline_n)
        results['decoders'] = dec
        for name, r in dec.items():
            print(f'  {name:<48} {r["median_ms"]:7.1f} ms/video, max '
                  f'|pixel diff| vs decord {r["max_abs_pixel_diff"]}')
        print(f'  load average before/after: {load} / {load_average()}')
    results['load_end'] = load_average()
    if results.get('models') or results.get('pipeline') or \
            results.get('train_throughput'):
        print('\n' + summary_table(results, args.tiny))
    print(f'\nload average at start / end: {results["load_start"]} / '
          f'{results["load_end"]}; torch threads '
          f'{torch.get_num_threads()}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    if failed:
        print(f'OUTPUTS DIFFER for {failed}', file=sys.stderr)
        raise SystemExit(1)
    return results


if __name__ == '__main__':
    main()

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
   see ``uniformer_mm/analysis/benchmark.py:peak_memory``): real memory
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

from uniformer_mm.analysis.compare_mmaction import (  # noqa: E402
    VARIANTS, describe_machine, fmt_bytes, load_average, run_comparison,
    time_decoders, time_pipelines)

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
        from uniformer_mm.analysis.compare_mmaction import \
            training_throughput
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

"""Clips/s of the video data pipelines per CPU core and with loader workers,
and the CPU cores a GPU needs.

    python tools/analysis/bench_video_pipeline.py [--video V]
        [--sources original prepared frames original-720p prepared-720p
                   frames-720p]
        [--pipelines train train-device dense dense-device test
                     mmaction2-train mmaction2-test]
        [--backends pyav decord torchcodec] [--runs 5] [--clips 10]
        [--warmup 2] [--workers 2] [--loader-all]
        [--gpu-clips-per-s uniformerv2-b16=450 uniformer-b16=680]
        [--peak-tflops 989.4] [--mfu 0.4]
        [--work-dir work_dirs/bench_video_pipeline] [--json OUT]

What is measured:

* **Sources** (``tools/analysis/pipeline_bench.py``, made once in
  ``--work-dir``): ``original`` is the real Kinetics clip
  ``tests/data/videos/kinetics_arm_wrestling.mp4`` (340x256, 280 frames,
  H.264 with B-frames, key frames at 0/187/230/268); ``original-720p`` is
  that clip re-encoded at 1280x720 with libx264's defaults (key frames at
  most every 250 frames and at scene cuts, B-pyramid, CRF 23): raw Kinetics
  downloads are 720p/1080p H.264 with long GOPs, and this is a stand-in
  (an upscaled 340x256 clip: fewer details than a real 720p video, so its
  decoding is, if anything, cheaper); ``prepared`` / ``prepared-720p``
  are the copies ``tools/data/prepare_videos.py`` makes with its defaults
  at the recipes' resolution (short side 256); ``frames`` /
  ``frames-720p`` are its JPEG frame folders.
* **Pipelines** (``tools/analysis/pipelines.py``): ``train`` = the
  UniFormerV2 recipe of ``configs/_base_/datasets/kinetics400.py``
  (RandAugment included), ``dense`` = the UniFormer V1 recipe of
  ``kinetics400_dense.py`` (2 repeated augmentations: 2 clips per
  decoded sample), ``*-device`` = the same with ``defer_augmentation`` (the
  workers' part when the augmentation runs on the GPU), ``test`` = 4 clips
  x 3 crops (counted per video), ``mmaction2-train`` / ``mmaction2-test``
  = mmaction2's chains (decord; the train chain without RandAugment, which
  mmaction2 only has through pytorchvideo: a lower bound of its cost), on
  the originals only. Our pipelines run with every ``--backends`` of
  ``VideoInit`` on videos (the dense ones with the first backend only) and
  with mmaction2's ``RawFrameDecode`` on frame folders.
* **Per core**: every setting in this process, OpenCV and torch single-
  threaded (what a data loader worker is), ``--runs`` runs of ``--clips``
  samples each after ``--warmup``, the settings in alternating order
  (forward, backward, ...) so that load changes hit all alike; medians of
  the per-run clips/s (wall clock) and of clips per CPU second, the time of
  every transform (decoding = ``*Init`` + ``*Decode``) and the frames the
  PyAV decoder produced per sample.
* **Loader**: clips/s through a ``torch.utils.data.DataLoader`` with
  ``--workers`` processes (batch 1, fork), timed from the moment every
  worker delivered its first sample, ``--runs`` alternating runs, medians;
  for the ``train*`` / ``dense*`` / ``mmaction2-train`` settings of the
  first backend (``--loader-all``: all settings).
* **Cores per GPU**: GPU training clips/s divided by clips/s per core, for
  UniFormerV2-B/16 8x224 (fed by the sparse ``train`` pipelines) and
  UniFormer-B 16x224 (the ``dense`` ones). The GPU rate is
  ``--gpu-clips-per-s`` (e.g. measured with ``tools/analysis/
  compare_mmaction.py --train-throughput``), else ``--mfu`` x
  ``--peak-tflops`` / (6 x forward multiply-adds per clip) -- by default 40
  % of an H100's 989.4 dense bf16 TFLOP/s: 446 clips/s for UniFormerV2-B/16
  (148 GMACs) and 682 for UniFormer-B 16x224 (96.7 GMACs).

torchcodec: when it cannot load FFmpeg libraries, the tool runs itself
again with ``LD_LIBRARY_PATH`` pointing to PyAV's bundled FFmpeg
(``uniformer_mm/datasets/ffmpeg_libs.py``): the same FFmpeg build for both.

Results: tables on stdout (markdown) and everything in ``--json``.
"""
import argparse
import json
import os
import os.path as osp
import sys

# the sibling tools of this folder import by name, also when a test loads
# this file by its path
_HERE = osp.dirname(osp.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
import _checkout  # noqa: E402,F401  (uniformer_mm, also from a checkout)

import pipeline_bench as pb  # noqa: E402
from compare_mmaction import (PEAK_TFLOPS, describe_machine,  # noqa: E402
                              load_average)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_VIDEO = osp.join(REPO, 'tests', 'data', 'videos',
                         'kinetics_arm_wrestling.mp4')
_REEXEC = 'UNIFORMER_MM_BENCH_FFMPEG_ENV'
#: done-when targets: ours (train, RandAugment included) / mmaction2 train
TARGETS = {'prepared': 3.0, 'original': 1.5}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--video', default=DEFAULT_VIDEO)
    parser.add_argument('--sources', nargs='+', default=list(pb.SOURCES),
                        choices=list(pb.SOURCES))
    parser.add_argument('--pipelines', nargs='+', default=list(pb.PIPELINES),
                        choices=list(pb.PIPELINES))
    parser.add_argument('--backends', nargs='+',
                        default=['pyav', 'decord', 'torchcodec'],
                        choices=['pyav', 'decord', 'torchcodec'])
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--clips', type=int, default=10,
                        help='samples per run and setting')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--workers', type=int, default=2,
                        help='loader workers (0: no loader measurement)')
    parser.add_argument('--loader-all', action='store_true')
    parser.add_argument('--gpu-clips-per-s', nargs='*', default=[],
                        metavar='MODEL=RATE',
                        help=f'GPU training clips/s of {list(pb.GPU_MODELS)}')
    parser.add_argument('--peak-tflops', type=float,
                        default=PEAK_TFLOPS['H100'])
    parser.add_argument('--mfu', type=float, default=0.4)
    parser.add_argument('--work-dir',
                        default=osp.join(REPO, 'work_dirs',
                                         'bench_video_pipeline'))
    parser.add_argument('--json', help='write all results to this file')
    return parser.parse_args(argv)


def _torchcodec_ready(args, reexec: bool) -> bool:
    """torchcodec imports here; otherwise (``reexec``) re-run this process
    once with PyAV's FFmpeg on the library path (does not return then)."""
    from uniformer_mm.datasets.transforms.video_decode import \
        _import_torchcodec
    decoder, reason = _import_torchcodec()
    if decoder is not None:
        return True
    if not reexec or os.environ.get(_REEXEC) or 'not installed' in reason:
        print(f'torchcodec left out: {reason}')
        return False
    from uniformer_mm.datasets.ffmpeg_libs import pyav_ffmpeg_env
    try:
        env = pyav_ffmpeg_env(osp.join(args.work_dir, 'ffmpeg-libs'))
    except RuntimeError as err:
        print(f'torchcodec left out: {reason}; {err}')
        return False
    env[_REEXEC] = '1'
    print('torchcodec: running again with PyAV\'s FFmpeg on '
          'LD_LIBRARY_PATH', flush=True)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def _gpu_rates(args):
    rates = {m: pb.gpu_clips_per_s(m, args.peak_tflops, args.mfu)
             for m in pb.GPU_MODELS}
    given = {}
    for item in args.gpu_clips_per_s:
        model, _, value = item.partition('=')
        if model not in pb.GPU_MODELS or not value:
            raise SystemExit(f'--gpu-clips-per-s: {item!r}: use MODEL=RATE '
                             f'with MODEL in {list(pb.GPU_MODELS)}')
        given[model] = float(value)
    rates.update(given)
    how = {m: 'given' if m in given else
           f'{args.mfu:.0%} of {args.peak_tflops:g} TFLOP/s / (6 x '
           f'{pb.GPU_MODELS[m]["gmacs"]:g} GMACs)' for m in rates}
    return rates, how


def _fmt(v, digits=1):
    return '-' if v is None else f'{v:.{digits}f}'


def tables(summary, rows, rates, how, workers):
    lines = ['| source | pipeline | backend | clips/s (1 process) | clips '
             'per CPU-s | decode ms/clip | other ms/clip | frames decoded '
             f'/ sample | clips/s ({workers} workers) |',
             '|---|---|---|---:|---:|---:|---:|---:|---:|']
    for r in summary.values():
        total = 1000 / r['clips_per_s']
        lines.append(
            f'| {r["source"]} | {r["pipeline"]} | {r["backend"]} | '
            f'{r["clips_per_s"]:.2f} | {r["clips_per_cpu_s"]:.2f} | '
            f'{r["decode_ms_per_clip"]:.1f} | '
            f'{total - r["decode_ms_per_clip"]:.1f} | '
            f'{_fmt(r["decoded_frames_per_sample"])} | '
            f'{_fmt(r.get("loader_clips_per_s"), 2)} |')
    lines += ['', '| ratio (clips/s per core) | ours | mmaction2 | ratio | '
              'target |', '|---|---:|---:|---:|---|']
    for ours in summary.values():
        if ours['pipeline'] != 'train':
            continue
        family = '-720p' if ours['source'].endswith('-720p') else ''
        base = next((r for r in summary.values()
                     if r['pipeline'] == 'mmaction2-train'
                     and r['source'] == 'original' + family), None)
        if base is None:
            continue
        ratio = ours['clips_per_s'] / base['clips_per_s']
        kind = 'original' if ours['source'].startswith('original') else \
            'prepared'
        target = TARGETS[kind] if ours['source'].startswith(
            ('original', 'prepared')) else None
        mark = '' if target is None else \
            f'>= {target}: {"met" if ratio >= target else "MISSED"}'
        lines.append(
            f'| ours train ({ours["source"]}, {ours["backend"]}) vs '
            f'mmaction2 train ({base["source"]}) | '
            f'{ours["clips_per_s"]:.2f} | {base["clips_per_s"]:.2f} | '
            f'{ratio:.2f} | {mark} |')
    for model, rate in rates.items():
        lines += ['', f'Cores per GPU, {pb.GPU_MODELS[model]["name"]} at '
                  f'{rate:.0f} training clips/s per GPU ({how[model]}):', '',
                  '| setting | clips/s per core | cores per GPU |',
                  '|---|---:|---:|']
        lines += [f'| {row["setting"]} | {row["clips_per_s_core"]:.2f} | '
                  f'{row["cores"]:.1f} |' for row in rows
                  if row['model'] == model]
    return '\n'.join(lines)


def breakdown(summary):
    lines = ['| setting | ms per clip, by transform (in RepeatClips: per '
             'clip) |', '|---|---|']
    for name, r in summary.items():
        if r['pipeline'] not in ('train', 'mmaction2-train',
                                 'train-device'):
            continue
        parts = ', '.join(f'{k.split(":", 1)[1]} {v:.1f}'
                          for k, v in r['stage_ms_per_clip'].items())
        lines.append(f'| {name} | {parts} (total {r["ms_per_clip"]:.1f}) |')
    return '\n'.join(lines)


def main(argv=None):
    """Run the benchmark; ``argv`` None = the command line (only then may
    the tool run itself again for torchcodec)."""
    args = parse_args(argv)
    backends = list(args.backends)
    if 'torchcodec' in backends and not _torchcodec_ready(
            args, reexec=argv is None):
        backends.remove('torchcodec')
    if not backends:
        raise SystemExit('no decoding backend left')
    machine = describe_machine()
    print(f'machine: {machine}; load average {load_average()}')
    sources = pb.make_sources(args.video, args.work_dir, args.sources)
    for s in sources.values():
        print(f'  source {s.name}: {s.path} ({s.kind}, {s.size[0]}x'
              f'{s.size[1]}, {s.total_frames} frames)')
    settings = pb.make_settings(sources, args.pipelines, backends)
    loader = [s for s in settings if args.loader_all or (
        s.backend in (backends[0], 'rawframes') or
        s.pipeline.startswith('mmaction2')) and s.pipeline.startswith(
            ('train', 'dense', 'mmaction2-train'))]
    print(f'{len(settings)} settings, {args.runs} runs x {args.clips} '
          f'samples each; {len(loader) if args.workers else 0} with '
          f'{args.workers} loader workers')
    load = load_average()
    summary = pb.measure(settings, runs=args.runs, clips=args.clips,
                         warmup=args.warmup, workers=args.workers,
                         loader_settings=loader)
    rates, how = _gpu_rates(args)
    rows = pb.cores_per_gpu(summary, rates)
    print()
    print(tables(summary, rows, rates, how, args.workers))
    print()
    print(breakdown(summary))
    print(f'\nload average before / after: {load} / {load_average()}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(machine=machine, args=vars(args),
                           sources={k: vars(v) for k, v in sources.items()},
                           results=summary, cores_per_gpu=rows,
                           gpu_clips_per_s=rates, gpu_rate_how=how),
                      f, indent=1, default=str)
    return summary


if __name__ == '__main__':
    main()

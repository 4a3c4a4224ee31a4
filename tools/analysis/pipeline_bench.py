"""Throughput of the video data pipelines (``bench_video_pipeline.py``
beside this file; its docstring says what is measured and how). Importable
with this folder on ``sys.path`` (``import pipeline_bench``).

:func:`make_sources`
    the benchmark's videos: the real Kinetics clip as downloaded, a
    1280x720 long-GOP re-encode of it (what raw Kinetics downloads look
    like), and copies of both prepared by ``tools/data/prepare_videos.py``
    (H.264 and JPEG frame folders).
:func:`make_settings`
    (source, pipeline, decoding backend) combinations.
:func:`measure`
    clips/s of each setting in this process (one core), alternating runs,
    with the time of every transform; and through a ``DataLoader`` with
    worker processes.
:func:`cores_per_gpu`
    CPU cores a GPU needs at a stated GPU throughput.
"""
import copy
import dataclasses
import os
import os.path as osp
import random
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

from pipelines import (DENSE_PIPELINE_CONFIG, OUR_PIPELINE_CONFIG,
                       config_pipelines, for_frames, mmaction2_test_chain,
                       mmaction2_train_chain, with_backend)

__all__ = ['Source', 'Setting', 'SOURCES', 'PIPELINES', 'make_sources',
           'make_settings', 'measure', 'cores_per_gpu', 'GPU_MODELS']

#: x264 settings of the synthetic raw download: libx264 defaults (key frames
#: at most every 250 frames and at scene cuts, 3 B-frames with pyramid),
#: CRF 23, preset medium -- the kind of stream YouTube-derived Kinetics
#: files are
RAW_DOWNLOAD_X264 = {'crf': '23', 'preset': 'medium',
                     'x264-params': 'keyint=250:min-keyint=25:scenecut=40:'
                     'bframes=3:b-pyramid=normal'}
RAW_SIZE = (1280, 720)
#: the recipes' resolution (short side before the 224 crop)
PREPARED_SHORT_SIDE = 256

#: source name -> description (what make_sources builds)
SOURCES = {
    'original': 'the real Kinetics clip as downloaded (340x256, 280 '
    'frames, key frames at 0/187/230/268)',
    'prepared': 'original prepared by prepare_videos.py (defaults: short '
    'side 256 -> 340x256, key frame every 8, fastdecode)',
    'frames': 'original as JPEG frames by prepare_videos.py --frames '
    '--no-video (340x256)',
    'original-720p': 'original re-encoded at 1280x720 with x264 defaults '
    '(long GOP: key frames every <= 250 frames + scene cuts, B-pyramid), '
    'CRF 23: a raw Kinetics download stand-in',
    'prepared-720p': 'original-720p prepared by prepare_videos.py (short '
    'side 256 -> 456x256)',
    'frames-720p': 'original-720p as JPEG frames (456x256)',
}

#: pipeline name -> (what, clips per sample counted as)
PIPELINES = {
    'train': 'ours, UniFormerV2 recipe (kinetics400.py train_pipeline: '
    'sparse 8, short side 256, RandAugment m7-n4, crop+flip 224)',
    'train-device': "ours, the same with defer_augmentation: the worker's "
    'part only (decode, resize, draws); augmentation on the GPU',
    'dense': 'ours, UniFormer V1 recipe (kinetics400_dense.py: 16x4, '
    'RandAugment, crop+flip, random erasing 0.25, 2 repeats = 2 clips)',
    'dense-device': "ours, the V1 recipe with defer_augmentation (worker's "
    'part only)',
    'test': 'ours, kinetics400.py test_pipeline (4 clips x 3 crops at '
    'short side 224; counted per video)',
    'mmaction2-train': "mmaction2's chain for the V2 recipe without "
    'RandAugment (DecordInit, UniformSample 8, DecordDecode, Resize, '
    'RandomResizedCrop, Resize 224, Flip; a lower bound of its recipe)',
    'mmaction2-test': "mmaction2's test chain (decord, 4 clips x 3 crops at "
    'short side 224; counted per video)',
}

#: the models of the cores-per-GPU table: forward multiply-adds per clip
#: (README model zoo, computed by tools/analysis/get_flops.py) and the
#: pipeline that feeds them
GPU_MODELS = {
    'uniformerv2-b16': dict(name='UniFormerV2-B/16 8x224', gmacs=148.0,
                            pipelines=('train', 'train-device',
                                       'mmaction2-train')),
    'uniformer-b16': dict(name='UniFormer-B 16x224 (dense 16x4)',
                          gmacs=96.7, pipelines=('dense', 'dense-device')),
}


@dataclasses.dataclass
class Source:
    name: str
    kind: str  # 'video' | 'frames'
    path: str
    total_frames: int
    size: tuple  # (w, h)


@dataclasses.dataclass
class Setting:
    source: Source
    pipeline: str
    backend: str  # VideoInit backend, 'decord' (mmaction2), 'rawframes'

    @property
    def name(self) -> str:
        return f'{self.source.name} / {self.pipeline} / {self.backend}'


# --------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------
def _frames_of(path: str) -> int:
    import av
    with av.open(path) as container:
        return container.streams.video[0].frames


def make_sources(video: str, work_dir: str, names: Sequence[str],
                 log: Callable[[str], None] = print) -> Dict[str, Source]:
    """Build (once; kept in ``work_dir``) the sources ``names``."""
    from uniformer_mm.datasets.video_prepare import (FRAME_TEMPLATE, PrepareSettings,
                                          prepare_one, transcode)
    os.makedirs(work_dir, exist_ok=True)
    stem = osp.splitext(osp.basename(video))[0]
    raw = osp.join(work_dir, f'{stem}_1280x720_longgop.mp4')
    sources = {}

    def original(name):
        if name == 'original':
            return osp.abspath(video)
        if not osp.exists(raw):
            log(f'making {raw} (1280x720, long GOP; once)')
            tmp = raw + '.tmp.mp4'
            # one thread: the same file on every machine
            transcode(video, PrepareSettings(short_side=None, tune=None),
                      tmp, x264_options=RAW_DOWNLOAD_X264, size=RAW_SIZE)
            os.replace(tmp, raw)
        return raw

    for name in names:
        if name not in SOURCES:
            raise ValueError(f'unknown source {name!r}; choose from '
                             f'{list(SOURCES)}')
        base = 'original' if name in ('original', 'prepared', 'frames') \
            else 'original-720p'
        src = original(base)
        if name.startswith('original'):
            path, kind = src, 'video'
        elif name.startswith('prepared'):
            path, kind = osp.join(work_dir, f'{name}.mp4'), 'video'
            if not osp.exists(path):
                log(f'preparing {path} (once)')
                prepare_one(src, PrepareSettings(
                    short_side=PREPARED_SHORT_SIDE), video_path=path)
        else:
            path, kind = osp.join(work_dir, name), 'frames'
            if not osp.isdir(path):
                log(f'preparing {path}/ (once)')
                prepare_one(src, PrepareSettings(
                    short_side=PREPARED_SHORT_SIDE, video=False,
                    frames=True), frames_dir=path)
        if kind == 'video':
            import av
            with av.open(path) as c:
                s = c.streams.video[0]
                total, size = s.frames, (s.codec_context.width,
                                         s.codec_context.height)
        else:
            total = len([n for n in os.listdir(path) if n.endswith('.jpg')])
            import cv2
            img = cv2.imread(osp.join(path, FRAME_TEMPLATE.format(1)))
            size = (img.shape[1], img.shape[0])
        sources[name] = Source(name, kind, path, total, size)
    return sources


# --------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------
def _ours() -> Dict[str, list]:
    from uniformer_mm.datasets.config_utils import defer_augmentation
    sparse = config_pipelines(OUR_PIPELINE_CONFIG)
    dense = config_pipelines(DENSE_PIPELINE_CONFIG)
    return {'train': sparse['train'],
            'train-device': defer_augmentation(sparse['train']),
            'dense': dense['train'],
            'dense-device': defer_augmentation(dense['train']),
            'test': sparse['test']}


def make_settings(sources: Dict[str, Source], pipelines: Sequence[str],
                  backends: Sequence[str]) -> List[Setting]:
    """Every meaningful (source, pipeline, backend): our pipelines with
    each ``VideoInit`` backend on videos (the dense ones with the first
    backend only), with ``RawFrameDecode`` on frame folders, mmaction2's
    chains (decord) on the originals."""
    settings = []
    for src in sources.values():
        for pipe in pipelines:
            if pipe.startswith('mmaction2'):
                if src.name.startswith('original'):
                    settings.append(Setting(src, pipe, 'decord'))
                continue
            if src.kind == 'frames':
                settings.append(Setting(src, pipe, 'rawframes'))
                continue
            for i, backend in enumerate(backends):
                if pipe.startswith('dense') and i:
                    continue
                settings.append(Setting(src, pipe, backend))
    return settings


def build(setting: Setting):
    """(transforms, the base results dict) of a setting."""
    from mmaction.registry import TRANSFORMS
    pipe = setting.pipeline
    if pipe == 'mmaction2-train':
        steps = mmaction2_train_chain()
    elif pipe == 'mmaction2-test':
        steps = mmaction2_test_chain()
    else:
        steps = _ours()[pipe]
        steps = for_frames(steps) if setting.backend == 'rawframes' else \
            with_backend(steps, setting.backend)
    transforms = [TRANSFORMS.build(copy.deepcopy(t)) for t in steps]
    src = setting.source
    if src.kind == 'frames':
        base = dict(frame_dir=src.path, total_frames=src.total_frames,
                    filename_tmpl='img_{:05d}.jpg', start_index=1, label=0,
                    modality='RGB')
    else:
        base = dict(filename=src.path, label=0, start_index=0,
                    modality='RGB')
    return transforms, base


class _Timed:
    """A transform that adds its time to ``stage_s[name]``."""

    def __init__(self, transform, name: str, stage_s: Dict[str, float]):
        self.transform, self.name, self.stage_s = transform, name, stage_s

    def __call__(self, results):
        start = time.perf_counter()
        results = self.transform(results)
        self.stage_s[self.name] = self.stage_s.get(self.name, 0.) + \
            time.perf_counter() - start
        return results


class _Pipeline:
    """The transforms of a setting, each timed (also those inside
    ``RepeatClips``); keeps the PyAV reader's decoded-frame count."""

    def __init__(self, setting: Setting):
        transforms, self.base = build(setting)
        self.stage_s: Dict[str, float] = {}
        self.transforms = []
        for i, t in enumerate(transforms):
            inner = getattr(getattr(t, 'transforms', None), 'transforms',
                            None)
            if isinstance(inner, list):  # RepeatClips: time its transforms
                t.transforms.transforms = [
                    _Timed(u, f'{i}.{j}:{type(u).__name__}', self.stage_s)
                    for j, u in enumerate(inner)]
                self.transforms.append(t)
            else:
                self.transforms.append(
                    _Timed(t, f'{i}:{type(t).__name__}', self.stage_s))

    def __call__(self):
        results = dict(self.base)
        reader = None
        for t in self.transforms:
            results = t(results)
            if isinstance(results, dict) and \
                    results.get('video_reader') is not None:
                reader = results['video_reader']
        clips = len(results) if isinstance(results, list) else 1
        decoded = getattr(reader, 'decoded_frames', None)
        return results, clips, decoded


def _seed(seed: int) -> None:
    np.random.seed(seed)
    random.seed(seed)


# --------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------
def _time_block(pipe: _Pipeline, clips: int, seed: int) -> Dict:
    """``clips`` samples through the pipeline in this process."""
    pipe.stage_s.clear()
    decoded, n = [], 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(clips):
        _seed(seed + i)
        _, c, d = pipe()
        n += c
        if d is not None:
            decoded.append(d)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    return dict(clips=n, samples=clips, wall_s=wall, cpu_s=cpu,
                stage_s=dict(pipe.stage_s), decoded=decoded)


class _LoaderSet(torch.utils.data.Dataset):

    def __init__(self, setting: Setting, length: int, seed: int):
        self.setting, self.length, self.seed = setting, length, seed
        self.pipe = None

    def __len__(self):
        return self.length

    def __getitem__(self, i):
        if self.pipe is None:  # built in the worker
            self.pipe = _Pipeline(self.setting)
        _seed(self.seed + i)
        results, clips, _ = self.pipe()
        return clips, results


def _worker_init(_):
    # (OpenCV is single-threaded already: measure() set it before the
    # fork; setting it here could wait for pool threads the child lacks)
    torch.set_num_threads(1)


def _time_loader(setting: Setting, workers: int, samples: int,
                 seed: int) -> Dict:
    """Clips/s through a DataLoader with ``workers`` processes (after each
    worker delivered its first sample: start-up excluded)."""
    from mmengine.registry import DefaultScope
    data = _LoaderSet(setting, samples + workers, seed)
    with DefaultScope.overwrite_default_scope('mmaction'):
        loader = torch.utils.data.DataLoader(
            data, batch_size=1, num_workers=workers,
            collate_fn=lambda batch: batch[0], worker_init_fn=_worker_init,
            multiprocessing_context='fork', prefetch_factor=2)
        clips = 0
        start = None
        for i, (c, _) in enumerate(loader):
            if i == workers - 1:
                start = time.perf_counter()
            elif i >= workers:
                clips += c
        wall = time.perf_counter() - start
    return dict(clips=clips, wall_s=wall)


def measure(settings: List[Setting], runs: int = 5, clips: int = 20,
            warmup: int = 2, workers: int = 2,
            loader_settings: Optional[List[Setting]] = None,
            log: Callable[[str], None] = print) -> Dict[str, Dict]:
    """Per setting: clips/s in this process (``runs`` alternating runs of
    ``clips`` samples after ``warmup``; medians) with the time of each
    transform, and clips/s through a DataLoader with ``workers`` processes
    for ``loader_settings`` (alternating runs too)."""
    from mmengine.registry import DefaultScope
    import cv2
    cv2.setNumThreads(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    results = {s.name: dict(setting=s, blocks=[], loader=[])
               for s in settings}
    try:
        with DefaultScope.overwrite_default_scope('mmaction'):
            pipes = {s.name: _Pipeline(s) for s in settings}
            for s in settings:  # warm-up (caches, lazy imports)
                _time_block(pipes[s.name], warmup, seed=10**6)
            for run in range(runs):
                order = settings if run % 2 == 0 else settings[::-1]
                for s in order:
                    block = _time_block(pipes[s.name], clips,
                                        seed=run * clips)
                    results[s.name]['blocks'].append(block)
                log(f'  run {run + 1}/{runs} (one process) done')
        if workers and loader_settings:
            for run in range(runs):
                order = loader_settings if run % 2 == 0 else \
                    loader_settings[::-1]
                for s in order:
                    results[s.name]['loader'].append(_time_loader(
                        s, workers, clips * workers, seed=run * clips))
                log(f'  run {run + 1}/{runs} ({workers} loader workers) '
                    'done')
    finally:
        torch.set_num_threads(threads)
    return {name: summarize(r) for name, r in results.items()}


def summarize(r: Dict) -> Dict:
    """Medians over the runs of one setting."""
    blocks = r['blocks']
    s = r['setting']
    out = dict(source=s.source.name, pipeline=s.pipeline, backend=s.backend,
               runs=len(blocks))
    per_run = [b['clips'] / b['wall_s'] for b in blocks]
    out['clips_per_s'] = statistics.median(per_run)
    out['clips_per_s_runs'] = per_run
    out['clips_per_cpu_s'] = statistics.median(
        b['clips'] / b['cpu_s'] for b in blocks)
    clips = sum(b['clips'] for b in blocks)
    stage = {}
    for b in blocks:
        for k, v in b['stage_s'].items():
            stage[k] = stage.get(k, 0.) + v
    out['stage_ms_per_clip'] = {k: 1000 * v / clips
                                for k, v in stage.items()}
    out['decode_ms_per_clip'] = sum(
        v for k, v in out['stage_ms_per_clip'].items()
        if k.endswith(('Init', 'Decode')))
    out['ms_per_clip'] = 1000 * sum(b['wall_s'] for b in blocks) / clips
    decoded = [d for b in blocks for d in b['decoded']]
    out['decoded_frames_per_sample'] = float(np.mean(decoded)) if decoded \
        else None
    if r['loader']:
        runs = [b['clips'] / b['wall_s'] for b in r['loader']]
        out['loader_clips_per_s'] = statistics.median(runs)
        out['loader_clips_per_s_runs'] = runs
    return out


# --------------------------------------------------------------------------
# cores per GPU
# --------------------------------------------------------------------------
def gpu_clips_per_s(model: str, peak_tflops: float, mfu: float) -> float:
    """Training clips/s of one GPU: ``mfu * peak / (3 * 2 * MACs)``
    (forward + backward = 3 forward passes, 2 FLOPs per multiply-add)."""
    return mfu * peak_tflops * 1e12 / (6 * GPU_MODELS[model]['gmacs'] * 1e9)


def cores_per_gpu(summary: Dict[str, Dict], gpu_rates: Dict[str, float]
                  ) -> List[Dict]:
    """Rows ``model, setting, clips/s per core, cores`` for every setting
    whose pipeline feeds a model of :data:`GPU_MODELS`."""
    rows = []
    for model, rate in gpu_rates.items():
        for name, r in summary.items():
            if r['pipeline'] not in GPU_MODELS[model]['pipelines']:
                continue
            per_core = r['clips_per_s']
            rows.append(dict(model=model, setting=name,
                             gpu_clips_per_s=rate, clips_per_s_core=per_core,
                             cores=rate / per_core,
                             loader_clips_per_s=r.get('loader_clips_per_s')))
    return rows

"""Clips per second of our video train pipelines vs mmaction2-only chains.

    python tools/analysis/bench_video_pipeline.py [--video V] [--n 30]

Runs single-process, with OpenCV and torch single-threaded (what a data
loader worker does: mmengine sets ``cv2.setNumThreads(0)``), every pipeline
on the same video with the same seeds (interleaved), and prints clips/s of
the whole pipeline (decode included) and of the transforms after decoding,
and the median decode time per video and augmentation time per clip.

mmaction2's own UniFormerV2 recipe uses ``PytorchVideoWrapper(op=
'RandAugment')``, which needs pytorchvideo + torchvision and cannot run in
this environment; the mmaction2-only chains below therefore have *no*
RandAugment (mmaction2 has no other RandAugment) and are a lower bound of
the cost of mmaction2's recipe.
"""
import argparse
import copy
import random
import time
from pathlib import Path

import cv2
import numpy as np
import torch

import uniformer_mm  # noqa: F401
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

# the Kinetics clip of the repository's test data
DEFAULT_VIDEO = (Path(__file__).resolve().parents[2] / 'tests' / 'data' /
                 'videos' / 'kinetics_arm_wrestling.mp4')
MEAN, STD = [114.75] * 3, [57.375] * 3


def chains():
    fmt = [dict(type='FormatShape', input_format='NCTHW'),
           dict(type='PackActionInputs')]
    mm_crop = [dict(type='RandomResizedCrop'),
               dict(type='Resize', scale=(224, 224), keep_ratio=False),
               dict(type='Flip', flip_ratio=0.5)]
    our_crop = [dict(type='FusedRandomResizedCropFlip', scale=224)]
    randaug = [dict(type='VideoRandAugment',
                    config_str='rand-m7-n4-mstd0.5-inc1',
                    interpolation='bicubic')]
    resize = [dict(type='Resize', scale=(-1, 256))]
    mm_erase = [dict(type='RandomErasing', erase_prob=0.25, mode='rand',
                     fill_color=MEAN, fill_std=STD)]
    our_erase = [dict(type='VideoRandomErasing', probability=0.25,
                      mean=MEAN, std=STD)]
    sparse = [dict(type='UniformSample', clip_len=8, num_clips=1)]
    dense = [dict(type='SampleFrames', clip_len=16, frame_interval=4,
                  num_clips=1)]
    return {
        'V2 sparse U8 (1 clip/video)': {
            'mmaction2-only: Resize,RRC,Resize,Flip (no RandAug)':
            (sparse, resize + mm_crop + fmt, 1),
            'ours: Resize,FusedRRCFlip (no RandAug)':
            (sparse, resize + our_crop + fmt, 1),
            'ours: Resize,VideoRandAugment m7n4,FusedRRCFlip (recipe)':
            (sparse, resize + randaug + our_crop + fmt, 1),
        },
        'V1 dense 16x4 (2 clips/video, repeated aug)': {
            'mmaction2-only: Resize,RRC,Resize,Flip,RandomErasing x2 '
            '(no RandAug)': (dense, resize + mm_crop + mm_erase + fmt, 2),
            'ours: Resize,FusedRRCFlip,VideoRandomErasing x2 (no RandAug)':
            (dense, resize + our_crop + our_erase + fmt, 2),
            'ours: Resize,VideoRandAugment m7n4,FusedRRCFlip,'
            'VideoRandomErasing x2 (recipe)':
            (dense, resize + randaug + our_crop + our_erase + fmt, 2),
        },
    }


def _run(head, aug, repeats, video, seed):
    np.random.seed(seed)
    random.seed(seed)
    t0 = time.perf_counter()
    res = head(dict(filename=str(video), label=0, start_index=0,
                    modality='RGB'))
    t1 = time.perf_counter()
    for _ in range(repeats):  # decode once, augment `repeats` times
        r = copy.copy(res)
        r['imgs'] = [im.copy() for im in res['imgs']]
        out = aug(r)
        assert out['inputs'].shape[-1] == 224
    return t1 - t0, time.perf_counter() - t1


def bench(video, items, n):
    """Interleaved: video i goes through every pipeline before video i + 1,
    so that load changes of a shared machine hit all of them alike."""
    built = {
        name: (Compose([dict(type='DecordInit')] + sampler +
                       [dict(type='DecordDecode')]), Compose(augs), repeats)
        for name, (sampler, augs, repeats) in items.items()
    }
    times = {name: ([], []) for name in built}
    for i in range(-2, n):  # 2 warm-up rounds
        for name, (head, aug, repeats) in built.items():
            dec, aug_t = _run(head, aug, repeats, video, max(i, 0))
            if i >= 0:
                times[name][0].append(dec)
                times[name][1].append(aug_t)
    rows = []
    for name, (dec, aug_t) in times.items():
        repeats = built[name][2]
        clips = n * repeats
        rows.append((name, clips / (sum(dec) + sum(aug_t)),
                     clips / sum(aug_t), 1000 * np.median(dec),
                     1000 * np.median(aug_t) / repeats))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--video', default=str(DEFAULT_VIDEO))
    parser.add_argument('--n', type=int, default=30)
    args = parser.parse_args()
    cv2.setNumThreads(0)
    torch.set_num_threads(1)
    init_default_scope('mmaction')
    for group, items in chains().items():
        print(f'\n== {group}: {args.video}, {args.n} videos')
        print(f'{"pipeline":<84} {"clips/s":>7} {"aug clips/s":>11} '
              f'{"decode ms/video":>15} {"aug ms/clip":>11}')
        for name, total, aug, dec, aug_ms in bench(args.video, items,
                                                   args.n):
            print(f'{name:<84} {total:7.2f} {aug:11.1f} {dec:15.1f} '
                  f'{aug_ms:11.1f}')


if __name__ == '__main__':
    main()

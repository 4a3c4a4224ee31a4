"""Device-side augmentation (DeviceAugmentPreprocessor + defer=True
transforms) against the worker-side pipeline, on CPU: the same random
draws (crop boxes, flips, RandAugment ops, erase boxes) with the same
seeds, the same distribution over many draws, and the same pixels up to
interpolation rounding; the config switch, its checks, a training step."""
import copy
import random

import numpy as np
import pytest
import torch

import uniformer_mm  # noqa: F401
from mmaction.registry import MODELS
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from uniformer_mm.datasets.config_utils import defer_augmentation
from uniformer_mm.datasets.transforms import rand_augment as ra
from uniformer_mm.datasets.transforms import (FusedRandomResizedCropFlip,
                                              VideoDecode, VideoInit)
from uniformer_mm.models.data_preprocessors import (
    DEFERRED_KEY, DeviceAugmentPreprocessor, apply_deferred)
from uniformer_mm.models.data_preprocessors import device_augment as da
from pathlib import Path
from uniformer_mm.engine.config_knobs import load_config as knob_config  # noqa: E501

KINETICS = (Path(__file__).resolve().parent / 'data' / 'videos' /
            'kinetics_arm_wrestling.mp4')
MEAN, STD = [114.75] * 3, [57.375] * 3


@pytest.fixture(autouse=True)
def _scope():
    with DefaultScope.overwrite_default_scope('mmaction'):
        yield


@pytest.fixture(scope='module')
def frames():
    """8 frames of the real clip (256x340), decoded once."""
    results = VideoInit()(dict(filename=str(KINETICS)))
    results['frame_inds'] = np.arange(0, 280, 35)
    return np.stack(VideoDecode()(results)['imgs'])


def to_tensor(clip):  # (T, H, W, C) -> (T, C, H, W)
    return torch.from_numpy(np.ascontiguousarray(clip)).permute(0, 3, 1, 2)


def diff(worker, device):
    """|worker - device| of a (T, H, W, C) array and a (T, C, H, W)
    tensor."""
    return np.abs(worker.astype(np.int64) -
                  device.permute(0, 2, 3, 1).numpy().astype(np.int64))


def recipe(erase_prob=0.0, short_side=256):
    """The augmentation part of the Kinetics recipes (worker-side)."""
    return [
        dict(type='Resize', scale=(-1, short_side)),
        dict(type='VideoRandAugment', config_str='rand-m7-n4-mstd0.5-inc1',
             interpolation='bicubic'),
        dict(type='FusedRandomResizedCropFlip', scale=224,
             area_range=(0.08, 1.0), aspect_ratio_range=(0.75, 1.3333),
             flip_ratio=0.5),
        dict(type='VideoRandomErasing', probability=erase_prob,
             mode='pixel', mean=MEAN, std=STD),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs'),
    ]


def run(pipeline, frames, seed):
    np.random.seed(seed)
    random.seed(seed)
    return pipeline(dict(imgs=list(frames.copy()), img_shape=frames.shape[
        1:3], original_shape=frames.shape[1:3], label=0, modality='RGB',
                         num_clips=1, clip_len=len(frames)))


# ------------------------------------------------------------- single ops
@pytest.mark.parametrize('name', sorted(ra.NAME_TO_OP))
def test_each_op_same_pixels(frames, name):
    args = (30.3, ) if name in ('TranslateX', 'TranslateY') else \
        ra.level_to_args(name, 7.3)
    x = to_tensor(frames)
    interps = ['bicubic', 'bilinear'] if name in ra.GEOMETRIC_OPS else \
        ['bicubic']
    for interp in interps:
        ref = ra.apply_op(frames, name, args, interpolation=interp)
        out = da.apply_op(x, name, args, interp, (128, 128, 128), 'rgb')
        assert out.dtype == torch.uint8 and out.shape == x.shape
        d = diff(ref, out)
        if name in ra.GEOMETRIC_OPS:  # float vs 15-bit fixed-point weights
            assert d.max() <= 4 and d.mean() < 0.1, (name, interp)
        elif name.startswith('Color'):  # float32 blend vs OpenCV's
            assert d.max() <= 1 and d.mean() < 0.01, name
        else:  # the worker's own tables / filter: identical
            assert d.max() == 0, name


def test_composed_warp_same_pixels(frames):
    params = [('Rotate', (12.5, ), 'bicubic'), ('ShearX', (-0.1, ), 'bicubic'),
              ('Solarize', (140, ), 'bicubic'),
              ('TranslateYRel', (0.2, ), 'bilinear')]
    ref = ra.VideoRandAugment().apply(frames, params)
    out = da.rand_augment(to_tensor(frames), params, (128, 128, 128))
    d = diff(ref, out)
    # a 1-level rounding difference of the warp at Solarize's threshold
    # becomes a large one (139 stays, 140 -> 115) in a few pixels
    assert d.mean() < 0.1 and (d > 4).mean() < 1e-3


@pytest.mark.parametrize('interp', ['bilinear', 'bicubic', 'nearest'])
def test_resized_crop_flip_same_pixels(frames, interp):
    x = to_tensor(frames)
    for bbox, flip in (((10, 20, 200, 230), True), ((0, 0, 340, 256), False),
                       ((50, 40, 150, 140), True), ((3, 5, 227, 229), False)):
        ref = FusedRandomResizedCropFlip(
            224, interpolation=interp)._crop_resize_flip(frames, bbox, flip)
        out = da.resized_crop_flip(x, bbox, (224, 224), flip, interp)
        d = diff(ref, out)
        assert d.max() <= 1 and d.mean() < 0.15, (bbox, interp)


# --------------------------------------------------------- whole pipeline
def test_same_draws_and_pixels_as_worker_pipeline(frames):
    """Seed by seed: the deferred pipeline records exactly the worker's
    draws (crop box, flip, erase boxes; the RandAugment ops through the
    pixels), and the device output equals the worker output up to
    rounding (outside the erased boxes, whose noise comes from another
    generator)."""
    worker = Compose(recipe(erase_prob=0.5))
    deferred = Compose(defer_augmentation(recipe(erase_prob=0.5)))
    frames = frames[:4]
    erased = 0
    for seed in range(10):
        a = run(worker, frames, seed)
        b = run(deferred, frames, seed)
        meta = b['data_samples'].metainfo
        augs = dict((kind, p) for kind, p in meta[DEFERRED_KEY])
        crop = augs['resized_crop_flip']
        # mmaction2's crop bookkeeping is identical
        assert a['data_samples'].metainfo['img_shape'] == (224, 224)
        assert meta['img_shape'] == (224, 224)
        assert b['inputs'].shape[-2:] == (256, 340)  # not cropped yet
        out = apply_deferred(b['inputs'], meta[DEFERRED_KEY])
        assert out.shape == a['inputs'].shape == (1, 3, 4, 224, 224)
        mask = torch.ones(out.shape, dtype=torch.bool)
        if 'random_erasing' in augs:
            erased += 1
            for top, left, h, w in augs['random_erasing']['boxes']:
                mask[..., top:top + h, left:left + w] = False
        d = (out.long() - a['inputs'].long()).abs()[mask]
        # rounding differences (<= 4 levels; more in a few pixels where a
        # point op with a threshold follows a warp)
        assert d.float().mean() < 0.2, (seed, crop)
        assert (d > 4).float().mean() < 1e-3, (seed, crop)
        # the worker's own random state was used alike: same next draw
        assert np.random.rand() == run_next(worker, frames, seed)
    assert 2 <= erased <= 8


def run_next(pipeline, frames, seed):
    run(pipeline, frames, seed)
    return np.random.rand()


def _draws(pipeline, frames, seeds):
    """Recorded parameters of the deferred pipeline for ``seeds``."""
    out = []
    for seed in seeds:
        meta = run(pipeline, frames[:1], seed)['data_samples'].metainfo
        out.append(dict(meta[DEFERRED_KEY]))
    return out


def test_draw_distribution(frames):
    """2000 clips: flip rate, crop area and aspect ratio, op choice and
    firing frequencies of the deferred draws match the worker's draws with
    other seeds and the recipe's values."""
    n = 2000
    small = frames[:1, ::4, ::4]  # pixels do not matter for the draws
    deferred = Compose(defer_augmentation(recipe(short_side=64)))
    draws = _draws(deferred, small, range(n))
    flips = np.mean([d['resized_crop_flip']['flip'] for d in draws])
    assert abs(flips - 0.5) < 4 * (0.25 / n)**0.5

    boxes = np.array([d['resized_crop_flip']['bbox'] for d in draws])
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    area = w * h / (64 * 85)
    # the worker-side crop, other seeds: the same law
    worker_boxes = []
    for seed in range(n, 2 * n):
        np.random.seed(seed)
        random.seed(seed)
        res = FusedRandomResizedCropFlip(224)(dict(
            imgs=small, img_shape=(64, 85)))
        worker_boxes.append(res['crop_bbox'])
    wb = np.array(worker_boxes)
    w_area = (wb[:, 2] - wb[:, 0]) * (wb[:, 3] - wb[:, 1]) / (64 * 85)
    for q in (0.1, 0.5, 0.9):
        assert abs(np.quantile(area, q) - np.quantile(w_area, q)) < 0.05
    assert abs(np.mean(np.log(w / h)) -
               np.mean(np.log((wb[:, 2] - wb[:, 0]) /
                              (wb[:, 3] - wb[:, 1])))) < 0.05

    # RandAugment: 4 ops per clip, uniform over the 15 ops, each fires with
    # probability 0.5 -> expected count per op: n * 4 * 0.5 / 15
    counts = {}
    for d in draws:
        for name, _, interp in d.get('rand_augment', {}).get('ops', []):
            assert interp == 'bicubic'
            counts[name] = counts.get(name, 0) + 1
    assert set(counts) == set(ra.RAND_INCREASING_TRANSFORMS)
    expected = n * 4 * 0.5 / 15
    for name, c in counts.items():
        assert abs(c - expected) < 5 * expected**0.5, (name, c)
    fired = np.array([len(d.get('rand_augment', {}).get('ops', []))
                      for d in draws])
    assert abs(fired.mean() - 2.0) < 0.1
    # the same seeds give the same ops as the worker transform draws
    ra_t = ra.VideoRandAugment('rand-m7-n4-mstd0.5-inc1')
    for seed, d in zip(range(50), draws):
        np.random.seed(seed)
        random.seed(seed)
        params = ra_t.get_params()
        assert [p[0] for p in params] == [
            p[0] for p in d.get('rand_augment', {}).get('ops', [])]


def test_erasing_noise_law():
    """Device noise: N(0, 1) written as mean + std * z, rounded, clipped,
    per pixel -- the worker's law (its fill is the reference)."""
    from uniformer_mm.datasets.transforms import VideoRandomErasing
    worker = VideoRandomErasing(mean=MEAN, std=STD)
    np.random.seed(0)
    ref = worker._fill((8, 64, 64, 3)).astype(np.float64)
    x = torch.zeros(8, 3, 100, 100, dtype=torch.uint8)
    out = da.random_erasing(x, [(10, 20, 64, 64)], [123], 'pixel', MEAN,
                            STD)[:, :, 10:74, 20:84].double().numpy()
    assert abs(out.mean() - ref.mean()) < 0.5
    assert abs(out.std() - ref.std()) < 0.5
    assert abs((out == 0).mean() - (ref == 0).mean()) < 0.003
    assert (x == 0).all()  # the input is not modified
    again = da.random_erasing(x, [(10, 20, 64, 64)], [123], 'pixel', MEAN,
                              STD)[:, :, 10:74, 20:84].double().numpy()
    assert np.array_equal(out, again)  # the recorded seed decides


# ------------------------------------------------------------ preprocessor
def _batch(pipeline, frames, seeds):
    return pseudo_collate([run(pipeline, frames, s) for s in seeds])


def test_preprocessor_matches_worker_side(frames):
    worker = Compose(recipe())
    deferred = Compose(defer_augmentation(recipe()))
    common = dict(mean=MEAN, std=STD, format_shape='NCTHW')
    ours = MODELS.build(dict(type='DeviceAugmentPreprocessor', **common))
    theirs = MODELS.build(dict(type='ActionDataPreprocessor', **common))
    seeds = [3, 4, 5]
    a = theirs(_batch(worker, frames, seeds), training=True)
    b = ours(_batch(deferred, frames, seeds), training=True)
    assert a['inputs'].shape == b['inputs'].shape == (3, 1, 3, 8, 224, 224)
    d = (a['inputs'] - b['inputs']).abs() * 57.375
    assert d.mean() < 0.2 and (d > 4.01).float().mean() < 1e-3
    # val / test batches (no deferred augmentations) pass as with mmaction2
    val = Compose([dict(type='Resize', scale=(-1, 224)),
                   dict(type='CenterCrop', crop_size=224),
                   dict(type='FormatShape', input_format='NCTHW'),
                   dict(type='PackActionInputs')])
    batch = _batch(val, frames, [0, 1])
    assert torch.equal(ours(copy.deepcopy(batch))['inputs'],
                       theirs(batch)['inputs'])


def test_missing_meta_key_is_an_error(frames):
    """Deferred transforms whose record is not packed: one clear error."""
    pipe = defer_augmentation(recipe())
    pipe[-1] = dict(type='PackActionInputs')  # meta_keys without the record
    ours = DeviceAugmentPreprocessor(mean=MEAN, std=STD,
                                     format_shape='NCTHW')
    with pytest.raises(ValueError, match="pack 'deferred_augs'"):
        ours(_batch(Compose(pipe), frames, [0]), training=True)


def test_defer_rejects_pixel_transform_after_deferred():
    pipe = recipe()
    pipe.insert(3, dict(type='Flip', flip_ratio=0.5))
    with pytest.raises(ValueError, match='Flip follows the deferred'):
        defer_augmentation(pipe)


def test_config_switch_and_check(tmp_path):
    """The documented two lines on a Kinetics config; the config check
    catches the deferred pipeline without the preprocessor."""
    from mmengine.config import Config
    from uniformer_mm.engine.config_checks import (ConfigCheckError,
                                                   check_config)
    repo = Path(__file__).resolve().parents[1]
    cfg_file = tmp_path / 'device_aug.py'
    cfg_file.write_text(
        f"_base_ = ['{repo}/configs/uniformerv2/uniformerv2-base-p16-"
        "res224_clip_u8_kinetics400-rgb.py']\n"
        'from uniformer_mm.datasets.config_utils import defer_augmentation'
        '  # noqa\n'
        'train_augment = defer_augmentation(_base_.train_augment)\n'
        "model = dict(data_preprocessor=dict(type='DeviceAugmentPreprocessor'"
        '))\n')
    cfg = knob_config(str(cfg_file))
    assert cfg.model.data_preprocessor.type == 'DeviceAugmentPreprocessor'
    assert cfg.model.data_preprocessor.mean == [114.75] * 3
    inner = cfg.train_dataloader.dataset.pipeline[-1]['transforms']
    assert [t.get('defer') for t in inner if t['type'] in (
        'VideoRandAugment', 'FusedRandomResizedCropFlip')] == [True, True]
    assert DEFERRED_KEY in inner[-1]['meta_keys']
    skip = dict(skip=['data_paths', 'annotations', 'checkpoints'])
    cfg.config_checks = skip
    check_config(cfg)  # consistent: no error
    cfg.model.data_preprocessor.type = 'ActionDataPreprocessor'
    with pytest.raises(ConfigCheckError, match='DeviceAugmentPreprocessor'):
        check_config(cfg)
    # the old line on a loader whose pipeline is a knob reference: an error
    # that says what to write, not a silent no-op
    old = Config.fromfile(str(repo / 'configs' / 'uniformerv2' /
                              'uniformerv2-base-p16-res224_clip_u8_'
                              'kinetics400-rgb.py'))
    with pytest.raises(ValueError, match=r'train_augment = defer_augmentation'
                       r'\(_base_\.train_augment\)'):
        defer_augmentation(old.train_dataloader)


def test_training_step_with_device_augmentation():
    """The dense V1 recipe of kinetics400_dense.py (2 repeated
    augmentations, random erasing) with the augmentation deferred, on the
    real clip through a DataLoader worker and repeat_pseudo_collate: a tiny
    UniFormer takes one optimizer step."""
    from mmaction.datasets import repeat_pseudo_collate
    from mmengine.optim import OptimWrapper
    from _paths import analysis_tool
    pipelines = analysis_tool('pipelines')
    DENSE_PIPELINE_CONFIG = pipelines.DENSE_PIPELINE_CONFIG
    config_pipelines = pipelines.config_pipelines
    from uniformer_mm.datasets.config_utils import update_transforms
    pipe = config_pipelines(DENSE_PIPELINE_CONFIG)['train']
    pipe = update_transforms(  # small: 8 frames, 64 px
        pipe, OfficialDenseSample=dict(clip_len=8, frame_interval=4),
        Resize=dict(scale=(-1, 80)),
        FusedRandomResizedCropFlip=dict(scale=64))
    pipeline = Compose(defer_augmentation(pipe))

    class Clips(torch.utils.data.Dataset):

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return pipeline(dict(filename=str(KINETICS), label=i,
                                 start_index=0, modality='RGB'))

    loader = torch.utils.data.DataLoader(
        Clips(), batch_size=2, num_workers=1, collate_fn=repeat_pseudo_collate,
        multiprocessing_context='fork')
    batch = next(iter(loader))
    assert len(batch['inputs']) == 4  # 2 videos x 2 repeats
    assert batch['inputs'][0].shape == (1, 3, 8, 80, 106)  # not cropped
    model = MODELS.build(dict(
        type='Recognizer3D',
        backbone=dict(type='UniFormerVideo', arch=dict(
            embed_dims=[16, 32, 64, 64], depths=[1, 1, 1, 1],
            head_dim=16)),
        cls_head=dict(type='I3DHead', in_channels=64, num_classes=4),
        data_preprocessor=dict(type='DeviceAugmentPreprocessor', mean=MEAN,
                               std=STD, format_shape='NCTHW')))
    data = model.data_preprocessor(copy.deepcopy(batch), training=True)
    assert data['inputs'].shape == (4, 1, 3, 8, 64, 64)
    # the repeats of one video got different crops
    assert not torch.equal(data['inputs'][0], data['inputs'][1])
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = [p.detach().clone() for p in model.parameters()]
    losses = model.train_step(batch, optim)
    assert torch.isfinite(losses['loss'])
    assert any(not p.detach().equal(b)
               for p, b in zip(model.parameters(), before))

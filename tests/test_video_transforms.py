"""Video augmentations: VideoRandAugment, VideoRandomErasing,
FusedRandomResizedCropFlip, RepeatClips, mixup/cutmix blending and label
smoothing on CPU, LabelMapVideoDataset, and a full train pipeline on a real
video."""
import copy
import random

import cv2
import numpy as np
import pytest
import torch

import uniformer_mm  # noqa: F401  (registers transforms, applies compat)
from mmaction.registry import DATASETS, MODELS, TRANSFORMS
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from uniformer_mm.datasets.transforms import rand_augment as ra
from uniformer_mm.datasets.transforms import (FusedRandomResizedCropFlip,
                                              RepeatClips, VideoRandAugment,
                                              VideoRandomErasing)
from uniformer_mm.datasets.transforms._clip import as_clip

from uniformer_mm.label_maps import read_channel_map, read_label_map

from _paths import KINETICS_CLIP as VIDEO
from _paths import TEST_JPG, label_map
ALL_OPS = sorted(ra.NAME_TO_OP)


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')


@pytest.fixture(scope='module')
def clip():
    """16 real frames (every 4th) of the Kinetics video, (16, 256, 340, 3)."""
    import decord
    vr = decord.VideoReader(str(VIDEO))
    return vr.get_batch(list(range(0, 64, 4))).asnumpy()


@pytest.fixture(scope='module')
def small_clip(clip):
    """8 frames at 96x128: fast for exhaustive op tests."""
    return np.stack([cv2.resize(f, (128, 96)) for f in clip[:8]])


def _results(clip):
    shape = clip[0].shape[:2]
    return dict(imgs=clip, img_shape=shape, modality='RGB')


# ---------------------------------------------------------------- RandAug
def test_parse_rand_config():
    cfg = ra.parse_rand_config('rand-m7-n4-mstd0.5-inc1')
    assert cfg['magnitude'] == 7 and cfg['num_layers'] == 4
    assert cfg['magnitude_std'] == 0.5 and cfg['increasing']
    t = VideoRandAugment('rand-m7-n4-mstd0.5-inc1')
    assert t.ops == ra.RAND_INCREASING_TRANSFORMS and t.prob == 0.5
    t = VideoRandAugment('rand')  # timm defaults: m10, n2, no inc
    assert (t.magnitude, t.num_layers, t.magnitude_std) == (10, 2, 0)
    assert t.ops == ra.RAND_TRANSFORMS
    t = VideoRandAugment('rand-m5-n2-mstd0.25')
    assert (t.magnitude, t.num_layers, t.magnitude_std) == (5, 2, 0.25)
    t = VideoRandAugment('rand-m9-mstd0.5-inc1-mmax9-p0.3')
    assert t.magnitude_max == 9 and t.prob == 0.3
    t = VideoRandAugment('rand-w0-n3')
    assert t.choice_weights is not None
    assert t.choice_weights[t.ops.index('Invert')] == 0
    with pytest.raises(ValueError):
        VideoRandAugment('auto-m7')
    with pytest.raises(ValueError):
        VideoRandAugment('rand-q3')


@pytest.mark.parametrize('op', ALL_OPS)
def test_each_op_same_params_for_every_frame(op, small_clip):
    """An op with fixed arguments gives every frame exactly what it gives
    that frame alone (nothing mixes frames), identical frames stay
    identical, and the input is not modified."""
    np.random.seed(1)
    args = ra.level_to_args(op, 7.)
    before = small_clip.copy()
    out = ra.apply_op(small_clip, op, args, interpolation='bicubic')
    assert out.shape == small_clip.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(small_clip, before)
    for i in (0, 3, 7):
        alone = ra.apply_op(small_clip[i:i + 1].copy(), op, args,
                            interpolation='bicubic')
        np.testing.assert_array_equal(out[i], alone[0])
    same = np.repeat(small_clip[:1], 4, axis=0)
    out = ra.apply_op(same, op, args, interpolation='bicubic')
    for i in range(1, 4):
        np.testing.assert_array_equal(out[0], out[i])


def test_identical_frames_stay_identical(clip):
    """Whole RandAugment (all draws), a clip of one repeated frame."""
    same = np.repeat(clip[5:6], 6, axis=0)
    t = VideoRandAugment('rand-m9-n4-mstd0.5-inc1', prob=1.0)
    seen = set()
    for seed in range(25):
        np.random.seed(seed)
        params = t.get_params()
        seen.update(p[0] for p in params)
        out = t.apply(same, params)
        for i in range(1, 6):
            np.testing.assert_array_equal(out[0], out[i])
    assert len(seen) >= 10  # many different ops were exercised


def test_determinism_under_seed(clip):
    t = TRANSFORMS.build(dict(type='VideoRandAugment'))
    outs = []
    for seed in (3, 3, 4):
        np.random.seed(seed)
        random.seed(seed)
        outs.append(t(_results(list(clip)))['imgs'])
    np.testing.assert_array_equal(outs[0], outs[1])
    params = []
    for seed in range(20):
        np.random.seed(seed)
        params.append(t.get_params())
    assert len({repr(p) for p in params}) > 10


def test_params_distribution():
    """timm semantics: n ops with replacement, each fires with p=0.5,
    magnitude ~ N(m, mstd) clipped to [0, 10], signs +-."""
    t = VideoRandAugment('rand-m7-n4-mstd0.5-inc1')
    np.random.seed(0)
    fired, rot, mags = 0, [], []
    n = 3000
    for _ in range(n):
        params = t.get_params()
        fired += len(params)
        rot += [p[1][0] for p in params if p[0] == 'Rotate']
        # ShearX arg = level / 10 * 0.3 * sign
        mags += [abs(p[1][0]) / 0.3 * 10 for p in params if p[0] == 'ShearX']
    assert abs(fired / n - 2.0) < 0.1  # 4 ops x p 0.5
    rot = np.array(rot)
    assert 0.4 < (rot > 0).mean() < 0.6
    assert abs(np.mean(np.abs(rot)) - 21.) < 0.5  # 7 / 10 * 30 degrees
    mags = np.array(mags)
    assert abs(mags.mean() - 7) < 0.1 and abs(mags.std() - 0.5) < 0.1
    t = VideoRandAugment('rand-m10-n2-mstd3')
    np.random.seed(0)
    levels = []
    for _ in range(500):
        levels += [abs(p[1][0]) / 0.3 * 10 for p in t.get_params()
                   if p[0] in ('ShearX', 'ShearY')]
    assert max(levels) <= 10 + 1e-9  # clipped to the max level


@pytest.mark.parametrize('op', [
    'Rotate', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel',
    'PosterizeIncreasing', 'SolarizeIncreasing', 'SolarizeAdd',
    'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing',
    'SharpnessIncreasing'
])
def test_increasing_ops_grow_with_magnitude(op, small_clip):
    """inc1 ops: the change grows with the magnitude; at magnitude 0 all but
    PosterizeIncreasing (4 bits kept, timm) are the identity."""
    diffs = []
    for level in (0., 3., 6., 9.):
        np.random.seed(0)  # same sign for every level
        args = ra.level_to_args(op, level)
        out = ra.apply_op(small_clip, op, args, interpolation='bicubic')
        diffs.append(np.abs(out.astype(int) - small_clip).mean())
    if op != 'PosterizeIncreasing':
        assert diffs[0] == 0, (op, diffs)
    assert all(a < b for a, b in zip(diffs, diffs[1:])), (op, diffs)


def test_magnitude_controls_strength(clip):
    """Whole transform: stronger magnitude -> larger change on average."""
    res = {}
    for m in (1, 9):
        t = VideoRandAugment(f'rand-m{m}-n2-inc1', prob=1.0)
        np.random.seed(0)
        res[m] = np.mean([
            np.abs(t.apply(clip[:2], t.get_params()).astype(int) -
                   clip[:2]).mean() for _ in range(30)
        ])
    assert res[9] > res[1] * 1.5


def test_pil_geometry(small_clip):
    """Rotation = counter-clockwise about the image centre (PIL), integer
    translations shift exactly, with the fill colour."""
    h, w = small_clip.shape[1:3]
    out = ra.apply_op(small_clip, 'Rotate', (20., ), 'bilinear')
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), 20., 1.)
    ref = cv2.warpAffine(small_clip[0], m, (w, h), flags=cv2.INTER_LINEAR,
                         borderValue=(128, 128, 128))
    assert np.abs(out[0].astype(int) - ref).max() <= 1
    out = ra.apply_op(small_clip, 'TranslateX', (10., ), 'bicubic',
                      fill=(1, 2, 3))
    # PIL (1, 0, 10, 0, 1, 0): out(x) = in(x + 10): content moves left
    np.testing.assert_array_equal(out[:, :, :w - 10], small_clip[:, :, 10:])
    assert (out[:, :, w - 10:] == np.array([1, 2, 3], np.uint8)).all()
    out = ra.apply_op(small_clip, 'TranslateYRel', (-0.25, ), 'bilinear')
    np.testing.assert_array_equal(out[:, 24:], small_clip[:, :h - 24])
    assert (out[:, :24] == 128).all()


def test_lut_ops_match_pil_formulas(small_clip):
    x = small_clip
    np.testing.assert_array_equal(ra.invert(x), 255 - x)
    np.testing.assert_array_equal(ra.posterize(x, 3), x & 0b11100000)
    np.testing.assert_array_equal(ra.posterize(x, 0), np.zeros_like(x))
    np.testing.assert_array_equal(
        ra.solarize(x, 100), np.where(x < 100, x, 255 - x))
    np.testing.assert_array_equal(
        ra.solarize_add(x, 50),
        np.where(x < 128, np.minimum(x.astype(int) + 50, 255), x))
    np.testing.assert_array_equal(
        ra.brightness(x, 1.4), np.clip(x * 1.4, 0, 255).astype(np.uint8))
    # AutoContrast: every frame and channel stretched to [0, 255]
    low = (x // 2 + 40).astype(np.uint8)
    out = ra.auto_contrast(low)
    assert (out.reshape(8, -1, 3).min(1) == 0).all()
    assert (out.reshape(8, -1, 3).max(1) == 255).all()
    # Equalize: PIL's algorithm for one band, written out plainly
    band = x[2, ..., 1]
    hist = np.bincount(band.ravel(), minlength=256)
    nz = [v for v in hist if v]
    step = (sum(nz) - nz[-1]) // 256
    n, lut = step // 2, []
    for i in range(256):
        lut.append(min(n // step, 255))
        n += hist[i]
    np.testing.assert_array_equal(
        ra.equalize(x)[2, ..., 1], np.array(lut, np.uint8)[band])
    # Contrast / Color / Sharpness with factor 1 are the identity
    for op in (ra.contrast, ra.color, ra.sharpness):
        np.testing.assert_array_equal(op(x, 1.0), x)
    # Color factor 0 = grey image
    gray = ra.color(x, 0.)
    assert (gray[..., 0] == gray[..., 1]).all()


def test_composed_affine_equals_sequence(small_clip):
    """Consecutive geometric ops are composed into one warp: same geometry
    as applying them one after the other (up to interpolation)."""
    params = [('TranslateX', (8., ), 'bilinear'),
              ('TranslateY', (-5., ), 'bilinear'),
              ('Rotate', (0., ), 'bilinear')]
    t = VideoRandAugment()
    fused = t.apply(small_clip, params)
    t.compose_affine = False
    seq = t.apply(small_clip, params)
    np.testing.assert_array_equal(fused, seq)  # integer shifts: exact
    params = [('Rotate', (15., ), 'bicubic'), ('ShearX', (0.2, ), 'bicubic')]
    t.compose_affine = True
    fused = t.apply(small_clip, params)
    t.compose_affine = False
    seq = t.apply(small_clip, params)
    inner = (slice(None), slice(20, -20), slice(25, -25))
    assert np.abs(fused[inner].astype(int) - seq[inner]).mean() < 3


def test_image_key_and_mmpretrain_registry():
    from mmpretrain.registry import TRANSFORMS as PRETRAIN_TRANSFORMS
    img = cv2.imread(str(TEST_JPG))
    t = PRETRAIN_TRANSFORMS.build(
        dict(type='VideoRandAugment', config_str='rand-m9-mstd0.5-inc1',
             channel_order='bgr', fill=(104, 116, 124), prob=1.0))
    np.random.seed(0)
    out = t(dict(img=img, img_shape=img.shape[:2]))
    assert out['img'].shape == img.shape and out['img'].dtype == np.uint8
    e = PRETRAIN_TRANSFORMS.build(
        dict(type='VideoRandomErasing', probability=1.0))
    out = e(dict(img=img.copy(), img_shape=img.shape[:2]))
    assert out['img'].shape == img.shape
    assert not np.array_equal(out['img'], img)


def test_as_clip_reuses_decoder_array(clip):
    frames = list(clip)
    assert as_clip(frames) is clip  # no copy of DecordDecode's output
    stacked = as_clip([f.copy() for f in frames])
    np.testing.assert_array_equal(stacked, clip)
    assert as_clip(frames[::2]).shape == (8, 256, 340, 3)


# ---------------------------------------------------------------- erasing
def test_random_erasing_same_box_every_frame(clip):
    t = VideoRandomErasing(probability=1.0, mode='pixel')
    for seed in range(10):
        np.random.seed(seed)
        src = clip[:8].copy()
        out = t(_results(src))
        assert np.array_equal(src, clip[:8])  # input untouched
        imgs = out['imgs']
        (top, left, h, w), = out['erase_boxes']
        changed = (imgs != clip[:8]).any(-1)  # (T, H, W)
        box = np.zeros(changed.shape[1:], bool)
        box[top:top + h, left:left + w] = True
        assert not changed[:, ~box].any()  # nothing outside the box
        assert changed[:, box].mean() > 0.9  # (almost) all of the box
        # pixel mode: new noise in every frame, same box
        assert not np.array_equal(imgs[0][box], imgs[1][box])
        area = h * w / (256 * 340)
        assert 0.02 * 0.9 <= area <= 1 / 3 * 1.1
        assert 0.3 * 0.8 <= h / w <= 1 / 0.3 * 1.25


def test_random_erasing_modes_and_stats(clip):
    np.random.seed(0)
    out = VideoRandomErasing(probability=1.0, min_area=0.3, max_area=0.3)(
        _results(clip[:4].copy()))
    (top, left, h, w), = out['erase_boxes']
    patch = out['imgs'][:, top:top + h, left:left + w].astype(np.float64)
    assert abs(patch.mean() - 114.75) < 3  # N(0,1) * std + mean
    assert 45 < patch.std() < 60
    out = VideoRandomErasing(probability=1.0, mode='const')(
        _results(clip[:4].copy()))
    (top, left, h, w), = out['erase_boxes']
    assert (out['imgs'][:, top:top + h, left:left + w] == 115).all()
    out = VideoRandomErasing(probability=1.0, mode='rand')(
        _results(clip[:4].copy()))
    (top, left, h, w), = out['erase_boxes']
    patch = out['imgs'][:, top:top + h, left:left + w]
    assert (patch == patch[:, :1, :1]).all()  # one colour per frame
    # probability 0: untouched (same object)
    src = clip[:4].copy()
    assert VideoRandomErasing(probability=0.)(_results(src))['imgs'] is src
    # determinism and probability
    outs = []
    for _ in range(2):
        np.random.seed(7)
        outs.append(VideoRandomErasing(probability=1.0)(
            _results(clip[:4].copy()))['imgs'])
    np.testing.assert_array_equal(outs[0], outs[1])
    np.random.seed(0)
    t = VideoRandomErasing(probability=0.25)
    hits = sum(bool(t.get_boxes(224, 224)) for _ in range(2000))
    assert 0.2 < hits / 2000 < 0.3
    np.random.seed(0)
    t = VideoRandomErasing(probability=1., min_count=1, max_count=3)
    counts = {len(t.get_boxes(224, 224)) for _ in range(200)}
    assert counts == {1, 2, 3}


# ---------------------------------------------------------------- crop
@pytest.mark.parametrize('flip_ratio', [0., 0.5, 1.])
@pytest.mark.parametrize('interpolation', ['bilinear', 'bicubic'])
def test_fused_crop_matches_mmaction_chain(clip, flip_ratio, interpolation):
    fused = Compose([
        dict(type='Resize', scale=(-1, 256)),
        dict(type='FusedRandomResizedCropFlip', scale=224,
             flip_ratio=flip_ratio, interpolation=interpolation)
    ])
    chain = Compose([
        dict(type='Resize', scale=(-1, 256)),
        dict(type='RandomResizedCrop'),
        dict(type='Resize', scale=(224, 224), keep_ratio=False,
             interpolation=interpolation),
        dict(type='Flip', flip_ratio=flip_ratio)
    ])
    flips = set()
    for seed in range(8):
        outs = []
        for pipe in (fused, chain):
            np.random.seed(seed)
            random.seed(seed)
            outs.append(pipe(_results(list(clip.copy()))))
        a, b = outs
        np.testing.assert_array_equal(a['imgs'], np.stack(b['imgs']))
        for key in ('crop_bbox', 'crop_quadruple', 'scale_factor'):
            np.testing.assert_allclose(a[key], b[key], rtol=1e-6)
        assert a['img_shape'] == b['img_shape'] == (224, 224)
        assert a['flip'] == b['flip']
        flips.add(a['flip'])
    assert flips == ({False} if flip_ratio == 0 else
                     {True} if flip_ratio == 1 else {True, False})


def test_fused_crop_non_square_and_views(clip):
    t = FusedRandomResizedCropFlip(scale=(160, 128), area_range=(0.5, 1.))
    np.random.seed(0)
    out = t(_results(clip[:3].copy()))
    assert out['imgs'].shape == (3, 128, 160, 3)
    assert out['img_shape'] == (128, 160)


# ---------------------------------------------------------------- repeats
def test_repeat_clips_and_collate(clip):
    from mmaction.datasets import repeat_pseudo_collate
    t = TRANSFORMS.build(
        dict(type='RepeatClips', num_repeats=3, transforms=[
            dict(type='FusedRandomResizedCropFlip', scale=64),
            dict(type='Flip', flip_ratio=1.),  # in place: must not leak
            dict(type='FormatShape', input_format='NCTHW'),
            dict(type='PackActionInputs')
        ]))
    res = dict(_results(list(clip[:4].copy())), label=5, num_clips=1,
               clip_len=4)
    np.random.seed(0)
    random.seed(0)
    outs = t(res)
    assert isinstance(outs, list) and len(outs) == 3
    np.testing.assert_array_equal(np.stack(res['imgs']), clip[:4])
    shapes = {tuple(o['inputs'].shape) for o in outs}
    assert shapes == {(1, 3, 4, 64, 64)}
    assert not torch.equal(outs[0]['inputs'], outs[1]['inputs'])
    assert all(o['data_samples'].gt_label.item() == 5 for o in outs)
    batch = repeat_pseudo_collate([outs, copy.deepcopy(outs)])
    assert len(batch['inputs']) == 6


def test_repeat_aug_dataset_alternative_exists():
    """mmaction2's RepeatAugDataset (decord only, a VideoDataset subclass)
    is there; RepeatClips covers it plus frame folders and ConcatDataset."""
    assert DATASETS.get('RepeatAugDataset') is not None


# ---------------------------------------------------------------- blending
def test_mixup_cutmix_label_smoothing_on_cpu():
    from mmaction.structures import ActionDataSample
    pre = MODELS.build(
        dict(type='ActionDataPreprocessor',
             mean=[114.75] * 3, std=[57.375] * 3, format_shape='NCTHW',
             blending=dict(
                 type='RandomBatchAugment',
                 augments=[
                     dict(type='MixupBlending', alpha=0.8, num_classes=10),
                     dict(type='CutmixBlending', alpha=1.0, num_classes=10)
                 ])))
    head = MODELS.build(
        dict(type='I3DHead', num_classes=10, in_channels=8,
             label_smooth_eps=0.1, average_clips='prob'))
    kinds = set()
    torch.manual_seed(0)
    for seed in range(6):
        np.random.seed(seed)
        data = dict(
            inputs=[torch.randint(0, 256, (1, 3, 4, 32, 32), dtype=torch.uint8)
                    for _ in range(4)],
            data_samples=[
                ActionDataSample().set_gt_label(i) for i in range(4)
            ])
        out = pre(data, training=True)
        labels = torch.stack([d.gt_label for d in out['data_samples']])
        assert out['inputs'].shape == (4, 1, 3, 4, 32, 32)
        assert labels.shape == (4, 10)
        torch.testing.assert_close(labels.sum(1), torch.ones(4))
        # mixup blends everywhere, cutmix keeps some pixels exactly
        kinds.add(int((labels > 0).sum(1).max()))
        feats = torch.randn(4, 8, 1, 2, 2)
        loss = head.loss(feats, out['data_samples'])['loss_cls']
        assert torch.isfinite(loss) and loss > 0
    assert max(kinds) == 2  # two classes mixed per sample


# ---------------------------------------------------------------- K710 list
def test_label_map_video_dataset(tmp_path):
    k600 = read_channel_map(label_map('k710_channel_map_k600.json'))
    names710 = read_label_map(label_map('kinetics710.txt'))
    names600 = read_label_map(label_map('kinetics600.txt'))
    (tmp_path / 'k400.txt').write_text(
        'a/AAAAAAAAAAA_000001_000011.mp4 3\n')
    (tmp_path / 'val.txt').write_text('b/BBBBBBBBBBB_000002_000012.mp4 7\n')
    (tmp_path / 'k600.txt').write_text(
        'x/AAAAAAAAAAA_000001_000011.mp4 1\n'  # in k400: dropped
        'x/BBBBBBBBBBB_000002_000012.mp4 2\n'  # val video: dropped
        'x/CCCCCCCCCCC_000003_000013.mp4 1\n'
        'x/DDDDDDDDDDD.mp4 318\n')
    ds = DATASETS.build(
        dict(type='LabelMapVideoDataset', ann_file=str(tmp_path / 'k600.txt'),
             pipeline=[], channel_map=label_map('k710_channel_map_k600.json'),
             exclude_lists=[str(tmp_path / 'k400.txt'),
                            str(tmp_path / 'val.txt')]))
    assert len(ds) == 2
    labels = [ds.get_data_info(i)['label'] for i in range(2)]
    assert labels == [k600[1], k600[318]]
    assert names710[labels[0]] == names600[1] == 'acting in play'
    # renamed class: 'picking fruit' (K600) -> 'picking apples' (K710)
    assert names600[318] == 'picking fruit'
    assert names710[labels[1]] == 'picking apples'


# ---------------------------------------------------------------- pipeline
@pytest.mark.parametrize('sampler', [
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1),
    dict(type='UniformSample', clip_len=8, num_clips=1)
])
def test_full_train_pipeline_on_real_video(sampler):
    pipeline = Compose([
        dict(type='DecordInit'), sampler,
        dict(type='DecordDecode'),
        dict(type='RepeatClips', num_repeats=2, transforms=[
            dict(type='Resize', scale=(-1, 256)),
            dict(type='VideoRandAugment',
                 config_str='rand-m7-n4-mstd0.5-inc1'),
            dict(type='FusedRandomResizedCropFlip', scale=224),
            dict(type='VideoRandomErasing', probability=0.25),
            dict(type='FormatShape', input_format='NCTHW'),
            dict(type='PackActionInputs')
        ])
    ])
    t = sampler['clip_len']
    np.random.seed(0)
    random.seed(0)
    outs = pipeline(dict(filename=str(VIDEO), label=2, start_index=0,
                         modality='RGB'))
    assert len(outs) == 2
    for out in outs:
        assert out['inputs'].shape == (1, 3, t, 224, 224)
        assert out['inputs'].dtype == torch.uint8
        assert out['data_samples'].gt_label.item() == 2
    assert not torch.equal(outs[0]['inputs'], outs[1]['inputs'])

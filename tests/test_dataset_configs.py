"""Every data set base config (configs/_base_/datasets): it parses, its
train / val / test pipelines build and run through the real data set
classes on real videos (frame folders for Something-Something V1 and V2, an
image for ImageNet), and the outputs have the recipe's frames, crop size and
views (clips x crops)."""
import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

import uniformer_mm  # noqa: F401  (registers transforms, applies compat)
from mmengine.config import Config
from mmengine.registry import init_default_scope

from uniformer_mm.label_maps import read_channel_map, read_label_map

from _paths import FRAMES, REPO, TEST_JPG, VIDEOS
from uniformer_mm.engine.config_knobs import load_config as knob_config  # noqa: E501
BASE = REPO / 'configs' / '_base_' / 'datasets'
#: the shared bases the data set files inherit (not data sets themselves)
SHARED_BASES = ('kinetics_style', 'dense_v1', 'something_something')
VIDEO_CONFIGS = sorted(p.stem for p in BASE.glob('*.py')
                       if not p.stem.startswith('imagenet')
                       and p.stem not in SHARED_BASES)

# recipe expectations: frames, crop, test clips, test crops, repeats,
# flip ratio, random erasing probability, RandAugment, classes
EXPECTED = {
    'kinetics400': (8, 224, 4, 3, 1, .5, 0., 'rand-m7-n4-mstd0.5-inc1', 400),
    'kinetics600': (8, 224, 4, 3, 1, .5, 0., 'rand-m7-n4-mstd0.5-inc1', 600),
    'kinetics700': (8, 224, 4, 3, 1, .5, 0., 'rand-m7-n4-mstd0.5-inc1', 700),
    'kinetics710': (8, 224, 4, 3, 1, .5, 0., 'rand-m7-n4-mstd0.5-inc1', 710),
    'mit': (8, 224, 4, 3, 1, .5, 0., 'rand-m7-n4-mstd0.5-inc1', 339),
    'activitynet': (16, 224, 10, 3, 1, .5, 0., 'rand-m7-n4-mstd0.5-inc1',
                    200),
    'hacs': (16, 224, 10, 3, 1, .5, 0., 'rand-m7-n4-mstd0.5-inc1', 200),
    'kinetics400_dense': (16, 224, 4, 1, 2, .5, .25,
                          'rand-m7-n4-mstd0.5-inc1', 400),
    'kinetics600_dense': (16, 224, 4, 1, 2, .5, .25,
                          'rand-m7-n4-mstd0.5-inc1', 600),
    'ucf101': (16, 224, 5, 3, 2, .5, .25, 'rand-m5-n2-mstd0.25', 101),
    'hmdb51': (16, 224, 5, 3, 2, .5, .25, 'rand-m5-n2-mstd0.25', 51),
    'sthv1': (16, 224, 1, 3, 2, 0., .25, 'rand-m7-n4-mstd0.5-inc1', 174),
    'sthv2': (16, 224, 1, 3, 2, 0., .25, 'rand-m7-n4-mstd0.5-inc1', 174),
    'kinetics400_light': (16, 160, 1, 1, 2, .5, .25, 'rand-m5-n2-mstd0.25',
                          400),
}


def test_every_config_is_covered():
    assert set(VIDEO_CONFIGS) == set(EXPECTED)
    assert (BASE / 'imagenet_bs128_uniformer.py').exists()


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    random.seed(0)


def _load(name):
    return knob_config(str(BASE / f'{name}.py'))


def _transforms(pipeline):
    """Flat list of the transform dicts (RepeatClips opened)."""
    out = []
    for t in pipeline:
        out.append(t)
        out.extend(_transforms(t.get('transforms', [])))
    return out


@pytest.fixture(scope='module')
def frame_dir(tmp_path_factory):
    """A Something-Something V1 style frame folder (00001.jpg, ...) of 30
    frames made of links to the JPEG frames of tests/data."""
    root = tmp_path_factory.mktemp('sthv1')
    folder = root / 'rawframes' / '1'
    folder.mkdir(parents=True)
    frames = sorted(FRAMES.glob('img_*.jpg'))
    for i in range(30):
        os.symlink(frames[i % len(frames)], folder / f'{i + 1:05}.jpg')
        # Something-Something V2 frames at 30 fps: img_00001.jpg, ...
        os.symlink(frames[i % len(frames)], folder / f'img_{i + 1:05}.jpg')
    return root


def _member_datasets(dataset):
    return dataset['datasets'] if dataset['type'] == 'ConcatDataset' \
        else [dataset]


def _point_to_real_data(dataset, tmp_path, frame_dir, name, split):
    """Make a data set config read the videos / frames of tests/data: a
    one-line annotation list (the K710 channel maps are the config's own,
    shipped with the package)."""
    dataset = dict(dataset)
    ann = tmp_path / f'{name}_{split}_{id(dataset)}.txt'
    if dataset['type'] == 'RawframeDataset':
        ann.write_text('1 30 5\n')
        dataset['data_prefix'] = dict(img=str(frame_dir / 'rawframes'))
    else:
        video = 'kinetics_arm_wrestling.mp4' if 'kinetics' in name else \
            'test.mp4' if name in ('mit', 'sthv2') else 'test.avi'
        ann.write_text(f'{video} 5\n')
        dataset['data_prefix'] = dict(video=str(VIDEOS))
    dataset['ann_file'] = str(ann)
    if dataset['type'] == 'LabelMapVideoDataset':
        empty = tmp_path / 'empty.txt'
        empty.write_text('')
        dataset['exclude_lists'] = [str(empty)]
    return dataset


@pytest.mark.parametrize('name', VIDEO_CONFIGS)
def test_video_dataset_config(name, tmp_path, frame_dir):
    from mmaction.registry import DATASETS
    init_default_scope('mmaction')
    cfg = _load(name)
    (frames, crop, clips, crops, repeats, flip, erase, randaug,
     num_classes) = EXPECTED[name]
    # the knobs at the top agree with the recipe ...
    assert cfg.clip_len == frames and cfg.crop_size == crop
    assert cfg.num_test_clips == clips and cfg.num_repeats == repeats
    assert cfg.flip_ratio == flip and cfg.random_erasing_prob == erase
    assert cfg.rand_augment == randaug and cfg.num_classes == num_classes
    assert cfg.blending.augments[0].num_classes == num_classes
    # the shipped label map names exactly the data set's classes
    assert len(read_label_map(cfg.label_map)) == num_classes
    # ... and are what the built pipelines use
    train = _transforms(
        _member_datasets(cfg.train_dataloader.dataset)[0].pipeline)
    by_type = {t['type']: t for t in train}
    assert by_type['RepeatClips']['num_repeats'] == repeats
    assert by_type['VideoRandAugment']['config_str'] == randaug
    assert by_type['FusedRandomResizedCropFlip']['flip_ratio'] == flip
    assert by_type['VideoRandomErasing']['probability'] == erase
    assert cfg.train_dataloader.collate_fn.type == 'repeat_pseudo_collate'
    assert cfg.val_evaluator.type == 'AccMetric'

    for split, loader in (('train', cfg.train_dataloader),
                          ('val', cfg.val_dataloader),
                          ('test', cfg.test_dataloader)):
        members = _member_datasets(loader.dataset)
        if name == 'kinetics710':
            assert len(members) == 3
            assert [m.type for m in members] == ['LabelMapVideoDataset'] * 3
        ds_cfg = _point_to_real_data(members[-1], tmp_path, frame_dir, name,
                                     split)
        dataset = DATASETS.build(ds_cfg)
        assert len(dataset) == 1
        out = dataset[0]
        if split == 'train':
            assert isinstance(out, list) and len(out) == repeats
            for o in out:
                assert tuple(o['inputs'].shape) == (1, 3, frames, crop, crop)
                assert o['inputs'].dtype == torch.uint8
            out = out[0]
            views = 1
        elif split == 'val':
            views = 1
        else:
            views = clips * crops
        if split != 'train':
            assert tuple(out['inputs'].shape) == (views, 3, frames, crop,
                                                  crop)
        label = out['data_samples'].gt_label.item()
        if name == 'kinetics710':  # K700 class 5 in K710 labels
            cmap = read_channel_map(
                'uniformer_mm::label_maps/k710_channel_map_k700.json')
            assert label == cmap[5]
        else:
            assert label == 5


def test_train_loader_batches_repeated_clips(tmp_path, frame_dir):
    """Runner-built train loader: batch of 2 videos -> 2 x 2 clips, and the
    recipe's blending runs on it on CPU."""
    from mmaction.registry import MODELS
    from mmengine.runner import Runner
    init_default_scope('mmaction')
    cfg = _load('kinetics400_dense')
    loader = cfg.train_dataloader.copy()
    ds = _point_to_real_data(loader.dataset, tmp_path, frame_dir,
                             'kinetics400_dense', 'train')
    Path(ds['ann_file']).write_text('kinetics_arm_wrestling.mp4 1\n'
                                    'test.mp4 3\n')
    loader.update(dataset=ds, batch_size=2, num_workers=0,
                  persistent_workers=False)
    data_loader = Runner.build_dataloader(loader, seed=0)
    batch = next(iter(data_loader))
    assert len(batch['inputs']) == 4
    assert sorted(d.gt_label.item() for d in batch['data_samples']) == \
        [1, 1, 3, 3]
    pre = MODELS.build(
        dict(type='ActionDataPreprocessor', mean=cfg.norm_mean,
             std=cfg.norm_std, format_shape='NCTHW',
             blending=cfg.blending.to_dict()))
    out = pre(batch, training=True)
    assert out['inputs'].shape == (4, 1, 3, 16, 224, 224)
    assert out['data_samples'][0].gt_label.shape == (400, )


def test_knobs_in_a_child_config(tmp_path, frame_dir):
    """The documented override: a child config changes the frames, views,
    repeats and random erasing of a base by setting its knobs
    (configs/README.md; ``update_transforms`` for a step the knobs do not
    name)."""
    child = tmp_path / 'child.py'
    child.write_text(f'''
_base_ = ['{BASE / "sthv2.py"}']
from uniformer_mm.datasets.config_utils import update_transforms  # noqa

clip_len = 8
num_test_clips = 2
num_repeats = 3
test_crop = dict(type='OfficialCenterCrop')
train_augment = update_transforms(
    _base_.train_augment, VideoRandomErasing=None)
''')
    cfg = knob_config(str(child))
    assert 'update_transforms' not in cfg  # functions are dropped
    assert cfg.clip_len == 8
    train = _transforms(cfg.train_dataloader.dataset.pipeline)
    types = [t['type'] for t in train]
    assert 'VideoRandomErasing' not in types
    assert cfg.train_dataloader.batch_size == 8  # the rest is inherited
    init_default_scope('mmaction')
    from mmaction.registry import DATASETS
    shapes = {}
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        dataset = DATASETS.build(
            _point_to_real_data(loader.dataset, tmp_path, frame_dir, 'sthv2',
                                split))
        out = dataset[0]
        shapes[split] = [tuple(o['inputs'].shape) for o in out] \
            if split == 'train' else tuple(out['inputs'].shape)
    assert shapes['train'] == [(1, 3, 8, 224, 224)] * 3
    assert shapes['val'] == (1, 3, 8, 224, 224)
    assert shapes['test'] == (2, 3, 8, 224, 224)


def test_update_transforms_unit():
    from uniformer_mm.datasets.config_utils import update_transforms
    node = dict(a=[dict(type='X', k=1), dict(type='Y', k=2),
                   dict(type='R', transforms=[dict(type='X', k=3)])])
    new = update_transforms(node, X=dict(k=9), Y=None)
    assert new == dict(a=[dict(type='X', k=9),
                          dict(type='R', transforms=[dict(type='X', k=9)])])
    assert node['a'][0]['k'] == 1  # input untouched
    new = update_transforms(node, X=dict(type='Z'))
    assert new['a'][0] == dict(type='Z')


# ---------------------------------------------------------------- ImageNet
def test_imagenet_config(tmp_path):
    from mmpretrain.registry import DATASETS, MODELS
    init_default_scope('mmpretrain')
    cfg = _load('imagenet_bs128_uniformer')
    assert cfg.train_dataloader.batch_size == 128
    assert cfg.train_dataloader.sampler.type == 'RepeatAugSampler'
    ra = [t for t in cfg.train_pipeline if t['type'] == 'RandAugment'][0]
    assert ra['policies'] == 'timm_increasing'
    assert (ra['magnitude_level'], ra['magnitude_std'],
            ra['num_policies']) == (9, 0.5, 2)
    # an mmpretrain ImageNet folder with one image per split
    root = tmp_path / 'imagenet'
    for split in ('train', 'val'):
        (root / split / 'n01440764').mkdir(parents=True)
        os.symlink(TEST_JPG, root / split / 'n01440764' / 'a.jpg')
        (root / 'meta').mkdir(exist_ok=True)
        (root / 'meta' / f'{split}.txt').write_text('n01440764/a.jpg 7\n')
    outs = {}
    for split, loader in (('train', cfg.train_dataloader),
                          ('val', cfg.val_dataloader),
                          ('test', cfg.test_dataloader)):
        ds_cfg = loader.dataset.to_dict()
        ds_cfg['data_root'] = str(root)
        dataset = DATASETS.build(ds_cfg)
        assert len(dataset) == 1
        for _ in range(3 if split == 'train' else 1):
            out = dataset[0]
            assert tuple(out['inputs'].shape) == (3, 224, 224)
            assert out['inputs'].dtype == torch.uint8
            assert out['data_samples'].gt_label.item() == 7
        outs[split] = out
    # deterministic eval transform
    again = DATASETS.build(dict(cfg.val_dataloader.dataset.to_dict(),
                                data_root=str(root)))[0]
    assert torch.equal(again['inputs'], outs['val']['inputs'])
    # mixup / cutmix (model.train_cfg.augments) on CPU
    pre = MODELS.build(
        dict(type='ClsDataPreprocessor', num_classes=1000,
             mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
             to_rgb=True, batch_augments=cfg.model_train_cfg.to_dict()))
    batch = dict(inputs=[outs['train']['inputs']] * 4,
                 data_samples=[outs['train']['data_samples']] * 4)
    res = pre(batch, training=True)
    assert res['inputs'].shape == (4, 3, 224, 224)
    assert res['data_samples'][0].gt_score.shape == (1000, )
    loss = MODELS.build(cfg.train_loss)
    value = loss(torch.randn(4, 1000),
                 torch.stack([d.gt_score for d in res['data_samples']]))
    assert torch.isfinite(value)

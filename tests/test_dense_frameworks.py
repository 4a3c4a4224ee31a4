"""UniFormer dense-prediction models train and evaluate through the tools a
user runs (``tools/train.py`` / ``tools/test.py``), on CPU, in mmdet, mmseg
and mmpose, on data generated here:

* COCO-style instances (boxes + polygons) -> Mask R-CNN, COCO box/mask mAP;
* ADE20K-style images + PNG label maps -> UperNet, mIoU;
* COCO-style person keypoints -> top-down heatmap model, COCO AP.

Each run starts from a row config of ``configs/uniformer_*`` (so its mmdet /
mmseg / mmpose bases, heads and evaluators are the real ones) and changes
only the size: a tiny UniFormer arch, small images, two iterations, no
pretrained weights. Skipped where the dense packages are not installed.
"""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip('mmdet')
pytest.importorskip('mmseg')
pytest.importorskip('mmpose')
cv2 = pytest.importorskip('cv2')

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY = dict(depths=[1, 1, 4, 1], embed_dims=[16, 32, 64, 64], head_dim=16)
TINY_BACKBONE = (f"dict(arch=dict(_delete_=True, **{TINY!r}), drop_path_rate=0.1, window_size=3, "
                 "with_cp=[0, 0, 1, 0], init_cfg=None)")


def run_tool(tool, args, cwd, timeout=600):
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', tool)] + args, cwd=cwd,
        capture_output=True, text=True, timeout=timeout,
        env=dict(os.environ, PYTHONPATH=ROOT))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def metric(out, name):
    """The last value of ``name: x`` in a log."""
    values = re.findall(re.escape(name) + r':\s*(-?[\d.]+)', out)
    assert values, f'{name} not in the log:\n{out[-3000:]}'
    return float(values[-1])


def write_config(path, base, body):
    with open(path, 'w') as f:
        f.write(f'_base_ = [{osp.join(ROOT, base)!r}]\n' + body)
    return str(path)


# ------------------------------------------------------------------ data
def shapes_image(rng, h, w):
    img = (rng.random((h, w, 3)) * 60 + 40).astype(np.uint8)
    boxes = []
    for k in range(2):
        x0, y0 = int(rng.integers(4, w // 2)), int(rng.integers(4, h // 2))
        bw, bh = int(rng.integers(16, w // 2)), int(rng.integers(16, h // 2))
        x1, y1 = min(w - 2, x0 + bw), min(h - 2, y0 + bh)
        img[y0:y1, x0:x1] = (220, 40, 40) if k == 0 else (40, 220, 40)
        boxes.append((k, x0, y0, x1, y1))
    return img, boxes


def make_coco_instances(root, n=4, h=96, w=128):
    rng = np.random.default_rng(0)
    os.makedirs(root / 'images')
    images, anns = [], []
    for i in range(n):
        img, boxes = shapes_image(rng, h, w)
        cv2.imwrite(str(root / 'images' / f'{i}.jpg'), img)
        images.append(dict(id=i, file_name=f'{i}.jpg', height=h, width=w))
        for k, x0, y0, x1, y1 in boxes:
            anns.append(dict(
                id=len(anns) + 1, image_id=i, category_id=k + 1, iscrowd=0,
                bbox=[x0, y0, x1 - x0, y1 - y0],
                area=float((x1 - x0) * (y1 - y0)),
                segmentation=[[x0, y0, x1, y0, x1, y1, x0, y1]]))
    ann = dict(images=images, annotations=anns, categories=[
        dict(id=1, name='red'), dict(id=2, name='green')])
    (root / 'instances.json').write_text(json.dumps(ann))


def make_ade(root, n=4, size=64):
    rng = np.random.default_rng(1)
    for split in ('training', 'validation'):
        os.makedirs(root / 'images' / split)
        os.makedirs(root / 'annotations' / split)
        for i in range(n):
            img, boxes = shapes_image(rng, size, size)
            label = np.ones((size, size), np.uint8)  # class 0 after reduce
            for k, x0, y0, x1, y1 in boxes:
                label[y0:y1, x0:x1] = k + 2
            cv2.imwrite(str(root / 'images' / split / f'{i}.jpg'), img)
            cv2.imwrite(str(root / 'annotations' / split / f'{i}.png'), label)


def make_coco_keypoints(root, n=4, h=160, w=120):
    rng = np.random.default_rng(2)
    os.makedirs(root / 'images')
    images, anns = [], []
    for i in range(n):
        img = (rng.random((h, w, 3)) * 50).astype(np.uint8)
        x0, y0, bw, bh = 20, 16, 80, 128
        kpts = []
        for j in range(17):
            x = x0 + 8 + (j % 4) * 20 + int(rng.integers(0, 5))
            y = y0 + 8 + (j // 4) * 24 + int(rng.integers(0, 5))
            cv2.circle(img, (x, y), 3, (255, 255, 255), -1)
            kpts += [x, y, 2]
        cv2.imwrite(str(root / 'images' / f'{i}.jpg'), img)
        images.append(dict(id=i, file_name=f'{i}.jpg', height=h, width=w))
        anns.append(dict(id=i + 1, image_id=i, category_id=1, iscrowd=0,
                         bbox=[x0, y0, bw, bh], area=float(bw * bh),
                         num_keypoints=17, keypoints=kpts))
    ann = dict(images=images, annotations=anns, categories=[dict(
        id=1, name='person', supercategory='person',
        keypoints=[f'k{j}' for j in range(17)], skeleton=[])])
    (root / 'keypoints.json').write_text(json.dumps(ann))


# ------------------------------------------------------------------ tests
DET_BODY = '''
model = dict(backbone={backbone}, neck=dict(in_channels=[16, 32, 64, 64]),
             roi_head=dict(bbox_head=dict(num_classes=2),
                           mask_head=dict(num_classes=2)))
metainfo = dict(classes=('red', 'green'))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(128, 96), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 96), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
         'img_shape', 'scale_factor'))]
data = dict(data_root={root!r}, ann_file='instances.json', metainfo=metainfo,
            data_prefix=dict(img='images/'))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(**data, pipeline=pipeline))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      dataset=dict(**data, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file={root!r} + '/instances.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1))
'''


@pytest.mark.slow
def test_mask_rcnn_trains_and_reports_coco_map(tmp_path):
    data = tmp_path / 'coco'
    make_coco_instances(data)
    cfg = write_config(
        tmp_path / 'mask_rcnn.py',
        'configs/uniformer_det/'
        'mask-rcnn_uniformer-small-h14_in1k-pre_fpn_1x_coco.py',
        DET_BODY.format(backbone=TINY_BACKBONE, root=str(data)))
    out = run_tool('train.py', [cfg, '--work-dir', str(tmp_path / 'work')],
                   cwd=tmp_path)
    assert 'uniformer_mm.compat fixes in effect' in out
    for key in ('coco/bbox_mAP', 'coco/segm_mAP'):
        assert 0.0 <= metric(out, key) <= 1.0
    assert metric(out, 'loss_mask') > 0


SEG_BODY = '''
model = dict(backbone={backbone}, data_preprocessor=dict(size=(64, 64)),
             decode_head=dict(in_channels=[16, 32, 64, 64], channels=32),
             auxiliary_head=dict(in_channels=64, channels=16))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={root!r}, pipeline=pipeline))
val_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(data_root={root!r}, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False,
                        begin=0, end=2)]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=2))
'''


@pytest.mark.slow
def test_upernet_trains_and_tests_miou(tmp_path):
    data = tmp_path / 'ade'
    make_ade(data)
    cfg = write_config(
        tmp_path / 'upernet.py',
        'configs/uniformer_seg/'
        'upernet_uniformer-small-h14_in1k-pre_8xb2-160k_ade20k-512x512.py',
        SEG_BODY.format(backbone=TINY_BACKBONE, root=str(data)))
    work = tmp_path / 'work'
    out = run_tool('train.py', [cfg, '--work-dir', str(work)], cwd=tmp_path)
    assert 0.0 <= metric(out, 'mIoU') <= 100.0
    # the test tool on the saved checkpoint, evaluated with window 32 in
    # every stage-3 block (the "-w32" test setting of a trained model)
    ckpt = work / 'iter_2.pth'
    assert ckpt.is_file()
    out = run_tool('test.py', [
        cfg, str(ckpt), '--work-dir', str(tmp_path / 'test'),
        '--cfg-options', 'model.backbone.stage3_attn=window',
        'model.backbone.window_size=32'], cwd=tmp_path)
    assert 0.0 <= metric(out, 'mIoU') <= 100.0


POSE_BODY = '''
model = dict(backbone={backbone}, head=dict(in_channels=64,
             deconv_out_channels=(16, 16, 16), deconv_kernel_sizes=(4, 4, 4)))
data = dict(data_root={root!r}, ann_file='keypoints.json',
            data_prefix=dict(img='images/'))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(**data))
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      dataset=dict(**data, bbox_file=None))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file={root!r} + '/keypoints.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False,
                        begin=0, end=2)]
default_hooks = dict(logger=dict(interval=1))
'''


@pytest.mark.slow
def test_topdown_pose_trains_and_reports_coco_ap(tmp_path):
    data = tmp_path / 'pose'
    make_coco_keypoints(data)
    cfg = write_config(
        tmp_path / 'pose.py',
        'configs/uniformer_pose/td-hm_uniformer-small_8xb128-210e_coco-'
        '256x192.py', POSE_BODY.format(backbone=TINY_BACKBONE,
                                      root=str(data)))
    out = run_tool('train.py', [cfg, '--work-dir', str(tmp_path / 'work')],
                   cwd=tmp_path)
    assert 0.0 <= metric(out, 'coco/AP') <= 1.0
    assert metric(out, 'loss_kpt') > 0


def test_missing_data_is_one_line(tmp_path):
    """A row config without the data set: one line naming it, exit 2."""
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'),
         osp.join(ROOT, 'configs/uniformer_seg/'
                  'upernet_uniformer-small-h14_in1k-pre_8xb2-160k_ade20k-'
                  '512x512.py'), '--work-dir', str(tmp_path / 'w')],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 2
    err = [line for line in proc.stderr.splitlines() if 'error' in line]
    assert any('data/ade/ADEChallengeData2016' in line and
               'docs/datasets/ade20k.md' in line for line in err), \
        proc.stderr[-2000:]

"""Tests of the inference API (uniformer_mm.apis) and of the evaluation /
prediction / analysis tools (tools/infer.py, tools/test.py --dump,
tools/analysis/*, tools/visualize_predictions.py, tools/extract_features.py,
tools/export_onnx.py).

All models are tiny; the tools run in-process (``main(argv)``) except one
real command line (tools/infer.py).
"""
import importlib.util
import math
import pickle
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import uniformer_mm  # noqa: F401  (compat fixes, registries)
from uniformer_mm.analysis.input_shape import infer_view_spec
from uniformer_mm.apis import (count_views, extract_clip_feature,
                               inference_model, init_model, load_config,
                               load_label_map, predict_scores, prepare_inputs)

from _paths import (DATA, KINETICS_CLIP, REPO, TEST_AVI, TEST_JPG, VIDEOS,
                    analysis_tool)

_bench = analysis_tool('benchmark')
peak_memory, synthetic_inputs = _bench.peak_memory, _bench.synthetic_inputs
time_inference, time_train_step = (_bench.time_inference,
                                   _bench.time_train_step)
from _paths import label_map

K400_MAP = label_map('kinetics400.txt')
DEMO_CFG = REPO / 'configs' / 'demo' / 'uniformer_demo_video.py'
IMAGE_CFG = REPO / 'tests' / 'configs' / 'uniformer_tiny_imagefolder.py'

TINY_ARCH = dict(embed_dims=[16, 32, 64, 64], depths=[1, 1, 1, 1],
                 head_dim=16)

# a tiny 400-class UniFormer video model with the demo's single-view test
# pipeline (8 frames, 64x64)
VIDEO_400 = f'''
_base_ = [r'{DEMO_CFG}']
model = dict(
    backbone=dict(arch=dict(embed_dims=[16, 32, 64, 64], depths=[1, 1, 1, 1],
                            head_dim=16)),
    cls_head=dict(in_channels=64, num_classes=400))
'''
# the same with 2 clips x 3 crops = 6 views
MULTI_VIEW = '''
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=2,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 48)),
    dict(type='ThreeCrop', crop_size=48),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
'''


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
_TOOLS = {}


def load_tool(rel):
    """Import a tools/ script as a module (once)."""
    if rel not in _TOOLS:
        path = REPO / rel
        name = '_tool_' + re.sub(r'\W', '_', rel)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _TOOLS[rel] = module
    return _TOOLS[rel]


def run_tool(rel, argv, capsys):
    """``main(argv)`` of a tool; returns ``(result, stdout, stderr)``."""
    capsys.readouterr()
    result = load_tool(rel).main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return result, out, err


def write_cfg(path, text):
    path.write_text(text)
    return path


def assert_image_not_blank(path):
    img = cv2.imread(str(path))
    assert img is not None, f'{path} does not decode'
    assert img.ndim == 3 and img.shape[0] > 50 and img.shape[1] > 50
    assert img.std() > 0


TABLE_ROW = re.compile(r'^\s+(\d+)\s+(.+?)\s+([0-9.]+)$')


def parse_tables(text):
    """``{input: [(rank, label, score)]}`` of tools/infer.py's output."""
    tables, current = {}, None
    for line in text.splitlines():
        m = re.match(r'^(\S.*?)\s+\((video|image), \d+ views?\)$', line)
        if m:
            current = tables.setdefault(m.group(1), [])
            continue
        m = TABLE_ROW.match(line)
        if m and current is not None:
            current.append((int(m.group(1)), m.group(2), float(m.group(3))))
    return tables


@pytest.fixture(scope='module')
def cfg_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp('cfgs')
    write_cfg(d / 'video_400.py', VIDEO_400)
    write_cfg(d / 'video_multiview.py', VIDEO_400 + MULTI_VIEW)
    write_cfg(d / 'video_multiview_score.py', VIDEO_400 + MULTI_VIEW +
              "model['cls_head']['average_clips'] = 'score'\n")
    return d


@pytest.fixture(scope='module')
def video_400_ckpt(cfg_dir):
    """A checkpoint of the tiny 400-class model; its classifier gets
    large random weights so that the scores differ clearly."""
    torch.manual_seed(0)
    model = init_model(cfg_dir / 'video_400.py')
    with torch.no_grad():
        model.cls_head.fc_cls.weight.normal_(std=1.)
    path = cfg_dir / 'video_400.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


# --------------------------------------------------------------------------
# inference API and tools/infer.py
# --------------------------------------------------------------------------
@pytest.mark.slow
def test_infer_cli_kinetics_top5(cfg_dir, video_400_ckpt):
    """The real command line prints a top-5 table with Kinetics names, the
    same predictions as the API."""
    cfg = cfg_dir / 'video_400.py'
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'infer.py'), str(cfg),
         str(video_400_ckpt), str(KINETICS_CLIP), '--label-map',
         str(K400_MAP), '--topk', '5'],
        capture_output=True, text=True, timeout=300, cwd=str(REPO))
    assert proc.returncode == 0, proc.stderr[-3000:]
    tables = parse_tables(proc.stdout)
    assert list(tables) == [str(KINETICS_CLIP)], proc.stdout
    rows = tables[str(KINETICS_CLIP)]
    names = load_label_map(K400_MAP)
    assert len(names) == 400
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    assert all(r[1] in names for r in rows)
    scores = [r[2] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert 'WARNING' not in proc.stderr

    model = init_model(cfg, video_400_ckpt)
    expected = inference_model(model, str(KINETICS_CLIP), topk=5,
                               label_map=K400_MAP)
    assert [r[1] for r in rows] == [name for _, name, _ in expected]
    for (_, _, score), (_, _, want) in zip(rows, expected):
        assert score == pytest.approx(want, abs=6e-5)
    assert all(names[i] == n for i, n, _ in expected)


def test_infer_folder_random_init(cfg_dir, capsys, tmp_path):
    """'none' runs with random weights (warning); folders are searched for
    videos; --out writes JSON."""
    out_json = tmp_path / 'res.json'
    results, out, err = run_tool('tools/infer.py', [
        cfg_dir / 'video_400.py', 'none', VIDEOS, '--topk', '3',
        '--out', out_json
    ], capsys)
    assert 'WARNING' in err and 'random weights' in err
    tables = parse_tables(out)
    assert len(tables) == 3  # the three videos, no images
    assert all(len(rows) == 3 for rows in tables.values())
    # no label map: class indices
    assert all(r[1].startswith('class ') for rows in tables.values()
               for r in rows)
    assert out_json.is_file() and len(results) == 3


def test_inference_image_file_and_array():
    """Image config: a file and the same RGB array give the same scores
    (the array is put in the BGR order of LoadImageFromFile)."""
    torch.manual_seed(0)
    model = init_model(IMAGE_CFG)
    assert model.task == 'image'
    by_file = inference_model(model, str(TEST_JPG), topk=2,
                              label_map=['cat', 'dog'])
    rgb = cv2.cvtColor(cv2.imread(str(TEST_JPG)), cv2.COLOR_BGR2RGB)
    by_array = inference_model(model, rgb, topk=2, label_map=['cat', 'dog'])
    assert [i for i, _, _ in by_file] == [i for i, _, _ in by_array]
    assert {n for _, n, _ in by_file} == {'cat', 'dog'}
    for (_, _, a), (_, _, b) in zip(by_file, by_array):
        assert a == pytest.approx(b, abs=1e-6)
    assert sum(s for _, _, s in by_file) == pytest.approx(1., abs=1e-5)
    assert by_file[0][2] >= by_file[1][2]
    with pytest.raises(ValueError, match='classifies images'):
        inference_model(model, str(TEST_AVI))


def test_inference_video_array_matches_file(cfg_dir):
    import decord
    torch.manual_seed(0)
    model = init_model(cfg_dir / 'video_400.py')
    with torch.no_grad():
        model.cls_head.fc_cls.weight.normal_(std=1.)
    frames = decord.VideoReader(str(TEST_AVI)).get_batch(
        list(range(len(decord.VideoReader(str(TEST_AVI)))))).asnumpy()
    by_file, views = predict_scores(model, str(TEST_AVI))
    by_array, _ = predict_scores(model, frames)
    assert views == 1
    np.testing.assert_allclose(by_file, by_array, atol=1e-6)
    # an image through a video model: a one-frame video
    single, _ = predict_scores(model, str(TEST_JPG))
    assert single.shape == (400, )


def test_average_clip_prob_vs_score():
    """mmaction2's view fusion on known scores: 'prob' averages the softmax
    of the views, 'score' the raw scores."""
    from mmaction.models.heads import I3DHead
    ln3 = math.log(3.)
    # one sample, two views
    scores = torch.tensor([[0., ln3], [ln3, 0.]])
    prob = I3DHead(2, 4, average_clips='prob').average_clip(scores, 2)
    score = I3DHead(2, 4, average_clips='score').average_clip(scores, 2)
    # softmax rows: [0.25, 0.75] and [0.75, 0.25]
    torch.testing.assert_close(prob, torch.tensor([[0.5, 0.5]]))
    torch.testing.assert_close(score, torch.tensor([[ln3 / 2, ln3 / 2]]))
    # unequal views: prob != softmax(score)
    scores = torch.tensor([[0., 0.], [0., 2.]])
    prob = I3DHead(2, 4, average_clips='prob').average_clip(scores, 2)
    e2 = math.exp(2.)
    expected = torch.tensor([[(0.5 + 1 / (1 + e2)) / 2,
                              (0.5 + e2 / (1 + e2)) / 2]])
    torch.testing.assert_close(prob, expected)


@pytest.mark.parametrize('name,fusion', [('video_multiview.py', 'prob'),
                                         ('video_multiview_score.py',
                                          'score')])
def test_multiview_fusion(cfg_dir, name, fusion):
    """2 clips x 3 crops: the API's scores are the head's fusion of the six
    per-view scores."""
    torch.manual_seed(0)
    model = init_model(cfg_dir / name)
    with torch.no_grad():
        model.cls_head.fc_cls.weight.normal_(std=1.)
    spec = infer_view_spec(model.cfg)
    assert (spec.clips, spec.crops, spec.shape) == (2, 3, (3, 4, 48, 48))
    scores, views = predict_scores(model, str(TEST_AVI))
    assert views == 6
    packed = prepare_inputs(model, str(TEST_AVI))
    assert count_views(packed, 'video') == 6
    data = model.data_preprocessor(dict(inputs=[packed['inputs']],
                                        data_samples=[packed['data_samples']]))
    views_in = data['inputs'][0]  # [6, 3, 4, 48, 48]
    with torch.no_grad():
        logits = model.cls_head(model.backbone(views_in))  # [6, 400]
    expected = (logits.softmax(-1).mean(0)
                if fusion == 'prob' else logits.mean(0))
    np.testing.assert_allclose(scores, expected.numpy(), atol=1e-5)
    other = logits.mean(0) if fusion == 'prob' else logits.softmax(-1).mean(0)
    assert np.abs(scores - other.numpy()).max() > 1e-3


def test_extract_features_tool(cfg_dir, video_400_ckpt, capsys, tmp_path):
    """Pooled backbone features; the head's classifier on them gives the
    model's scores (single view, 'prob')."""
    listing = tmp_path / 'list.txt'
    listing.write_text(f'{KINETICS_CLIP} 6\nvideos/test.avi 0\n')
    out_dir = tmp_path / 'feats'
    _, out, err = run_tool('tools/extract_features.py', [
        cfg_dir / 'video_400.py', video_400_ckpt, listing, '--out-dir',
        out_dir, '--data-prefix', DATA
    ], capsys)
    assert '2 feature file(s) of shape [64]' in out
    feat = np.load(out_dir / 'kinetics_arm_wrestling.npy')
    assert (out_dir / 'videos' / 'test.npy').is_file()
    assert feat.shape == (64, ) and feat.dtype == np.float32
    model = init_model(cfg_dir / 'video_400.py', video_400_ckpt)
    np.testing.assert_allclose(
        feat, extract_clip_feature(model, str(KINETICS_CLIP)), atol=1e-6)
    with torch.no_grad():
        probs = model.cls_head.fc_cls(torch.from_numpy(feat)).softmax(-1)
    scores, _ = predict_scores(model, str(KINETICS_CLIP))
    np.testing.assert_allclose(probs.numpy(), scores, atol=1e-6)


# --------------------------------------------------------------------------
# get_flops / benchmark
# --------------------------------------------------------------------------
@pytest.mark.slow
def test_get_flops_uniformer_s_image(capsys):
    """UniFormer-S (image, 224): 3.6 GFLOPs in the paper (22M params)."""
    result, out, _ = run_tool(
        'tools/analysis/get_flops.py',
        [REPO / 'configs' / '_base_' / 'models' / 'uniformer_image.py'],
        capsys)
    m = re.search(r'params: ([0-9.]+) M\s+FLOPs/view: ([0-9.]+) G\s+'
                  r'input: 1x3x224x224', out)
    assert m, out
    assert float(m.group(2)) == pytest.approx(3.6, rel=0.02)
    assert float(m.group(1)) == pytest.approx(22, rel=0.05)


def test_get_flops_shape_from_pipeline(capsys):
    """The view shape comes from the test pipeline (demo: 8 frames, 64);
    --shape overrides it; --params-only builds on the meta device."""
    _, out, _ = run_tool('tools/analysis/get_flops.py', [DEMO_CFG], capsys)
    assert 'input: 1x3x8x64x64' in out and 'note:' not in out
    _, out, _ = run_tool('tools/analysis/get_flops.py',
                         [DEMO_CFG, '--shape', '4', '32', '32',
                          '--params-only'], capsys)
    assert re.search(r'params: 1\.\d\d M\s+input: 1x3x4x32x32', out), out


def test_get_flops_dense_configs(capsys):
    """Dense configs: segmentation / pose FLOPs at the papers' input (the
    model index's numbers), detection parameters only."""
    pytest.importorskip('mmseg')
    pytest.importorskip('mmdet')
    import yaml
    rel = ('configs/uniformer_seg/fpn_uniformer-small-w32_in1k-pre_8xb4-'
           '80k_ade20k-512x512.py')
    result, out, _ = run_tool('tools/analysis/get_flops.py', [REPO / rel],
                              capsys)
    meta = yaml.safe_load((REPO / 'configs' / 'uniformer_seg' /
                           'metafile.yml').read_text())
    (row, ) = [m for m in meta['Models'] if m['Config'] == rel]
    assert (result['flops'], result['params']) == (
        row['Metadata']['FLOPs'], row['Metadata']['Parameters'])
    assert 'FLOPs/view: 182.10 G  input: 1x3x512x2048' in out
    assert 'backbone + neck + decode head' in out
    _, out, _ = run_tool('tools/analysis/get_flops.py', [
        REPO / 'configs' / 'uniformer_det' /
        'mask-rcnn_uniformer-small-h14_in1k-pre_fpn_1x_coco.py'], capsys)
    assert 'params: 41.20 M\n' in out and 'not counted' in out
    assert 'FLOPs/view' not in out


def test_benchmark_functions():
    torch.manual_seed(0)
    model = init_model(IMAGE_CFG)
    inputs = synthetic_inputs(model, (3, 32, 32), batch_size=2)
    assert inputs['inputs'].shape == (2, 3, 32, 32)
    res = time_inference(model, inputs, runs=2, warmup=1)
    assert res['runs'] == 2 and res['batch_size'] == 2
    assert res['items_per_s'] == pytest.approx(2 / res['mean_s'])
    res = time_train_step(model, inputs, runs=2, warmup=0)
    assert res['mean_s'] > 0
    assert all(p.grad is None for p in model.parameters())
    # a plain module works too
    plain = torch.nn.Conv2d(3, 4, 3)
    res = time_inference(plain, torch.randn(1, 3, 16, 16), runs=1)
    assert res['items_per_s'] > 0
    res = time_train_step(plain, torch.randn(1, 3, 16, 16), runs=1)
    assert res['mean_s'] > 0

    def allocate():
        x = torch.ones(16, 2**20)  # 64 MiB
        return float(x.sum())

    mem = peak_memory(allocate)
    if mem['bytes'] is not None:
        assert 0.9 * 64 * 2**20 <= mem['bytes'] <= 3 * 64 * 2**20, mem


def test_benchmark_tool(capsys, tmp_path):
    out_json = tmp_path / 'bench.json'
    results, out, _ = run_tool('tools/analysis/benchmark.py', [
        IMAGE_CFG, '--device', 'cpu', '--runs', '1', '--warmup', '0',
        '--shape', '64', '64', '--json', out_json
    ], capsys)
    assert 'inference' in out and 'train (fwd+bwd)' in out
    rows = results[str(IMAGE_CFG)]['rows']
    assert [r['mode'] for r in rows] == ['inference', 'train (fwd+bwd)']
    assert all(r['items_per_s'] > 0 for r in rows)
    assert out_json.is_file()


# --------------------------------------------------------------------------
# a tiny trained model: test.py --dump, confusion matrix, curves, gif/mp4
# --------------------------------------------------------------------------
def _demo_options(data_root):
    opts = [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'model.backbone.arch.embed_dims=[16,32,64,64]',
        'model.backbone.arch.depths=[1,1,1,1]',
        'model.backbone.arch.head_dim=16',
        'model.cls_head.in_channels=64',
    ]
    for split in ('train', 'val', 'test'):
        opts += [
            f'{split}_dataloader.dataset.demo_cfg.num_train_per_class=2',
            f'{split}_dataloader.dataset.demo_cfg.num_val_per_class=3',
            f'{split}_dataloader.dataset.demo_cfg.num_frames=8',
            f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False',
        ]
    return opts


@pytest.fixture(scope='module')
def trained_demo(tmp_path_factory):
    """Train the demo config shrunk (tiny model, 8 training videos, 12
    validation videos) for one epoch of 2 iterations."""
    root = tmp_path_factory.mktemp('demo')
    work_dir = root / 'work'
    options = _demo_options(root / 'data') + [
        'train_cfg.max_epochs=1', 'train_dataloader.batch_size=4',
        'default_hooks.logger.interval=1'
    ]
    load_tool('tools/train.py').main(
        [str(DEMO_CFG), '--work-dir', str(work_dir), '--cfg-options'] +
        options)
    ckpt = work_dir / 'epoch_1.pth'
    assert ckpt.is_file()
    return dict(root=root, work_dir=work_dir, ckpt=ckpt, options=options,
                data=root / 'data')


def _printed_metrics(work_dir):
    """acc/top1 and acc/mean1 of the newest Epoch(test) log line."""
    logs = sorted(Path(work_dir).glob('*/*.log'), key=lambda p: p.stat()
                  .st_mtime)
    text = logs[-1].read_text()
    line = [ln for ln in text.splitlines()
            if 'Epoch(test)' in ln and 'acc/top1' in ln][-1]
    return {k: float(v) for k, v in re.findall(r'(acc/\w+): ([0-9.]+)', line)}


@pytest.mark.slow
def test_dump_reproduces_accuracy(trained_demo, capsys, tmp_path):
    dump = tmp_path / 'dump.pkl'
    test_dir = tmp_path / 'test_work'
    load_tool('tools/test.py').main([
        str(DEMO_CFG), str(trained_demo['ckpt']), '--dump', str(dump),
        '--work-dir', str(test_dir), '--cfg-options'] +
        trained_demo['options'])
    printed = _printed_metrics(test_dir)
    assert {'acc/top1', 'acc/mean1'} <= set(printed)

    with open(dump, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 12
    assert {'pred_score', 'gt_label'} <= set(results[0])
    scores = np.stack([r['pred_score'].numpy() for r in results])
    labels = np.array([int(r['gt_label']) for r in results])
    top1 = float((scores.argmax(1) == labels).mean())
    assert round(top1, 4) == pytest.approx(printed['acc/top1'], abs=1e-9)

    out_png = tmp_path / 'cm.png'
    acc, out, _ = run_tool('tools/analysis/confusion_matrix.py', [
        dump, '--label-map', trained_demo['data'] / 'label_map.txt',
        '--out', out_png
    ], capsys)
    assert acc['top1'] == pytest.approx(top1)
    assert round(acc['top1'], 4) == pytest.approx(printed['acc/top1'])
    assert round(acc['mean1'], 4) == pytest.approx(printed['acc/mean1'])
    assert f'top-1 accuracy: {printed["acc/top1"]:.4f}' in out
    assert acc['matrix'].sum() == 12 and acc['matrix'].shape == (4, 4)
    assert 'move_left' in out
    assert_image_not_blank(out_png)


@pytest.mark.slow
def test_plot_curves(trained_demo, capsys, tmp_path):
    out_png = tmp_path / 'curves.png'
    logs = list(Path(trained_demo['work_dir']).glob('*/vis_data/scalars.json'))
    assert logs
    plot_curves = load_tool('tools/analysis/plot_curves.py')
    curves = plot_curves.load_scalars(logs[0])
    # 2 training iterations, one validation at the end of epoch 1 (= iter 2)
    assert curves['loss'][0] == [1, 2]
    assert curves['acc/top1'][0] == [2]
    _, out, _ = run_tool('tools/analysis/plot_curves.py', [
        trained_demo['work_dir'], '--keys', 'loss', 'acc/top1', '--out',
        out_png
    ], capsys)
    assert_image_not_blank(out_png)
    with pytest.raises(SystemExit):
        run_tool('tools/analysis/plot_curves.py',
                 [logs[0], '--keys', 'no_such_key', '--out', out_png],
                 capsys)


@pytest.mark.slow
def test_visualize_predictions(trained_demo, capsys, tmp_path):
    from PIL import Image
    video = next((trained_demo['data'] / 'videos' / 'val').glob('*.mp4'))
    cfg = trained_demo['work_dir'] / 'uniformer_demo_video.py'
    labels = trained_demo['data'] / 'label_map.txt'
    gif = tmp_path / 'out.gif'
    preds, out, _ = run_tool('tools/visualize_predictions.py', [
        cfg, trained_demo['ckpt'], video, '--out', gif, '--label-map',
        labels, '--topk', '2', '--width', '128'
    ], capsys)
    assert len(preds) == 2 and preds[0][1] in load_label_map(labels)
    with Image.open(gif) as im:
        assert im.n_frames == 8 and im.size == (128, 128)
        frame = np.asarray(im.convert('RGB'))
        assert frame.std() > 0
    mp4 = tmp_path / 'out.mp4'
    run_tool('tools/visualize_predictions.py', [
        cfg, trained_demo['ckpt'], video, '--out', mp4, '--label-map',
        labels
    ], capsys)
    cap = cv2.VideoCapture(str(mp4))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    assert len(frames) == 8 and frames[0].shape[1] == 320
    assert frames[0].std() > 0


# --------------------------------------------------------------------------
# ONNX export
# --------------------------------------------------------------------------
def _video_cfg(backbone, head, num_classes=7):
    return dict(
        default_scope='mmaction',
        model=dict(
            type='Recognizer3D',
            backbone=backbone,
            cls_head=dict(head, num_classes=num_classes),
            data_preprocessor=dict(type='ActionDataPreprocessor',
                                   format_shape='NCTHW')))


def _image_cfg(backbone, head, neck=None, num_classes=7):
    model = dict(type='ImageClassifier', backbone=backbone,
                 head=dict(head, num_classes=num_classes))
    if neck:
        model['neck'] = neck
    return dict(default_scope='mmpretrain', model=model)


_LIGHT = dict(TINY_ARCH, depths=[1, 1, 2, 1], light=True, conv_stem=True)
ONNX_CASES = {
    'uniformer_video': (_video_cfg(
        dict(type='UniFormerVideo', arch=TINY_ARCH),
        dict(type='I3DHead', in_channels=64)), (1, 3, 8, 64, 64)),
    'uniformer_image': (_image_cfg(
        dict(type='UniFormer', arch=TINY_ARCH),
        dict(type='LinearClsHead', in_channels=64),
        neck=dict(type='GlobalAveragePooling')), (1, 3, 64, 64)),
    'uniformer_light_video': (_video_cfg(
        dict(type='UniFormerVideo', arch=_LIGHT),
        dict(type='UniFormerLightHead', in_channels=64)), (1, 3, 8, 64, 64)),
    'uniformer_light_image': (_image_cfg(
        dict(type='UniFormer', arch=_LIGHT),
        dict(type='UniFormerLightClsHead', in_channels=64)), (1, 3, 64, 64)),
    'uniformerv2': (_video_cfg(
        dict(type='UniFormerV2Video',
             arch=dict(input_resolution=64, patch_size=16, width=32,
                       layers=3, heads=2),
             return_list=[1, 2]),
        dict(type='UniFormerV2Head', in_channels=32)), (1, 3, 4, 64, 64)),
}


@pytest.mark.parametrize('name', list(ONNX_CASES))
def test_onnx_export_matches_pytorch(name, tmp_path):
    pytest.importorskip('onnx')
    pytest.importorskip('onnxruntime')
    from mmengine.config import Config

    from uniformer_mm.apis.export import export_onnx, verify_onnx
    cfg, shape = ONNX_CASES[name]
    torch.manual_seed(0)
    model = init_model(Config(cfg))
    if 'light' in name:
        # at initialisation the class token is zero, so every token has the
        # same pruning score and the order of ties is arbitrary (PyTorch and
        # onnxruntime break them differently); trained tokens do not tie
        with torch.no_grad():
            model.backbone.cls_token.normal_()
    path, example = export_onnx(model, str(tmp_path / f'{name}.onnx'), shape)
    assert verify_onnx(model, path, example) < 1e-4
    # the batch axis is dynamic
    other = torch.randn((3, ) + tuple(shape[1:]))
    assert verify_onnx(model, path, other) < 1e-4


def test_export_onnx_tool(capsys, tmp_path):
    pytest.importorskip('onnx')
    pytest.importorskip('onnxruntime')
    out = tmp_path / 'image.onnx'
    diff, text, _ = run_tool('tools/export_onnx.py', [
        IMAGE_CFG, 'none', '--out', out, '--verify', '--softmax'
    ], capsys)
    assert out.is_file() and diff < 1e-4
    assert 'input 1x3x64x64' in text and 'max abs diff' in text
    from uniformer_mm.apis.export import run_onnx
    probs = run_onnx(str(out), np.random.rand(2, 3, 64, 64).astype('f4'))
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)


def test_init_model_options_and_task():
    cfg = load_config(DEMO_CFG, {'model.cls_head.num_classes': 5})
    model = init_model(cfg)
    assert model.task == 'video' and model.cls_head.num_classes == 5
    assert not model.training
    # a base config without default_scope: task from model.type
    base = load_config(REPO / 'configs' / '_base_' / 'models' /
                       'uniformer_image.py')
    from uniformer_mm.apis import get_task
    assert get_task(base) == 'image'
    assert infer_view_spec(base).shape == (3, 224, 224)

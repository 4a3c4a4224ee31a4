"""Checkpoints in and out: official V1/V2 containers and layouts converted
and loaded strictly, config-level loading (backbone ``init_cfg``,
``load_from``), mmaction2 round trip, inflation rules, class order, the
head_dim check, safe loading and the converter's one-line errors.

The official layouts are produced here from our models' weights with an
inverse mapping written independently of ``uniformer_mm.checkpoint`` (key
patterns of the reference doc, section 5). Tiny architectures with the same
structure flags (conv stem, layer scale, light) exercise the same name-based
mappings as the released models; the real UniFormer-S checks the full key
set once.
"""
import argparse
import copy
import importlib.util
import json
import os
import os.path as osp
import pathlib
import random
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import load_checkpoint

import uniformer_mm  # noqa: F401  (registers models, loaders, compat)
from mmaction.registry import MODELS as ACTION_MODELS
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from uniformer_mm.checkpoint import (CheckpointError, CorruptCheckpointError,
                                     HeadDimMismatchError, UnsafePickleError,
                                     convert_checkpoint, convert_v1_mmaction,
                                     convert_v2_mmaction, detect_format,
                                     head_dim_from_filename,
                                     load_checkpoint_file,
                                     load_pretrained_backbone,
                                     save_checkpoint_atomic, to_mmaction)
from uniformer_mm.checkpoint import head as headlib
from uniformer_mm.checkpoint.inflate import (inflate_state_dict, inflate_v1,
                                             inflate_v2)

from uniformer_mm.label_maps import resolve_path

from _paths import label_map

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOL = osp.join(ROOT, 'tools', 'convert_checkpoint.py')

_spec = importlib.util.spec_from_file_location('convert_checkpoint', TOOL)
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

# ---------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------
TINY = dict(depths=[1, 1, 1, 1], embed_dims=[16, 32, 64, 128], head_dim=16)
LIGHT = dict(depths=[1, 1, 2, 1], embed_dims=[16, 32, 64, 128], head_dim=16,
             mlp_ratio=3., conv_stem=True, light=True)
NUM_CLASSES = 5

#: variant -> (arch, kind, official format)
V1_VARIANTS = {
    'image': (TINY, 'image', 'v1_image'),
    'image_conv_stem': (dict(TINY, conv_stem=True), 'image', 'v1_image'),
    'image_ls_global': (dict(TINY, layer_scale='global'), 'image',
                        'v1_image'),
    'image_ls_all': (dict(TINY, layer_scale='all'), 'image', 'v1_image'),
    'token_labeling': (TINY, 'tl', 'v1_tl'),
    'light_image': (LIGHT, 'light_image', 'v1_light'),
    'video': (TINY, 'video', 'v1_video'),
    'video_ls_all': (dict(TINY, layer_scale='all'), 'video', 'v1_video'),
    'light_video': (LIGHT, 'light_video', 'v1_light'),
}


def v1_model_cfg(kind, arch, num_classes=NUM_CLASSES, init_cfg=None):
    c = arch['embed_dims'][-1]
    video = kind in ('video', 'light_video')
    backbone = dict(type='UniFormerVideo' if video else 'UniFormer',
                    arch=copy.deepcopy(arch))
    if init_cfg:
        backbone['init_cfg'] = init_cfg
    if video:
        head = dict(type='UniFormerLightHead' if kind == 'light_video' else
                    'I3DHead', num_classes=num_classes, in_channels=c)
        if kind == 'video':
            head['dropout_ratio'] = 0.
        return dict(type='Recognizer3D', backbone=backbone, cls_head=head)
    cfg = dict(type='ImageClassifier', backbone=backbone)
    if kind == 'image':
        cfg['neck'] = dict(type='GlobalAveragePooling')
        cfg['head'] = dict(type='LinearClsHead', num_classes=num_classes,
                           in_channels=c)
    elif kind == 'tl':
        cfg['head'] = dict(type='UniFormerTokenLabelHead',
                           num_classes=num_classes, in_channels=c)
    else:
        cfg['head'] = dict(type='UniFormerLightClsHead',
                           num_classes=num_classes, in_channels=c)
    return cfg


def v2_model_cfg(num_classes=NUM_CLASSES, init_cfg=None, channel_map=None,
                 **backbone_kwargs):
    backbone = dict(type='UniFormerV2Video',
                    arch=dict(input_resolution=32, patch_size=16, width=32,
                              layers=3, heads=2, return_list=[1, 2]),
                    **backbone_kwargs)
    if init_cfg:
        backbone['init_cfg'] = init_cfg
    head = dict(type='UniFormerV2Head', num_classes=num_classes,
                in_channels=32)
    if channel_map:
        head['channel_map'] = channel_map
    return dict(type='Recognizer3D', backbone=backbone, cls_head=head)


def build(cfg):
    video = cfg['type'] == 'Recognizer3D'
    registry = ACTION_MODELS if video else PRETRAIN_MODELS
    with DefaultScope.overwrite_default_scope(
            'mmaction' if video else 'mmpretrain'):
        return registry.build(copy.deepcopy(cfg))


def write_cfg(path, model_cfg):
    Config(dict(model=model_cfg, custom_imports=dict(
        imports=['uniformer_mm'], allow_failed_imports=False))).dump(
            str(path))
    return str(path)


def perturb_(model, seed=0):
    """Random weights and BN statistics (so that every tensor matters)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if not v.is_floating_point():
                continue
            noise = torch.randn(v.shape, generator=g)
            if k.endswith('running_var'):
                v.copy_(0.5 + noise.abs())
            elif k.endswith('balance'):
                v.copy_(noise)
            else:
                v.copy_(0.2 * noise)
    return model.eval()


def input_for(cfg):
    torch.manual_seed(1)
    if cfg['type'] == 'Recognizer3D':
        return torch.randn(2, 3, 4, 32, 32)
    return torch.randn(2, 3, 64, 64)


def features(model, x):
    with torch.no_grad():
        return model.backbone(x)


def logits(model, x):
    with torch.no_grad():
        feats = model.backbone(x)
        if getattr(model, 'neck', None) is not None:
            feats = model.neck(feats)
        head = model.head if hasattr(model, 'head') else model.cls_head
        return head(feats)


def flat(x):
    if torch.is_tensor(x):
        return [x]
    return [t for item in x for t in flat(item)]


def assert_same(a, b):
    for u, v in zip(flat(a), flat(b)):
        assert u.shape == v.shape
        assert torch.allclose(u, v, rtol=1e-5, atol=1e-6), \
            (u - v).abs().max()


# ---------------------------------------------------------------------------
# the official layouts, written independently (reference doc, section 5)
# ---------------------------------------------------------------------------
_OFFICIAL_V1_HEADS = [
    ('head.fc_aux.', 'aux_head.'),
    ('head.fc_cls_token.', 'head_cls.'),
    ('head.norm_cls_token.', 'norm_cls.'),
    ('head.fc.', 'head.'),
    ('cls_head.fc_cls_token.', 'head_cls.'),
    ('cls_head.norm_cls_token.', 'norm_cls.'),
    ('cls_head.fc_cls.', 'head.'),
]


def to_official_v1(state_dict):
    out = OrderedDict()
    for k, v in state_dict.items():
        if k.startswith('backbone.'):
            out[k[len('backbone.'):]] = v.clone()
            continue
        for ours, official in _OFFICIAL_V1_HEADS:
            if k.startswith(ours):
                out[official + k[len(ours):]] = v.clone()
                break
        else:
            raise KeyError(k)
    return out


def official_container(kind, sd):
    if kind in ('image', 'light_image'):  # DeiT main.py
        return {'model': sd, 'epoch': 299, 'scaler': {'scale': 1.0},
                'args': argparse.Namespace(model='uniformer_small',
                                           lr=5e-4)}
    if kind == 'tl':  # timm CheckpointSaver
        ema = OrderedDict((k, v + 1 if v.is_floating_point() else v)
                          for k, v in sd.items())
        return {'epoch': 9, 'arch': 'uniformer_small', 'state_dict': sd,
                'state_dict_ema': ema, 'version': 2}
    # SlowFast checkpoint_amp.save_checkpoint
    return {'epoch': 110, 'model_state': sd,
            'cfg': 'MODEL:\n  ARCH: uniformer\n'}


def to_official_v2(state_dict):
    out = OrderedDict()
    for k, v in state_dict.items():
        if k.startswith('backbone.transformer.norm.'):
            k = 'backbone.transformer.proj.0.' + k.rsplit('.', 1)[-1]
        elif k.startswith('cls_head.fc_cls.'):
            k = 'backbone.transformer.proj.2.' + k.rsplit('.', 1)[-1]
        assert k.startswith('backbone.'), k
        out[k] = v.clone()
    return out


def run_tool(*args):
    return tool.main([str(a) for a in args])


def run_tool_subprocess(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def assert_one_line_error(stderr, *needles):
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith('error: '), stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def assert_no_output(dst):
    assert not osp.exists(dst)
    leftovers = [f for f in os.listdir(osp.dirname(dst))
                 if f.startswith('.' + osp.basename(dst))]
    assert not leftovers, leftovers


# ---------------------------------------------------------------------------
# V1: every variant, official container -> ours
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('variant', sorted(V1_VARIANTS))
def test_v1_official_to_ours(tmp_path, variant):
    arch, kind, fmt = V1_VARIANTS[variant]
    cfg = v1_model_cfg(kind, arch)
    ref = perturb_(build(cfg))
    x = input_for(cfg)
    official = official_container(kind, to_official_v1(ref.state_dict()))
    src = tmp_path / 'official.pth'  # a name without head_dim hints
    torch.save(official, src)

    loaded = load_checkpoint_file(str(src))
    assert detect_format(loaded) == fmt

    # 1. converter with --config: strict load, same outputs
    dst = tmp_path / 'ours.pth'
    assert run_tool(src, dst, '--config',
                    write_cfg(tmp_path / 'cfg.py', cfg)) == 0
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['uniformer_arch']['head_dim'] == 16
    assert ckpt['meta']['uniformer_convert']['source_format'] == fmt
    model = build(cfg).eval()
    model.load_state_dict(ckpt['state_dict'], strict=True)
    assert_same(logits(model, x), logits(ref, x))

    # 2. backbone init_cfg=Pretrained on the foreign file
    model = build(v1_model_cfg(kind, arch, init_cfg=dict(
        type='Pretrained', checkpoint=str(src)))).eval()
    model.backbone.init_weights()
    assert_same(features(model, x), features(ref, x))

    # 3. load_from=PATH: mmengine's loader converts on the fly
    model = build(cfg).eval()
    load_checkpoint(model, str(src), strict=True)
    assert_same(logits(model, x), logits(ref, x))

    # 4. the flat official state dict converts the same way
    converted = convert_checkpoint(to_official_v1(ref.state_dict()))
    assert converted.source_format == fmt
    model = build(cfg).eval()
    model.load_state_dict(converted.state_dict, strict=True)
    assert_same(logits(model, x), logits(ref, x))


def test_v1_token_labeling_ema(tmp_path):
    arch, kind, _ = V1_VARIANTS['token_labeling']
    cfg = v1_model_cfg(kind, arch)
    ref = perturb_(build(cfg))
    container = official_container(kind, to_official_v1(ref.state_dict()))
    result = convert_checkpoint(container, use_ema=True)
    sd = ref.state_dict()
    for k, v in result.state_dict.items():
        expected = sd[k] + 1 if sd[k].is_floating_point() else sd[k]
        assert torch.equal(v, expected), k
    with pytest.raises(CheckpointError, match='no EMA'):
        convert_checkpoint({'model': to_official_v1(sd)}, use_ema=True)


def test_v1_real_small(tmp_path):
    """The real UniFormer-S: full official key set (331 keys) loads."""
    cfg = dict(type='ImageClassifier',
               backbone=dict(type='UniFormer', arch='small'),
               neck=dict(type='GlobalAveragePooling'),
               head=dict(type='LinearClsHead', num_classes=1000,
                         in_channels=512))
    ref = perturb_(build(cfg))
    official = to_official_v1(ref.state_dict())
    assert len(official) == 331
    src = tmp_path / 'uniformer_small_in1k.pth'  # head_dim 64 by its name
    torch.save({'model': official}, src)
    dst = tmp_path / 'small.pth'
    assert run_tool(src, dst, '--config',
                    write_cfg(tmp_path / 'cfg.py', cfg)) == 0
    ckpt = torch.load(dst, weights_only=True)
    arch = ckpt['meta']['uniformer_arch']
    assert arch['arch'] == 'small' and arch['head_dim'] == 64
    assert 'file name' in arch['head_dim_source']
    model = build(cfg).eval()
    model.load_state_dict(ckpt['state_dict'], strict=True)
    x = torch.randn(1, 3, 64, 64)
    assert_same(logits(model, x), logits(ref, x))
    # config-level: backbone init
    init = copy.deepcopy(cfg)
    init['backbone']['init_cfg'] = dict(type='Pretrained',
                                        checkpoint=str(src))
    model = build(init).eval()
    model.backbone.init_weights()
    assert_same(features(model, x), features(ref, x))


def test_load_from_with_the_runner(tmp_path):
    """``load_from=<official file>`` through mmengine's Runner."""
    from mmengine.runner import Runner
    arch, kind, _ = V1_VARIANTS['light_image']
    cfg = v1_model_cfg(kind, arch)
    ref = perturb_(build(cfg))
    src = tmp_path / 'official_light.pth'
    torch.save({'model': to_official_v1(ref.state_dict())}, src)
    model_cfg = copy.deepcopy(cfg)
    model_cfg['data_preprocessor'] = dict(type='ClsDataPreprocessor')
    runner = Runner(model=model_cfg, work_dir=str(tmp_path / 'work'),
                    load_from=str(src), default_scope='mmpretrain')
    runner.load_or_resume()
    x = input_for(cfg)
    runner.model.eval()
    assert_same(logits(runner.model, x), logits(ref, x))


def test_uniformer_scheme(tmp_path):
    arch, kind, _ = V1_VARIANTS['video']
    cfg = v1_model_cfg(kind, arch)
    ref = perturb_(build(cfg))
    src = tmp_path / 'official_video.pth'
    torch.save({'model_state': to_official_v1(ref.state_dict())}, src)
    model = build(cfg).eval()
    load_checkpoint(model, 'uniformer://' + str(src), strict=True)
    x = input_for(cfg)
    assert_same(logits(model, x), logits(ref, x))
    junk = tmp_path / 'junk.pth'
    torch.save({'state_dict': {'foo.weight': torch.zeros(2)}}, junk)
    with pytest.raises(CheckpointError, match='unknown checkpoint format'):
        load_checkpoint(model, 'uniformer://' + str(junk))
    # the plain path leaves foreign, unknown layouts alone
    assert 'foo.weight' in load_checkpoint(torch.nn.Linear(1, 1), str(junk)
                                           )['state_dict']


# ---------------------------------------------------------------------------
# V2
# ---------------------------------------------------------------------------
V2_VARIANTS = {
    # official raw state dict with the wrapper's `backbone.` prefix
    'kinetics_raw': (dict(), 'raw'),
    # temporal models: LMHRA + temporal downsampling, SlowFast container
    'sth_model_state': (dict(no_lmhra=False, double_lmhra=True,
                             temporal_downsample=True), 'model_state'),
    # frozen: no `balance`
    'frozen_raw': (dict(frozen=True), 'raw'),
}


@pytest.mark.parametrize('variant', sorted(V2_VARIANTS))
def test_v2_official_to_ours(tmp_path, variant):
    kwargs, container = V2_VARIANTS[variant]
    cfg = v2_model_cfg(**kwargs)
    ref = perturb_(build(cfg))
    x = input_for(cfg)
    official = to_official_v2(ref.state_dict())
    assert ('backbone.transformer.balance' in official) != kwargs.get(
        'frozen', False)
    if container == 'model_state':
        official = {'model_state': official, 'epoch': 3}
    src = tmp_path / f'official_v2_{variant}.pth'
    torch.save(official, src)
    assert detect_format(load_checkpoint_file(str(src))) == 'v2_official'

    dst = tmp_path / 'ours.pth'
    assert run_tool(src, dst, '--config',
                    write_cfg(tmp_path / 'cfg.py', cfg)) == 0
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['uniformer_arch']['family'] == 'uniformerv2'
    model = build(cfg).eval()
    model.load_state_dict(ckpt['state_dict'], strict=True)
    assert_same(logits(model, x), logits(ref, x))

    # config level: the V2 backbone's own Pretrained init (prefix
    # 'backbone.') reads the official file through our mmengine loader
    model = build(v2_model_cfg(init_cfg=dict(
        type='Pretrained', checkpoint=str(src), prefix='backbone.'),
        **kwargs))
    model.backbone.init_weights()
    model.eval()
    assert_same(features(model, x), features(ref, x))
    # ... and our generic backbone loader
    model = build(cfg).eval()
    load_pretrained_backbone(model.backbone, str(src))
    assert_same(features(model, x), features(ref, x))

    # load_from=PATH
    model = build(cfg).eval()
    load_checkpoint(model, str(src), strict=True)
    assert_same(logits(model, x), logits(ref, x))


def test_v2_non_frozen_into_frozen_model(tmp_path):
    ref = perturb_(build(v2_model_cfg()))
    src = tmp_path / 'official_v2.pth'
    torch.save(to_official_v2(ref.state_dict()), src)
    cfg = v2_model_cfg(frozen=True)
    dst = tmp_path / 'frozen.pth'
    assert run_tool(src, dst, '--config',
                    write_cfg(tmp_path / 'cfg.py', cfg)) == 0
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['uniformer_convert']['dropped'] == [
        'backbone.transformer.balance']
    build(cfg).load_state_dict(ckpt['state_dict'], strict=True)


def test_v2_k710_channel_map(tmp_path):
    ref = perturb_(build(v2_model_cfg(num_classes=710)))
    src = tmp_path / 'official_v2_k710.pth'
    torch.save(to_official_v2(ref.state_dict()), src)
    cmap = label_map('k710_channel_map_k400.json')
    indices = json.loads(pathlib.Path(resolve_path(cmap)).read_text())
    w = ref.cls_head.fc_cls.weight.detach()
    # explicit channel map, no config
    dst = tmp_path / 'k400.pth'
    assert run_tool(src, dst, '--channel-map', cmap) == 0
    sd = torch.load(dst, weights_only=True)['state_dict']
    assert torch.equal(sd['cls_head.fc_cls.weight'], w[indices])
    # the config's UniFormerV2Head(channel_map=...) is honoured
    cfg = v2_model_cfg(num_classes=400, channel_map=cmap)
    dst2 = tmp_path / 'k400_cfg.pth'
    assert run_tool(src, dst2, '--config',
                    write_cfg(tmp_path / 'cfg.py', cfg)) == 0
    sd = torch.load(dst2, weights_only=True)['state_dict']
    assert torch.equal(sd['cls_head.fc_cls.weight'], w[indices])
    # official K710 -> K400 rule: first 400 rows
    dst3 = tmp_path / 'k400_first.pth'
    assert run_tool(src, dst3, '--num-classes', 400) == 0
    sd = torch.load(dst3, weights_only=True)['state_dict']
    assert torch.equal(sd['cls_head.fc_cls.weight'], w[:400])


def test_clip_to_v2(tmp_path):
    """CLIP image encoder (``visual.*`` keys) -> V2 backbone, conv1 with
    the centre-frame rule."""
    cfg = v2_model_cfg(temporal_downsample=True)
    model = build(cfg)
    vit = {k: v for k, v in perturb_(build(cfg)).backbone.state_dict(
    ).items() if k in model.backbone.vit_state_keys()}
    w2d = vit['conv1.weight'][:, :, 1].clone()
    clip = {'visual.' + k: v for k, v in vit.items()}
    clip['visual.conv1.weight'] = w2d
    clip['visual.proj'] = torch.zeros(32, 16)
    clip['visual.ln_post.weight'] = torch.ones(32)
    clip['token_embedding.weight'] = torch.zeros(10, 16)  # text tower
    assert detect_format(clip) == 'clip'
    src = tmp_path / 'clip.pth'
    torch.save(clip, src)
    load_pretrained_backbone(model.backbone, str(src))
    conv1 = model.backbone.conv1.weight.detach()
    assert torch.equal(conv1[:, :, 1], w2d)
    assert not conv1[:, :, 0].any() and not conv1[:, :, 2].any()
    dst = tmp_path / 'v2.pth'
    assert run_tool(src, dst, '--inflate-frames', 3) == 0
    sd = torch.load(dst, weights_only=True)['state_dict']
    assert sd['backbone.conv1.weight'].shape[2] == 3
    assert 'backbone.proj' not in sd and 'backbone.ln_post.weight' not in sd


# ---------------------------------------------------------------------------
# mmaction2 layout
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('family', ['v1', 'v2'])
def test_mmaction_round_trip(tmp_path, family):
    cfg = v1_model_cfg('video', TINY) if family == 'v1' else v2_model_cfg()
    ref = perturb_(build(cfg))
    ours = OrderedDict(ref.state_dict())
    mm = to_mmaction(ours)
    back = (convert_v1_mmaction if family == 'v1' else
            convert_v2_mmaction)(mm)
    assert list(back) == list(ours)
    for k in ours:
        assert torch.equal(back[k], ours[k]), k
    # an mmaction2 zoo file (no uniformer meta) is detected as such
    zoo = {'state_dict': mm, 'meta': {'mmaction2_version': '1.2.0'}}
    assert detect_format(zoo) == f'{family}_mmaction'
    # the tool writes the mmaction2 layout and reads it back
    src = tmp_path / 'ours.pth'
    torch.save({'state_dict': ours, 'meta': {}}, src)
    dst = tmp_path / 'mm.pth'
    assert run_tool(src, dst, '--to', 'mmaction') == 0
    out = torch.load(dst, weights_only=True)['state_dict']
    model = build(cfg).eval()
    model.load_state_dict(out, strict=True)
    x = input_for(cfg)
    assert_same(logits(model, x), logits(ref, x))


def test_to_mmaction_refuses_what_mmaction_cannot_build():
    image = build(v1_model_cfg('image', TINY)).state_dict()
    with pytest.raises(CheckpointError, match='no image UniFormer'):
        to_mmaction(image)
    light = build(v1_model_cfg('light_video', LIGHT)).state_dict()
    with pytest.raises(CheckpointError, match='light'):
        to_mmaction(light)
    frozen = build(v2_model_cfg(frozen=True)).state_dict()
    with pytest.raises(CheckpointError, match='frozen'):
        to_mmaction(frozen)


# ---------------------------------------------------------------------------
# inflation
# ---------------------------------------------------------------------------
def test_inflate_v1_average_over_time(tmp_path):
    image = perturb_(build(v1_model_cfg('image', TINY)))
    isd = image.backbone.state_dict()
    src = tmp_path / 'official_image.pth'
    torch.save({'model': to_official_v1(image.state_dict())}, src)
    video = build(v1_model_cfg('video', TINY, init_cfg=dict(
        type='Pretrained', checkpoint=str(src))))
    video.backbone.init_weights()
    vsd = video.backbone.state_dict()
    for key, t in [('patch_embed1.proj.weight', 3),
                   ('blocks1.0.pos_embed.weight', 3),
                   ('blocks1.0.attn.weight', 5),
                   ('blocks2.0.conv1.weight', 1),
                   ('patch_embed2.proj.weight', 1)]:
        assert vsd[key].shape[2] == t
        w = isd[key]
        for i in range(t):
            assert torch.equal(vsd[key][:, :, i], w / t), key
    # exact numbers on one element
    a = isd['blocks1.0.attn.weight'][3, 0, 2, 1]
    assert vsd['blocks1.0.attn.weight'][3, 0, :, 2, 1].tolist() == \
        [(a / 5).item()] * 5
    for key in ('blocks3.0.attn.qkv.weight', 'norm.running_var',
                'patch_embed1.norm.weight'):
        assert torch.equal(vsd[key], isd[key])
    # the converter inflates without a config too (inferred video arch)
    dst = tmp_path / 'video.pth'
    assert run_tool(src, dst, '--inflate-frames', 8) == 0
    sd = torch.load(dst, weights_only=True)['state_dict']
    video = build(v1_model_cfg('video', TINY, num_classes=NUM_CLASSES))
    video.load_state_dict(sd, strict=True)
    assert torch.equal(sd['backbone.blocks1.0.attn.weight'],
                       vsd['blocks1.0.attn.weight'])


def test_inflate_v2_centre_frame():
    w = torch.randn(8, 3, 4, 4)
    sd, report = inflate_v2({'conv1.weight': w},
                            {'conv1.weight': (8, 3, 3, 4, 4)})
    out = sd['conv1.weight']
    assert torch.equal(out[:, :, 1], w)
    assert not out[:, :, 0].any() and not out[:, :, 2].any()
    assert report.inflated == [('conv1.weight', (8, 3, 4, 4),
                                (8, 3, 3, 4, 4))]


def test_inflate_skips_and_reports():
    src = {'a.weight': torch.ones(4, 2, 3, 3),
           'head.weight': torch.ones(10, 4), 'gone.weight': torch.ones(1),
           'odd.weight': torch.ones(4, 2, 3, 3)}
    target = {'a.weight': (4, 2, 3, 3, 3), 'head.weight': (7, 4),
              'odd.weight': (4, 2, 5, 5, 5)}
    sd, report = inflate_v1(src, target)  # no KeyError
    assert torch.allclose(sd['a.weight'], torch.full((4, 2, 3, 3, 3), 1 / 3))
    assert report.skipped == ['gone.weight']
    assert [k for k, *_ in report.dropped] == ['head.weight', 'odd.weight']
    assert set(sd) == {'a.weight'}
    text = '\n'.join(report.lines())
    assert 'gone.weight' in text and 'head.weight [10, 4] -> [7, 4]' in text
    with pytest.raises(ValueError):
        inflate_state_dict(src, target, mode='median')


# ---------------------------------------------------------------------------
# classes
# ---------------------------------------------------------------------------
def _head_sd(rows, width=4, prefix='cls_head.fc_cls.'):
    torch.manual_seed(0)
    return OrderedDict([('backbone.x', torch.zeros(1)),
                        (prefix + 'weight', torch.randn(rows, width)),
                        (prefix + 'bias', torch.randn(rows))])


def test_label_map_remap(tmp_path):
    """Official (here: shuffled) order -> mmaction2's K400 label file."""
    mm = headlib.read_label_map(label_map('kinetics400.txt'))
    assert len(mm) == 400
    official = mm[:]
    random.Random(0).shuffle(official)
    src_map = tmp_path / 'classids.json'  # SlowFast-style {name: index}
    src_map.write_text(json.dumps(
        {f'"{n}"' if i % 2 else n: i for i, n in enumerate(official)}))
    sd = _head_sd(400)
    out = headlib.remap_by_label_maps(
        sd, str(src_map), label_map('kinetics400.txt'))
    for j, name in enumerate(mm[:50]):
        i = official.index(name)
        assert torch.equal(out['cls_head.fc_cls.weight'][j],
                           sd['cls_head.fc_cls.weight'][i])
        assert out['cls_head.fc_cls.bias'][j] == sd['cls_head.fc_cls.bias'][i]
    # via the tool, with a tiny 4-class map
    a, b = tmp_path / 'a.txt', tmp_path / 'b.txt'
    a.write_text('run\njump\nswim\nclimb\n')
    b.write_text('swim\nrun\n')
    ckpt = tmp_path / 'ours.pth'
    torch.save({'state_dict': _head_sd(4, prefix='head.fc.')}, ckpt)
    dst = tmp_path / 'out.pth'
    assert run_tool(ckpt, dst, '--src-format', 'ours', '--label-map-from', a,
                    '--label-map-to', b) == 0
    w = torch.load(dst, weights_only=True)['state_dict']['head.fc.weight']
    assert torch.equal(w, _head_sd(4, prefix='head.fc.')['head.fc.weight'][
        [2, 0]])


def test_label_map_unknown_class(tmp_path):
    a, b = tmp_path / 'a.txt', tmp_path / 'b.txt'
    a.write_text('run\njump\n')
    b.write_text('run\nfly\n')
    with pytest.raises(CheckpointError, match="'fly'"):
        headlib.remap_by_label_maps(_head_sd(2), str(a), str(b))


def test_k710_by_names_needs_the_channel_map():
    """K710 uses K700 names for renamed K400 classes: name matching fails
    with a clear message, the channel map works."""
    k710 = headlib.read_label_map(label_map('kinetics710.txt'))
    k400 = headlib.read_label_map(label_map('kinetics400.txt'))
    with pytest.raises(CheckpointError, match='channel-map'):
        headlib.label_indices(k710, k400)
    indices = headlib.read_channel_map(
        label_map('k710_channel_map_k400.json'))
    out = headlib.select_rows(_head_sd(710), indices)
    assert out['cls_head.fc_cls.weight'].shape == (400, 4)


def test_drop_head_and_slice(tmp_path):
    sd = _head_sd(10)
    assert headlib.num_classes(headlib.slice_rows(sd, 3)) == 3
    with pytest.raises(CheckpointError, match='cannot make 12'):
        headlib.slice_rows(sd, 12)
    assert headlib.classifier_keys(headlib.drop_head(sd)) == []
    # tool: --drop-head with a config re-initialises the classifier
    arch, kind, _ = V1_VARIANTS['image']
    ref = perturb_(build(v1_model_cfg(kind, arch, num_classes=1000)))
    src = tmp_path / 'official.pth'
    torch.save({'model': to_official_v1(ref.state_dict())}, src)
    cfg = v1_model_cfg(kind, arch, num_classes=3)
    dst = tmp_path / 'out.pth'
    assert run_tool(src, dst, '--config', write_cfg(tmp_path / 'c.py', cfg),
                    '--drop-head') == 0
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['uniformer_convert']['reinitialized'] == [
        'head.fc.bias', 'head.fc.weight']
    missing = build(cfg).load_state_dict(ckpt['state_dict'],
                                         strict=False).missing_keys
    assert sorted(missing) == ['head.fc.bias', 'head.fc.weight']


# ---------------------------------------------------------------------------
# head_dim
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('name,expected', [
    ('uniformer_small_in1k.pth', 64),
    ('uniformer_small_plus_in1k.pth', 32),
    ('uniformer_small_plus_dim64_in1k.pth', 64),
    ('uniformer_base_ls_in1k.pth', 64),
    ('uniformer_small_tl_224.pth', 32),
    ('uniformer_base_tl_384.pth', 32),
    ('uniformer_large_ls_tl_384.pth', 64),
    ('uniformer_small_k400_16x4.pth', 64),
    ('uniformer_xxs16_160_k400.pth', 28),
    ('uniformer_xs_192_in1k.pth', 32),
    ('my_model.pth', None),
])
def test_head_dim_from_filename(name, expected):
    assert head_dim_from_filename(name)[0] == expected


def test_head_dim_recorded_and_checked(tmp_path, capsys):
    arch, kind, _ = V1_VARIANTS['image']
    cfg16 = v1_model_cfg(kind, arch)
    cfg32 = v1_model_cfg(kind, dict(arch, head_dim=32))
    model = perturb_(build(cfg16))
    sd = model.state_dict()
    assert sd._metadata['backbone']['uniformer_arch']['head_dim'] == 16
    # a checkpoint saved like mmengine's runner does
    path = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': sd, 'meta': {}}, path)
    with pytest.raises(HeadDimMismatchError,
                       match='head_dim=16 .* head_dim=32'):
        load_checkpoint(build(cfg32), str(path))
    load_checkpoint(build(cfg16), str(path), strict=True)  # same: fine
    # backbone init_cfg
    bad = build(v1_model_cfg(kind, dict(arch, head_dim=32), init_cfg=dict(
        type='Pretrained', checkpoint=str(path))))
    with pytest.raises(HeadDimMismatchError, match='Set head_dim=16'):
        bad.backbone.init_weights()
    # the converter records it and refuses a config with another one
    dst = tmp_path / 'out.pth'
    assert run_tool(path, dst) == 0
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['uniformer_arch']['head_dim'] == 16
    dst2 = tmp_path / 'out32.pth'
    capsys.readouterr()
    assert run_tool(dst, dst2, '--config',
                    write_cfg(tmp_path / 'c32.py', cfg32)) == 2
    assert_one_line_error(capsys.readouterr().err, 'head_dim=16',
                          'head_dim=32', 'Set head_dim=16')
    assert_no_output(str(dst2))


def test_head_dim_from_official_file_name(tmp_path):
    arch = dict(TINY, conv_stem=True, head_dim=32)
    cfg = v1_model_cfg('image', arch)
    ref = perturb_(build(cfg))
    src = tmp_path / 'uniformer_small_plus_dim64_in1k.pth'
    torch.save({'model': to_official_v1(ref.state_dict())}, src)
    model = build(v1_model_cfg('image', arch, init_cfg=dict(
        type='Pretrained', checkpoint=str(src))))
    with pytest.raises(HeadDimMismatchError, match=r'head_dim=64 \(from its '
                       r'file name.*head_dim=32'):
        model.backbone.init_weights()
    with pytest.raises(HeadDimMismatchError):
        load_checkpoint(build(cfg), str(src))
    # --head-dim declares it (e.g. a renamed file)
    dst = tmp_path / 'out.pth'
    assert run_tool(src, dst, '--config', write_cfg(tmp_path / 'c.py', cfg),
                    '--head-dim', 32) == 0
    # a neutral name cannot be verified: loads, with a warning
    neutral = tmp_path / 'weights.pth'
    torch.save({'model': to_official_v1(ref.state_dict())}, neutral)
    load_checkpoint(build(cfg), str(neutral), strict=True)


# ---------------------------------------------------------------------------
# reading and writing
# ---------------------------------------------------------------------------
def test_unsafe_pickle_refused_then_allowed(tmp_path):
    src = tmp_path / 'legacy.pth'
    sd = to_official_v1(build(v1_model_cfg('image', TINY)).state_dict())
    torch.save({'model': sd, 'path': pathlib.PurePosixPath('/data')}, src)
    with pytest.raises(UnsafePickleError) as err:
        load_checkpoint_file(str(src))
    msg = str(err.value)
    assert '\n' not in msg and str(src) in msg
    assert '--allow-unsafe-pickle' in msg and 'allow_unsafe=True' in msg
    assert 'PurePosixPath' in msg
    assert load_checkpoint_file(str(src), allow_unsafe=True)['path'] == \
        pathlib.PurePosixPath('/data')
    dst = tmp_path / 'out.pth'
    proc = run_tool_subprocess(src, dst)
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, str(src), '--allow-unsafe-pickle')
    assert_no_output(str(dst))
    assert run_tool(src, dst, '--allow-unsafe-pickle') == 0
    assert detect_format(torch.load(dst, weights_only=True)) == 'ours'


def test_truncated_file(tmp_path):
    src = tmp_path / 'official.pth'
    torch.save({'model': to_official_v1(build(v1_model_cfg(
        'image', TINY)).state_dict())}, src)
    data = src.read_bytes()
    src.write_bytes(data[:len(data) // 2])
    with pytest.raises(CorruptCheckpointError, match='truncated'):
        load_checkpoint_file(str(src))
    dst = tmp_path / 'out.pth'
    proc = run_tool_subprocess(src, dst)
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, str(src), 'truncated')
    assert_no_output(str(dst))


def test_wrong_variant_names_the_fitting_arch(tmp_path):
    ref = build(v1_model_cfg('image', TINY))
    src = tmp_path / 'official.pth'
    torch.save({'model': to_official_v1(ref.state_dict())}, src)
    cfg = v1_model_cfg('image', dict(TINY, depths=[1, 1, 2, 1]))
    dst = tmp_path / 'out.pth'
    proc = run_tool_subprocess(src, dst, '--config',
                               write_cfg(tmp_path / 'c.py', cfg))
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, 'does not fit', 'missing',
                          'depths=[1, 1, 1, 1]')
    assert_no_output(str(dst))


def test_other_failures_one_line(tmp_path, capsys):
    dst = tmp_path / 'out.pth'
    # unknown format
    junk = tmp_path / 'junk.pth'
    torch.save({'state_dict': {'encoder.weight': torch.zeros(2)}}, junk)
    assert run_tool(junk, dst) == 2
    assert_one_line_error(capsys.readouterr().err,
                          'unknown checkpoint format', '--src-format')
    assert_no_output(str(dst))
    # class-count mismatch without a mapping
    arch, kind, _ = V1_VARIANTS['video']
    src = tmp_path / 'official_video.pth'
    torch.save({'model_state': to_official_v1(build(v1_model_cfg(
        kind, arch, num_classes=400)).state_dict())}, src)
    cfg = write_cfg(tmp_path / 'c.py', v1_model_cfg(kind, arch))
    capsys.readouterr()
    assert run_tool(src, dst, '--config', cfg) == 2
    assert_one_line_error(capsys.readouterr().err, 'class-count mismatch',
                          '400', '--num-classes 5', '--drop-head')
    assert_no_output(str(dst))
    # an image model's head cannot go to mmaction2
    img = tmp_path / 'official_image.pth'
    torch.save({'model': to_official_v1(build(v1_model_cfg(
        'image', TINY)).state_dict())}, img)
    assert run_tool(img, dst, '--to', 'mmaction') == 2
    assert_one_line_error(capsys.readouterr().err, 'no image UniFormer')
    assert_no_output(str(dst))
    # options that contradict each other
    assert run_tool(src, dst, '--label-map-from', 'a.txt') == 2
    assert_one_line_error(capsys.readouterr().err, '--label-map-to')
    assert_no_output(str(dst))


def test_atomic_save_leaves_nothing_on_failure(tmp_path):
    dst = tmp_path / 'out.pth'
    with pytest.raises(Exception):
        save_checkpoint_atomic({'f': lambda: 0}, str(dst))
    assert os.listdir(tmp_path) == []
    save_checkpoint_atomic({'a': torch.ones(1)}, str(dst))
    assert os.listdir(tmp_path) == ['out.pth']
    save_checkpoint_atomic({'a': torch.zeros(1)}, str(dst))  # replaces
    assert torch.load(dst)['a'].item() == 0


def test_detect_formats_table():
    sd = to_official_v1(build(v1_model_cfg('image', TINY)).state_dict())
    assert detect_format({'model': sd}) == 'v1_image'
    assert detect_format(sd) == 'v1_image'
    assert detect_format({'module.' + k: v for k, v in sd.items()}) == \
        'v1_image'
    ours = build(v1_model_cfg('image', TINY)).state_dict()
    assert detect_format({'state_dict': ours, 'meta': {}}) == 'ours'
    vit = {'conv1.weight': torch.zeros(8, 3, 16, 16),
           'transformer.resblocks.0.ln_1.weight': torch.zeros(8)}
    assert detect_format(vit) == 'clip'
    with pytest.raises(CheckpointError):
        detect_format({'a': 1})

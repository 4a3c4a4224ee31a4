"""Tests of the UniFormerV2 backbone, head, CLIP init and FLOP counter."""
import copy
import json
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import uniformer_mm  # noqa: F401  (compat fixes before mmaction.models)
from uniformer_mm.analysis.flops import count_flops
from uniformer_mm.checkpoint.clip import (clip_to_uniformerv2, inflate_center,
                                          read_clip_checkpoint,
                                          resize_pos_embed)
from uniformer_mm.checkpoint.coverage import PartialLoadError
from uniformer_mm.checkpoint.io import CheckpointError
from uniformer_mm.checkpoint.mmaction_v2 import mmaction_to_uniformerv2
from uniformer_mm.models.backbones import uniformerv2 as v2_module
from uniformer_mm.models.backbones.uniformerv2 import UniFormerV2Video
from uniformer_mm.models.heads.uniformerv2_head import UniFormerV2Head

from mmaction.registry import MODELS  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from uniformer_mm.label_maps import resolve_path  # noqa: E402

from _paths import label_map  # noqa: E402


# a tiny ViT used by most tests (patch 16 on 64x64 -> 4x4 grid)
TINY = dict(input_resolution=64, patch_size=16, width=32, layers=3, heads=2)
KINETICS_STYLE = dict(
    no_lmhra=True, double_lmhra=False, temporal_downsample=False)
STH_STYLE = dict(no_lmhra=False, double_lmhra=True, temporal_downsample=True)


def tiny_backbone(**kwargs):
    cfg = dict(arch=dict(TINY), return_list=[1, 2], t_size=4)
    cfg.update(kwargs)
    return UniFormerV2Video(**cfg)


def perturb_(module, std=0.1, seed=0):
    """Add noise to every float parameter/buffer (zero-initialised output
    projections, BN statistics...) so that no branch is trivially zero."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if not t.is_floating_point():
                continue
            noise = torch.randn(t.shape, generator=gen) * std
            if name.endswith('running_var'):
                t.add_(noise.abs())
            else:
                t.add_(noise)
    return module


def build(cfg):
    """Build from mmaction2's registry (nested builds in its scope)."""
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(cfg)


def n_params(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


# ---------------------------------------------------------------------------
# parameter counts of the released configurations (meta device)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    'arch,num_classes,extra,expected_m', [
        ('vit-b16', 400, {}, 114.55),
        ('vit-l14', 400, {}, 354.10),
        ('vit-l14-336', 400, {}, 354.43),
        ('vit-b16', 174, dict(return_list=list(range(4, 12)), **STH_STYLE),
         162.99),
        ('vit-l14', 174, dict(return_list=list(range(8, 24)), **STH_STYLE),
         573.95),
    ])
def test_param_counts(arch, num_classes, extra, expected_m):
    with torch.device('meta'):
        backbone = UniFormerV2Video(arch=arch, **extra)
        head = UniFormerV2Head(num_classes, backbone.width)
    count = n_params(backbone, head)
    assert abs(count / 1e6 - expected_m) / expected_m < 1e-3, count
    n_global = len(extra.get('return_list', [0] * 4))
    assert len(backbone.transformer.dec) == n_global


def test_frozen_param_count_and_keys():
    with torch.device('meta'):
        full = UniFormerV2Video(arch='vit-l14-336')
        frozen = UniFormerV2Video(arch='vit-l14-336', frozen=True)
    assert n_params(full) - n_params(frozen) == 1024
    assert 'transformer.balance' in full.state_dict()
    assert 'transformer.balance' not in frozen.state_dict()
    # official key count of the frozen L/14 (362) minus proj.2 (2 keys)
    assert len(frozen.state_dict()) == 362 - 2
    assert len(full.state_dict()) == 363 - 2


def test_arch_names_and_validation():
    with torch.device('meta'):
        a = UniFormerV2Video(arch='ViT-L/14_336')
        assert a.grid == (24, 24) and a.width == 1024
        b = UniFormerV2Video(arch='vit-b16')
        assert b.transformer.return_list == [8, 9, 10, 11]
        assert b.conv1.weight.shape == (768, 3, 1, 16, 16)
        c = UniFormerV2Video(arch='vit-b16', temporal_downsample=True)
        assert c.conv1.weight.shape == (768, 3, 3, 16, 16)
        assert c.conv1.stride == (2, 16, 16)
        with pytest.raises(KeyError):
            UniFormerV2Video(arch='vit-h14')
        with pytest.raises(ValueError):
            UniFormerV2Video(arch='vit-b16', n_layers=3)
        with pytest.raises(ValueError):
            UniFormerV2Video(arch='vit-b16', n_dim=512)
    built = build(dict(type='UniFormerV2Video', arch=dict(TINY),
                              return_list=[2]))
    assert isinstance(built, UniFormerV2Video)


# ---------------------------------------------------------------------------
# FLOPs
# ---------------------------------------------------------------------------
def test_sdpa_flop_handle():
    """The SDPA handle counts q@k^T + attn@v; mmengine alone counts 0."""
    from mmengine.analysis import FlopAnalyzer

    class Attn(nn.Module):

        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v)

    q = torch.randn(2, 3, 5, 8)
    k = torch.randn(2, 3, 7, 8)
    v = torch.randn(2, 3, 7, 4)
    flops, params = count_flops(Attn(), (q, k, v))
    assert flops == 2 * 3 * 5 * 7 * (8 + 4)
    assert params == 0
    plain = FlopAnalyzer(Attn(), (q, k, v))
    plain.unsupported_ops_warnings(False)
    assert plain.total() == 0


def test_tiny_flops_analytic():
    """Exact MAC count of a tiny Kinetics-style model."""
    model = tiny_backbone(**KINETICS_STYLE)
    t, c, g = 4, 32, 16  # frames, width, patches per frame
    tokens = t * (g + 1)
    vit_block = tokens * 12 * c * c + t * (g + 1) * (g + 1) * c * 2
    conv = t * g * 3 * 16 * 16 * c
    dec = (2 * tokens * c * c  # k, v
           + c * c + c * c + 2 * 4 * c * c  # q, out, mlp for one query
           + tokens * 2 * c  # attention of the single query
           + t * g * c * 27)  # dpe (depthwise 3x3x3)
    # ln_pre + 2 per ViT block on all tokens; ln_1, ln_2 on the query and
    # ln_3 on the tokens per global block; the final norm on the query
    ln = 5 * c * ((1 + 2 * 3) * tokens + 2 * (2 + tokens) + 1)
    expected = conv + 3 * vit_block + 2 * dec + ln
    flops, _ = count_flops(model, torch.randn(1, 3, 4, 64, 64))
    assert flops == expected


@pytest.mark.slow
def test_flops_b16_k400():
    model = UniFormerV2Video(arch='vit-b16')
    flops, params = count_flops(model, torch.randn(1, 3, 8, 224, 224))
    assert abs(flops / 148e9 - 1) < 0.03, flops
    assert abs(params - 114.24e6) / 114.24e6 < 1e-3, params


# ---------------------------------------------------------------------------
# equivalence with mmaction2's port
# ---------------------------------------------------------------------------
def build_pair(arch, num_classes, **kwargs):
    """mmaction2's recognizer and ours, same config, mmaction2 weights."""
    from mmaction.models.backbones.uniformerv2 import UniFormerV2  # noqa
    mm_backbone = dict(
        type='UniFormerV2',
        input_resolution=arch['input_resolution'],
        patch_size=arch['patch_size'],
        width=arch['width'],
        layers=arch['layers'],
        heads=arch['heads'],
        n_dim=arch['width'],
        n_head=arch['heads'],
        n_layers=len(kwargs['return_list']),
        clip_pretrained=False,
        **kwargs)
    if 'mlp_dropout' not in kwargs:
        mm_backbone['mlp_dropout'] = [0.5] * len(kwargs['return_list'])
    ours_backbone = dict(type='UniFormerV2Video', arch=dict(arch), **kwargs)
    mm = build(
        dict(
            type='Recognizer3D',
            backbone=mm_backbone,
            cls_head=dict(
                type='UniFormerHead',
                num_classes=num_classes,
                in_channels=arch['width'],
                dropout_ratio=0.5)))
    ours = build(
        dict(
            type='Recognizer3D',
            backbone=ours_backbone,
            cls_head=dict(
                type='UniFormerV2Head',
                num_classes=num_classes,
                in_channels=arch['width'])))
    return mm.eval(), ours.eval()


def logits(recognizer, x):
    return recognizer.cls_head(recognizer.backbone(x))


def check_equivalence(arch, num_classes, x, atol, std=0.1, **kwargs):
    mm, ours = build_pair(arch, num_classes, **kwargs)
    perturb_(mm, std=std)
    mm_sd = mm.state_dict()
    converted = mmaction_to_uniformerv2(mm_sd)
    assert set(converted) == set(ours.state_dict())
    ours.load_state_dict(converted, strict=True)
    with torch.no_grad():
        ref = logits(mm, x)
        out = logits(ours, x)
        feat = ours.backbone(x)
    assert feat.shape == (x.shape[0], arch['width'])
    assert out.shape == (x.shape[0], num_classes)
    torch.testing.assert_close(out, ref, atol=atol, rtol=0)
    return ours


@pytest.mark.parametrize('style', ['kinetics', 'sth'])
def test_equivalence_with_mmaction2_small(style):
    torch.manual_seed(0)
    arch = dict(input_resolution=64, patch_size=16, width=64, layers=4,
                heads=4)
    kwargs = dict(KINETICS_STYLE if style == 'kinetics' else STH_STYLE)
    kwargs.update(t_size=4, return_list=[1, 2, 3])
    x = torch.randn(2, 3, 4, 64, 64)
    check_equivalence(arch, 7, x, atol=1e-4, **kwargs)


@pytest.mark.slow
def test_equivalence_with_mmaction2_b16_k400():
    torch.manual_seed(0)
    arch = dict(UniFormerV2Video.arch_zoo['vit-b16'])
    kwargs = dict(KINETICS_STYLE, t_size=8, return_list=arch.pop(
        'return_list'))
    x = torch.randn(1, 3, 8, 224, 224)
    check_equivalence(arch, 400, x, atol=1e-4, std=0.02, **kwargs)


def test_mmaction_converter_frozen_and_unknown_keys():
    sd = OrderedDict([('backbone.transformer.balance', torch.zeros(3)),
                      ('backbone.conv1.weight', torch.zeros(1)),
                      ('data_preprocessor.mean', torch.zeros(3))])
    out = mmaction_to_uniformerv2({'state_dict': sd, 'meta': {}},
                                  frozen=True)
    assert list(out) == ['backbone.conv1.weight']
    with pytest.raises(KeyError):
        mmaction_to_uniformerv2({'backbone.transformer.proj.0.weight': 1})


# ---------------------------------------------------------------------------
# training behaviour
# ---------------------------------------------------------------------------
def test_frozen_training_step():
    torch.manual_seed(0)
    backbone = perturb_(tiny_backbone(frozen=True, **STH_STYLE))
    head = UniFormerV2Head(5, 32)
    assert 'transformer.balance' not in backbone.state_dict()
    vit = {k: v.detach().clone() for k, v in backbone.named_parameters()
           if k.startswith(v2_module.VIT_PREFIXES)}
    assert vit and all(not p.requires_grad for k, p in
                       backbone.named_parameters() if k in vit)
    rest = {k: v.detach().clone() for k, v in backbone.named_parameters()
            if k not in vit}
    head_before = head.fc_cls.weight.detach().clone()
    params = list(backbone.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.05)
    backbone.train()
    head.train()
    x = torch.randn(2, 3, 4, 64, 64)
    loss = F.cross_entropy(head(backbone(x)), torch.tensor([1, 3]))
    loss.backward()
    opt.step()
    for k, p in backbone.named_parameters():
        if k in vit:
            assert p.grad is None, k
            assert torch.equal(p, vit[k]), k
    changed = [k for k, p in backbone.named_parameters()
               if k in rest and not torch.equal(p, rest[k])]
    assert any(k.startswith('transformer.dec.') for k in changed)
    assert any(k.startswith('transformer.dpe.') for k in changed)
    assert 'transformer.temporal_cls_token' in changed
    assert 'transformer.norm.weight' in changed
    assert not torch.equal(head.fc_cls.weight, head_before)


def test_frozen_output_is_global_query():
    torch.manual_seed(0)
    model = perturb_(tiny_backbone(frozen=True)).eval()
    captured = {}
    model.transformer.dec[-1].register_forward_hook(
        lambda m, i, o: captured.setdefault('q', o))
    with torch.no_grad():
        out = model(torch.randn(2, 3, 4, 64, 64))
    expected = model.transformer.norm(captured['q'][:, 0])
    torch.testing.assert_close(out, expected)


def grads_of(model, x, seed):
    torch.manual_seed(seed)
    model.zero_grad()
    out = model(x)
    (out * torch.linspace(-1, 1, out.shape[-1])).sum().backward()
    return {k: p.grad.clone() for k, p in model.named_parameters()}


def test_activation_checkpointing_same_gradients():
    torch.manual_seed(0)
    cfg = dict(backbone_drop_path_rate=0.2, drop_path_rate=0.3,
               mlp_dropout=0.5, **STH_STYLE)
    plain = perturb_(tiny_backbone(**cfg)).train()
    ckpt = tiny_backbone(with_cp=True, checkpoint_num=[2], **cfg).train()
    ckpt.load_state_dict(plain.state_dict())
    assert ckpt.transformer.checkpoint_num == 2
    x = torch.randn(2, 3, 4, 64, 64, requires_grad=False)
    g1 = grads_of(plain, x, seed=1)
    g2 = grads_of(ckpt, x, seed=1)
    assert set(g1) == set(g2)
    for k in g1:
        torch.testing.assert_close(g2[k], g1[k], atol=1e-6, rtol=1e-5,
                                   msg=k)
    # BN statistics updated once per forward, as without checkpointing
    for (k, a), b in zip(plain.state_dict().items(),
                         ckpt.state_dict().values()):
        torch.testing.assert_close(b, a, msg=k)
    # all blocks (checkpoint_num=None) also match
    full = tiny_backbone(with_cp=True, **cfg).train()
    full.load_state_dict(ckpt.state_dict())
    plain.load_state_dict(ckpt.state_dict())
    g3 = grads_of(full, x, seed=2)
    g4 = grads_of(plain, x, seed=2)
    for k in g3:
        torch.testing.assert_close(g3[k], g4[k], atol=1e-6, rtol=1e-5,
                                   msg=k)


def test_backward_through_global_branch():
    torch.manual_seed(0)
    model = perturb_(tiny_backbone(**STH_STYLE)).train()
    x = torch.randn(2, 3, 4, 64, 64)
    with torch.autograd.set_detect_anomaly(True):
        model(x).pow(2).sum().backward()
    grads = {name: p.grad for name, p in model.named_parameters()}
    for name, grad in grads.items():
        assert grad is not None, name
        assert torch.isfinite(grad).all(), name
    for name in ('transformer.temporal_cls_token', 'transformer.balance',
                 'transformer.dpe.0.weight', 'transformer.dec.1.ln_3.weight',
                 'transformer.resblocks.2.lmhra2.pos_embed.3.weight',
                 'transformer.resblocks.0.attn.in_proj_weight',
                 'positional_embedding', 'conv1.weight'):
        assert grads[name].abs().sum() > 0, name


def test_recognizer_loss_and_predict():
    from mmaction.structures import ActionDataSample
    torch.manual_seed(0)
    model = build(
        dict(
            type='Recognizer3D',
            backbone=dict(type='UniFormerV2Video', arch=dict(TINY),
                          return_list=[1, 2]),
            cls_head=dict(type='UniFormerV2Head', num_classes=4,
                          in_channels=32, average_clips='prob'),
            data_preprocessor=dict(
                type='ActionDataPreprocessor',
                mean=[114.75, 114.75, 114.75],
                std=[57.375, 57.375, 57.375],
                format_shape='NCTHW')))
    model.init_weights()
    samples = [ActionDataSample().set_gt_label(i) for i in (1, 2)]
    one_clip = [torch.randint(0, 255, (1, 3, 4, 64, 64)).float()
                for _ in range(2)]
    data = model.data_preprocessor(dict(inputs=one_clip,
                                        data_samples=samples), True)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_cls'])
    model.eval()
    two_clips = [torch.randint(0, 255, (2, 3, 4, 64, 64)).float()
                 for _ in range(2)]
    data = model.data_preprocessor(dict(inputs=two_clips,
                                        data_samples=samples), False)
    preds = model(**data, mode='predict')
    assert preds[0].pred_score.shape == (4, )


# ---------------------------------------------------------------------------
# initialisation
# ---------------------------------------------------------------------------
def check_official_init(model, vit=True):
    tr = model.transformer
    for dec in tr.dec:
        assert not dec.attn.out_proj.weight.any()
        assert not dec.attn.out_proj.bias.any()
        assert not dec.attn.in_proj_bias.any()
        assert not dec.mlp.c_proj.weight.any()
        assert not dec.mlp.c_proj.bias.any()
        assert dec.attn.in_proj_weight.std() > 0
        bound = (6 / sum(dec.mlp.c_fc.weight.shape))**0.5  # xavier
        assert dec.mlp.c_fc.weight.abs().max() <= bound
    assert not tr.temporal_cls_token.any() and not tr.balance.any()
    assert all(not d.bias.any() for d in tr.dpe)
    for blk in tr.resblocks:
        assert not blk.lmhra1.pos_embed[3].weight.any()
        assert not blk.lmhra2.pos_embed[3].bias.any()
        if vit:  # (not when the ViT comes from CLIP)
            assert not blk.attn.in_proj_bias.any()
            assert blk.attn.out_proj.weight.std() > 0
    assert model.class_embedding.std() > 0
    # zero-initialised global blocks: the query passes unchanged
    model.eval()
    with torch.no_grad():
        q = tr.temporal_cls_token.expand(1, -1, -1) + 1
        assert torch.equal(tr.dec[0](q, torch.randn(1, 10, q.shape[-1])), q)


def test_init_weights_restores_official_init():
    from mmengine.model import initialize
    model = tiny_backbone(init_cfg=dict(type='TruncNormal', layer='Linear',
                                        std=0.02), **STH_STYLE)
    check_official_init(model)  # as constructed
    # what a parent's init_cfg (or mmengine's default) would do to it
    initialize(model, dict(type='Constant', layer=['Linear', 'Conv3d'],
                           val=0.3, bias=0.3))
    with torch.no_grad():
        model.transformer.balance.fill_(1.)
    assert model.transformer.dec[0].mlp.c_proj.weight.all()
    model.init_weights()
    check_official_init(model)
    # the same inside a recognizer whose own init_cfg clobbers Linear layers
    rec = build(dict(
        type='Recognizer3D',
        backbone=dict(type='UniFormerV2Video', arch=dict(TINY),
                      return_list=[1, 2], **STH_STYLE),
        cls_head=dict(type='UniFormerV2Head', num_classes=3, in_channels=32)))
    rec.init_cfg = dict(type='Constant', layer='Linear', val=0.3, bias=0.3)
    rec.init_weights()
    check_official_init(rec.backbone)


def test_pretrained_init_cfg(tmp_path):
    torch.manual_seed(0)
    src = perturb_(tiny_backbone())
    ckpt = tmp_path / 'v2.pth'
    torch.save({'state_dict': {'backbone.' + k: v
                               for k, v in src.state_dict().items()}}, ckpt)
    model = tiny_backbone(init_cfg=dict(type='Pretrained',
                                        checkpoint=str(ckpt),
                                        prefix='backbone.'))
    model.init_weights()
    for k, v in src.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k


# ---------------------------------------------------------------------------
# resolution change
# ---------------------------------------------------------------------------
def test_resolution_change():
    torch.manual_seed(0)
    model = UniFormerV2Video(
        arch=dict(input_resolution=224, patch_size=16, width=16, layers=2,
                  heads=2), return_list=[0, 1], **STH_STYLE).eval()
    perturb_(model)
    calls = []
    original = v2_module.resize_pos_embed

    def spy(*args, **kwargs):
        calls.append(args[1])
        return original(*args, **kwargs)

    x224 = torch.randn(1, 3, 4, 224, 224)
    with torch.no_grad():
        ref = model(x224)
        v2_module.resize_pos_embed = spy
        try:
            out224 = model(x224)
            assert calls == []  # the native size does not interpolate
            for size in [(192, 192), (256, 256), (192, 256)]:
                out = model(torch.randn(1, 3, 4, *size))
                assert out.shape == (1, 16)
                assert torch.isfinite(out).all()
        finally:
            v2_module.resize_pos_embed = original
    assert calls == [(12, 12), (16, 16), (12, 16)]
    assert torch.equal(out224, ref)
    # the interpolated embedding is differentiable w.r.t. the parameter
    model.train()
    model(torch.randn(1, 3, 4, 192, 192)).sum().backward()
    assert model.positional_embedding.grad.abs().sum() > 0


def test_resize_pos_embed():
    pos = torch.randn(1 + 4 * 4, 8)
    assert resize_pos_embed(pos, (4, 4)) is pos
    out = resize_pos_embed(pos, (6, 5))
    assert out.shape == (1 + 30, 8)
    assert torch.equal(out[0], pos[0])
    const = torch.ones(1 + 9, 3)
    torch.testing.assert_close(resize_pos_embed(const, (5, 5)),
                               torch.ones(26, 3))


# ---------------------------------------------------------------------------
# CLIP initialisation
# ---------------------------------------------------------------------------
def fake_clip_visual(width=32, layers=3, patch=16, res=64, seed=0):
    """Random weights with the key layout of CLIP's image encoder."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape, std=0.1):
        return torch.randn(*shape, generator=g) * std

    grid = res // patch
    sd = OrderedDict()
    sd['class_embedding'] = r(width, std=0.5)
    sd['positional_embedding'] = r(grid * grid + 1, width, std=0.5)
    sd['proj'] = r(width, 16)
    sd['conv1.weight'] = r(width, 3, patch, patch, std=0.05)
    sd['ln_pre.weight'] = 1 + r(width)
    sd['ln_pre.bias'] = r(width)
    for i in range(layers):
        p = f'transformer.resblocks.{i}.'
        sd[p + 'attn.in_proj_weight'] = r(3 * width, width, std=0.2)
        sd[p + 'attn.in_proj_bias'] = r(3 * width)
        sd[p + 'attn.out_proj.weight'] = r(width, width, std=0.2)
        sd[p + 'attn.out_proj.bias'] = r(width)
        sd[p + 'ln_1.weight'] = 1 + r(width)
        sd[p + 'ln_1.bias'] = r(width)
        sd[p + 'mlp.c_fc.weight'] = r(4 * width, width, std=0.2)
        sd[p + 'mlp.c_fc.bias'] = r(4 * width)
        sd[p + 'mlp.c_proj.weight'] = r(width, 4 * width, std=0.1)
        sd[p + 'mlp.c_proj.bias'] = r(width)
        sd[p + 'ln_2.weight'] = 1 + r(width)
        sd[p + 'ln_2.bias'] = r(width)
    sd['ln_post.weight'] = 1 + r(width)
    sd['ln_post.bias'] = r(width)
    return sd


def module_with_params(state_dict):
    """An nn.Module tree whose state_dict() has exactly these names."""
    root = nn.Module()
    for name, value in state_dict.items():
        mod = root
        *path, leaf = name.split('.')
        for part in path:
            if not hasattr(mod, part):
                mod.add_module(part, nn.Module())
            mod = getattr(mod, part)
        mod.register_parameter(leaf, nn.Parameter(value.clone()))
    return root


def save_clip_variants(tmp_path, visual):
    """OpenAI TorchScript release (full CLIP, fp16), raw, wrapped."""
    full = OrderedDict(('visual.' + k, v.half()) for k, v in visual.items())
    full['token_embedding.weight'] = torch.randn(10, 8).half()
    full['text_projection'] = torch.randn(8, 8).half()
    full['logit_scale'] = torch.tensor(4.6).half()
    jit_path = tmp_path / 'ViT-T-16.pt'
    torch.jit.save(torch.jit.script(module_with_params(full)), str(jit_path))
    extracted = OrderedDict((k, v) for k, v in visual.items()
                            if k not in ('proj', 'ln_post.weight',
                                         'ln_post.bias'))
    raw_path = tmp_path / 'vit_t16.pth'
    torch.save(extracted, raw_path)
    wrapped_path = tmp_path / 'vit_t16_wrapped.pth'
    torch.save({'state_dict': extracted}, wrapped_path)
    return {'jit': jit_path, 'raw': raw_path, 'wrapped': wrapped_path}


def reference_vit_cls(visual, frame, heads):
    """CLIP's image encoder up to the last block's class token, plain ops."""
    width = visual['class_embedding'].shape[0]
    w = visual['conv1.weight']
    x = F.conv2d(frame, w, stride=w.shape[-1])  # [B, C, g, g]
    x = x.flatten(2).transpose(1, 2)
    cls = visual['class_embedding'].expand(x.shape[0], 1, width)
    x = torch.cat([cls, x], 1) + visual['positional_embedding']
    x = F.layer_norm(x, (width, ), visual['ln_pre.weight'],
                     visual['ln_pre.bias'])
    i = 0
    while f'transformer.resblocks.{i}.ln_1.weight' in visual:
        p = f'transformer.resblocks.{i}.'
        mha = nn.MultiheadAttention(width, heads, batch_first=True)
        mha.load_state_dict({
            'in_proj_weight': visual[p + 'attn.in_proj_weight'],
            'in_proj_bias': visual[p + 'attn.in_proj_bias'],
            'out_proj.weight': visual[p + 'attn.out_proj.weight'],
            'out_proj.bias': visual[p + 'attn.out_proj.bias'],
        })
        h = F.layer_norm(x, (width, ), visual[p + 'ln_1.weight'],
                         visual[p + 'ln_1.bias'])
        x = x + mha(h, h, h, need_weights=False)[0]
        h = F.layer_norm(x, (width, ), visual[p + 'ln_2.weight'],
                         visual[p + 'ln_2.bias'])
        h = F.linear(h, visual[p + 'mlp.c_fc.weight'],
                     visual[p + 'mlp.c_fc.bias'])
        h = h * torch.sigmoid(1.702 * h)
        x = x + F.linear(h, visual[p + 'mlp.c_proj.weight'],
                         visual[p + 'mlp.c_proj.bias'])
        i += 1
    return x[:, 0]


@pytest.mark.parametrize('form', ['jit', 'raw', 'wrapped'])
def test_clip_init_matches_reference_vit(tmp_path, form):
    torch.manual_seed(0)
    visual = fake_clip_visual()
    path = save_clip_variants(tmp_path, visual)[form]
    if form == 'jit':  # the release is fp16: compare with rounded weights
        visual = OrderedDict((k, v.half().float()) for k, v in visual.items())
    model = tiny_backbone(t_size=1, clip_pretrained=str(path),
                          **KINETICS_STYLE)
    model.init_weights()
    sd = model.state_dict()
    for k, v in clip_to_uniformerv2(visual, conv1_time_dim=1).items():
        assert torch.equal(sd[k], v), k
    model.eval()
    captured = {}
    model.transformer.resblocks[-1].register_forward_hook(
        lambda m, i, o: captured.setdefault('x', o))
    frame = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        model(frame.unsqueeze(2))  # one-frame clips
        ref = reference_vit_cls(visual, frame, heads=TINY['heads'])
    torch.testing.assert_close(captured['x'][:, 0], ref, atol=1e-4, rtol=0)


def test_clip_init_conv1_centre_inflation(tmp_path):
    visual = fake_clip_visual()
    path = save_clip_variants(tmp_path, visual)['raw']
    model = tiny_backbone(clip_pretrained=str(path), **STH_STYLE)
    model.init_weights()
    w = model.conv1.weight.detach()
    assert w.shape == (32, 3, 3, 16, 16)
    assert torch.equal(w[:, :, 1], visual['conv1.weight'])
    assert not w[:, :, 0].any() and not w[:, :, 2].any()
    # a clip of identical frames sees the 2D kernel once
    assert torch.equal(inflate_center(visual['conv1.weight'], 3)[:, :, 1],
                       visual['conv1.weight'])
    # parts CLIP does not have keep the official initialisation
    check_official_init(model, vit=False)


def test_clip_reader_and_mapping(tmp_path):
    visual = fake_clip_visual()
    paths = save_clip_variants(tmp_path, visual)
    full = read_clip_checkpoint(str(paths['jit']))
    assert 'visual.conv1.weight' in full and 'logit_scale' in full
    assert full['visual.conv1.weight'].dtype == torch.float32
    for form in ('raw', 'wrapped'):
        sd = read_clip_checkpoint(str(paths[form]))
        assert 'conv1.weight' in sd and 'proj' not in sd
    mapped = clip_to_uniformerv2(full, conv1_time_dim=3, pos_grid=(6, 6))
    assert not any(k.startswith(('visual.', 'token_', 'text_', 'logit'))
                   for k in mapped)
    assert 'proj' not in mapped and 'ln_post.weight' not in mapped
    assert mapped['conv1.weight'].shape == (32, 3, 3, 16, 16)
    assert mapped['positional_embedding'].shape == (37, 32)
    # a 64-px CLIP initialises a 96-px model (position embedding resized)
    model = tiny_backbone(input_resolution=96)
    model.load_clip(str(paths['raw']))
    assert model.positional_embedding.shape == (37, 32)
    # a CLIP with another depth does not match the ViT: strict for it, in
    # one line that names the CLIP the file fits
    with pytest.raises(CheckpointError, match='resblocks.3') as err:
        tiny_backbone().load_clip(fake_clip_visual(layers=4))
    assert 'width 32, 4 layers, patch 16' in str(err.value)
    assert '\n' not in str(err.value)
    # another width fills nothing of the ViT
    with pytest.raises(PartialLoadError,
                       match=r'fills only 0 of the 41 tensors') as err:
        tiny_backbone().load_clip(fake_clip_visual(width=16))
    assert 'CLIP image encoder (width 16, 3 layers' in str(err.value)


# ---------------------------------------------------------------------------
# head
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('k', [400, 600, 700])
def test_head_channel_map_from_k710(tmp_path, k):
    map_file = label_map(f'k710_channel_map_k{k}.json')  # shipped map
    with open(resolve_path(map_file)) as f:
        rows = json.load(f)
    assert len(rows) == k and len(set(rows)) == k
    k710 = UniFormerV2Head(710, 32)
    perturb_(k710, std=1.0)
    head = UniFormerV2Head(k, 32, channel_map=map_file)
    head.load_state_dict(k710.state_dict())
    idx = torch.tensor(rows)
    assert torch.equal(head.fc_cls.weight, k710.fc_cls.weight[idx])
    assert torch.equal(head.fc_cls.bias, k710.fc_cls.bias[idx])
    if k == 400:  # K710 starts with the K400 classes
        assert torch.equal(head.fc_cls.weight, k710.fc_cls.weight[:400])
    # same through an mmengine Pretrained init_cfg on a full checkpoint
    ckpt = tmp_path / 'k710.pth'
    torch.save({'state_dict': {'cls_head.' + n: v
                               for n, v in k710.state_dict().items()}}, ckpt)
    head2 = UniFormerV2Head(
        k, 32, channel_map=map_file,
        init_cfg=dict(type='Pretrained', checkpoint=str(ckpt),
                      prefix='cls_head.'))
    head2.init_weights()
    assert torch.equal(head2.fc_cls.weight, head.fc_cls.weight)
    assert torch.equal(head2.fc_cls.bias, head.fc_cls.bias)


def test_head_basics(tmp_path):
    head = UniFormerV2Head(5, 8)
    assert head.dropout.p == 0.5
    head.eval()
    x = torch.randn(3, 8)
    torch.testing.assert_close(head(x), head.fc_cls(x))
    bad = tmp_path / 'map.json'
    bad.write_text(json.dumps([0, 1, 2]))
    with pytest.raises(ValueError):
        UniFormerV2Head(5, 8, channel_map=str(bad))
    # without a channel map a 710-row head does not silently load
    with pytest.raises(RuntimeError):
        head.load_state_dict(UniFormerV2Head(710, 8).state_dict())
    # with a map, an equal-size checkpoint loads unchanged
    good = tmp_path / 'map5.json'
    good.write_text(json.dumps([4, 3, 2, 1, 0]))
    mapped = UniFormerV2Head(5, 8, channel_map=str(good))
    mapped.load_state_dict(head.state_dict())
    assert torch.equal(mapped.fc_cls.weight, head.fc_cls.weight)
    assert UniFormerV2Head(5, 8, dropout_ratio=0).dropout.__class__ \
        is nn.Identity


def test_pretrained_init_cfg_loads_our_checkpoint_without_prefix(tmp_path):
    """``init_cfg=dict(type='Pretrained', checkpoint=...)`` with no prefix
    loads the ``backbone.`` weights of a full-recognizer checkpoint (mmengine's
    own loader would match nothing and load silently nothing)."""
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    arch = dict(input_resolution=64, patch_size=16, width=64, layers=2,
                heads=2, return_list=[0, 1])
    backbone = dict(type='UniFormerV2Video', arch=arch, n_layers=2, n_dim=64,
                    n_head=2)
    with DefaultScope.overwrite_default_scope('mmaction'):
        rec = MODELS.build(dict(
            type='Recognizer3D', backbone=backbone,
            cls_head=dict(type='UniFormerV2Head', num_classes=5,
                          in_channels=64)))
        rec.init_weights()
        with torch.no_grad():
            for p in rec.parameters():
                p.normal_()
        path = tmp_path / 'rec.pth'
        torch.save({'state_dict': rec.state_dict(), 'meta': {}}, path)
        fresh = MODELS.build(dict(backbone, init_cfg=dict(
            type='Pretrained', checkpoint=str(path))))
    fresh.init_weights()
    expected = rec.backbone.state_dict()
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, expected[key]), key

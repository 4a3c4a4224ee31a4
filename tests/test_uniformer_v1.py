"""UniFormer V1: every variant builds and runs, parameter/FLOP counts match
the papers, official key layout, hourglass pruning equals the official
algorithm, recognizers/classifiers train and predict through the registries.
"""
import copy

import pytest
import torch
import torch.nn.functional as F

import uniformer_mm  # noqa: F401  (registers modules, applies compat)
from uniformer_mm.analysis.flops import count_flops
from uniformer_mm.models.backbones.uniformer import (ARCH_ZOO, UniFormer,
                                                     UniFormerVideo)

IMAGE_ARCHS = sorted(ARCH_ZOO)
# (arch, params in M with a 1000-class head, from the papers / official code)
IMAGE_PARAMS = {
    'small': 21.5, 'base': 49.8, 'large_ls_tl': 100.1, 'xxs': 10.2,
    'xs': 16.5, 'small_plus': 24.0, 'base_ls': 49.8, 'small_tl': 22.1,
}
# official state-dict key counts (backbone + classifier keys)
IMAGE_KEYS = {'small': 331, 'small_plus': 386, 'base': 687, 'base_ls': 741,
              'large_ls_tl': 881, 'xxs': 334, 'xs': 384}


def nparams(module):
    return sum(p.numel() for p in module.parameters())


def head_extra(arch, width, num_classes):
    """Parameters and keys of the official classifier parts of an arch."""
    linear = width * num_classes + num_classes
    if ARCH_ZOO[arch].get('light'):
        return 2 * linear + 2 * width, 6  # head, head_cls, norm_cls
    if arch.endswith('_tl'):
        return 2 * linear, 4  # head, aux_head
    return linear, 2


@pytest.mark.parametrize('arch', sorted(IMAGE_PARAMS))
def test_image_param_counts(arch):
    with torch.device('meta'):
        model = UniFormer(arch)
    extra, _ = head_extra(arch, model.embed_dims[-1], 1000)
    total = (nparams(model) + extra) / 1e6
    assert total == pytest.approx(IMAGE_PARAMS[arch], abs=0.051)


@pytest.mark.parametrize('arch', sorted(IMAGE_KEYS))
def test_official_key_counts(arch):
    with torch.device('meta'):
        model = UniFormer(arch)
    _, extra_keys = head_extra(arch, model.embed_dims[-1], 1000)
    assert len(model.state_dict()) + extra_keys == IMAGE_KEYS[arch]


@pytest.mark.parametrize('arch,expected', [('small', 21.4), ('base', 49.8),
                                           ('xxs', 9.83), ('xs', 16.10)])
def test_video_param_counts(arch, expected):
    with torch.device('meta'):
        model = UniFormerVideo(arch)
    extra, _ = head_extra(arch, model.embed_dims[-1], 400)
    assert (nparams(model) + extra) / 1e6 == pytest.approx(expected,
                                                           abs=0.051)


def test_official_key_names():
    """A few official names, including conv-stem and layer-scale ones."""
    keys = set(UniFormer('small_plus').state_dict())
    assert {'patch_embed1.proj.0.weight', 'patch_embed1.proj.1.running_var',
            'patch_embed1.proj.3.weight', 'patch_embed2.proj.0.weight',
            'patch_embed2.proj.1.weight', 'blocks1.0.pos_embed.weight',
            'blocks1.0.attn.weight', 'blocks3.0.attn.qkv.weight',
            'norm.running_mean'} <= keys
    keys = set(UniFormer('large_ls').state_dict())
    assert {'blocks1.0.gamma_1', 'blocks3.0.gamma_2'} <= keys
    keys = set(UniFormer('base_ls').state_dict())
    assert 'blocks3.0.gamma_1' in keys and 'blocks1.0.gamma_1' not in keys
    video = UniFormerVideo('small').state_dict()
    assert video['patch_embed1.proj.weight'].shape == (64, 3, 3, 4, 4)
    assert video['patch_embed2.proj.weight'].shape == (128, 64, 1, 2, 2)
    assert video['blocks1.0.attn.weight'].shape == (64, 1, 5, 5, 5)
    light = UniFormerVideo('xxs').state_dict()
    assert light['patch_embed1.proj.0.weight'].shape == (28, 3, 3, 3, 3)
    assert 'cls_token' in light and 'cls_upsample.weight' in light


@pytest.mark.parametrize('arch', IMAGE_ARCHS)
def test_every_image_variant_runs(arch):
    torch.manual_seed(0)
    model = UniFormer(arch, out_indices=(0, 1, 2, 3)).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 64))
    dims = model.embed_dims
    assert [o.shape[1] if torch.is_tensor(o) else o[0].shape[1]
            for o in outs] == dims
    last = outs[-1][0] if ARCH_ZOO[arch].get('light') else outs[-1]
    assert last.shape[-2:] == (2, 2)
    assert torch.isfinite(last).all()


@pytest.mark.parametrize('arch', ['small', 'base', 'xxs', 'xs'])
def test_every_video_variant_runs(arch):
    model = UniFormerVideo(arch).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 6, 64, 64))
    fmap = out[0] if ARCH_ZOO[arch].get('light') else out
    # the first patch embedding halves T (6 -> 3), strides 32 in space
    assert fmap.shape == (1, model.embed_dims[-1], 3, 2, 2)


def test_unknown_arch_message():
    with pytest.raises(KeyError, match='Unknown UniFormer arch .*small'):
        UniFormer('smal')
    with pytest.raises(KeyError, match='depths'):
        UniFormer(dict(embed_dims=[8, 16, 32, 64], head_dim=8))


def test_head_dim_and_layer_scale_arguments():
    m = UniFormer('small', head_dim=32)
    assert m.blocks3[0].attn.num_heads == 10
    m = UniFormer('small', layer_scale_init_value=0.1)
    assert torch.allclose(m.blocks3[0].gamma_1, torch.full((320, ), 0.1))
    assert not hasattr(m.blocks1[0], 'gamma_1')


@pytest.mark.slow
@pytest.mark.parametrize('cls,arch,shape,expected', [
    (UniFormer, 'small', (1, 3, 224, 224), 3.6),
    (UniFormer, 'base', (1, 3, 224, 224), 8.3),
    (UniFormerVideo, 'small', (1, 3, 16, 224, 224), 41.8),
    (UniFormerVideo, 'base', (1, 3, 16, 224, 224), 96.7),
])
def test_flops_match_papers(cls, arch, shape, expected):
    model = cls(arch).eval()
    flops, _ = count_flops(model, torch.randn(*shape))
    assert flops / 1e9 == pytest.approx(expected, rel=0.02)


# --------------------------------------------------------------------------
# Hourglass (light) models against an independent re-statement of the
# official algorithm: module-level style state, full attention matrices,
# token indices carried through gathers.
# --------------------------------------------------------------------------
def _gather(x, idx):
    return torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def _ref_attention(attn_mod, x, state, trade_off):
    B, N, C = x.shape
    h = attn_mod.num_heads
    qkv = attn_mod.qkv(x).reshape(B, N, 3, h, C // h).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    attn = ((q @ k.transpose(-2, -1)) * attn_mod.scale).softmax(-1)
    ga = state['global_attn']
    if isinstance(ga, int):
        state['global_attn'] = attn[:, :, 0, 1:].mean(1)
    elif ga.shape[1] == N - 1:
        state['global_attn'] = (1 - trade_off) * ga + trade_off * attn[
            :, :, 0, 1:].mean(1)
    else:
        cls_attn = attn[:, :, 0, 1:-1].mean(1)
        head = (1 - trade_off) * ga[:, :N - 2] + trade_off * cls_attn
        state['global_attn'] = torch.cat([head, ga[:, N - 2:]], 1)
    out = (attn @ v).transpose(1, 2).reshape(B, N, C)
    return attn_mod.proj(out)


def _ref_evo_block(blk, cls_token, x, state):
    x = x + blk.pos_embed(x)
    shape = x.shape
    B, C = shape[:2]
    x = x.flatten(2).transpose(1, 2)
    if blk.prune_ratio == 1:
        x = torch.cat([cls_token, x], 1)
        x = x + _ref_attention(blk.attn, blk.norm1(x), state, blk.trade_off)
        x = x + blk.mlp(blk.norm2(x))
        return x[:, :1], x[:, 1:].transpose(1, 2).reshape(shape)
    N = x.shape[1]
    keep = int(N * blk.prune_ratio)
    idx = torch.argsort(state['global_attn'], 1, descending=True)
    packed = torch.cat([x, state['global_attn'].unsqueeze(-1),
                        state['token_indices'].unsqueeze(-1).float()], -1)
    packed = _gather(packed, idx)
    x_sorted, state['global_attn'] = packed[..., :-2], packed[..., -2]
    state['token_indices'] = packed[..., -1]
    x_info, x_drop = x_sorted[:, :keep], x_sorted[:, keep:]
    score = state['global_attn'][:, keep:]
    w = score / score.sum(1, keepdim=True)
    rep = (w.unsqueeze(-1) * x_drop).sum(1, keepdim=True)
    x = torch.cat([cls_token, x_info, rep], 1)
    a = _ref_attention(blk.attn, blk.norm1(x), state, blk.trade_off)
    x = x + a
    m = blk.mlp(blk.norm2(x))
    x = x + m
    x_drop = x_drop + (a[:, -1:] + m[:, -1:])
    cls_token, x = x[:, :1], x[:, 1:-1]
    x_sorted = torch.cat([x, x_drop], 1)
    old_scale = state['global_attn'].sum(1, keepdim=True)
    idx = torch.argsort(state['token_indices'], 1)
    packed = torch.cat([x_sorted, state['global_attn'].unsqueeze(-1),
                        state['token_indices'].unsqueeze(-1)], -1)
    packed = _gather(packed, idx)
    x_patch, state['global_attn'] = packed[..., :-2], packed[..., -2]
    state['token_indices'] = packed[..., -1]
    if blk.downsample:
        g = state['global_attn'].reshape(B, 1, *shape[2:])
        g = F.avg_pool2d(g, 2, 2).reshape(B, -1)
        state['global_attn'] = g * old_scale / g.sum(1, keepdim=True)
    return cls_token, x_patch.transpose(1, 2).reshape(shape)


def _ref_light_forward(model, x):
    x = model.patch_embed1(x)
    for blk in model.blocks1:
        x = blk(x)
    x = model.patch_embed2(x)
    for blk in model.blocks2:
        x = blk(x)
    x = model.patch_embed3(x)
    cls_token = model.cls_token.expand(x.shape[0], -1, -1)
    B = x.shape[0]
    state = dict(global_attn=0, token_indices=torch.arange(
        x[0, 0].numel()).unsqueeze(0).expand(B, -1))
    for blk in model.blocks3:
        cls_token, x = _ref_evo_block(blk, cls_token, x, state)
    cls_token = model.cls_upsample(cls_token)
    x = model.patch_embed4(x)
    state['token_indices'] = torch.arange(x[0, 0].numel()).unsqueeze(
        0).expand(B, -1)
    for blk in model.blocks4:
        cls_token, x = _ref_evo_block(blk, cls_token, x, state)
    return model.norm(x), cls_token.flatten(1)


@pytest.mark.parametrize('arch', ['xxs', 'xs'])
def test_hourglass_matches_official_algorithm(arch):
    torch.manual_seed(0)
    model = UniFormer(arch).eval()
    # random BN statistics and non-trivial weights everywhere
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    with torch.no_grad():
        model.cls_token.normal_()
        x = torch.randn(2, 3, 128, 128)
        (fmap, cls), = model(x)
        ref_map, ref_cls = _ref_light_forward(model, x)
    assert torch.allclose(fmap, ref_map, atol=1e-4, rtol=1e-4)
    assert torch.allclose(cls, ref_cls, atol=1e-4, rtol=1e-4)


def test_activation_checkpointing_same_gradients():
    torch.manual_seed(0)
    ref = UniFormerVideo(dict(embed_dims=[16, 32, 64, 64], depths=[1, 2, 2, 1],
                              head_dim=16), drop_path_rate=0.)
    cp_model = copy.deepcopy(ref)
    cp_model.cp_counts = [1, 2, 2, 1]
    x = torch.randn(2, 3, 4, 64, 64)
    grads = []
    for m in (ref, cp_model):
        m.train()
        m.zero_grad()
        m(x).square().mean().backward()
        grads.append({n: p.grad.clone() for n, p in m.named_parameters()})
    for name in grads[0]:
        assert torch.allclose(grads[0][name], grads[1][name], atol=1e-6), name


def test_with_cp_spec():
    m = UniFormer('small', with_cp=[0, 0, 4, 0])
    assert m.cp_counts == [0, 0, 4, 0]
    assert UniFormer('small', with_cp=True).cp_counts == [3, 4, 8, 3]


def test_frozen_stages():
    m = UniFormer(dict(embed_dims=[16, 32, 64, 64], depths=[1, 1, 1, 1],
                       head_dim=16), frozen_stages=1).train()
    assert not any(p.requires_grad for p in m.blocks1.parameters())
    assert not m.blocks1[0].norm1.training
    assert all(p.requires_grad for p in m.blocks3.parameters())


def test_fp32_attention_under_autocast():
    m = UniFormer(dict(embed_dims=[16, 32, 64, 64], depths=[1, 1, 1, 1],
                       head_dim=16), fp32_attention=True).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ref = m(x)[0]
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = m(x)[0]
    assert torch.allclose(ref, out.float(), atol=0.1)


# --------------------------------------------------------------------------
# Through the registries, as users build them from configs
# --------------------------------------------------------------------------
TINY = dict(embed_dims=[16, 32, 64, 64], depths=[1, 1, 1, 1], head_dim=16)
TINY_LIGHT = dict(TINY, light=True, conv_stem=True)


def _video_recognizer(backbone, head):
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(dict(
            type='Recognizer3D', backbone=backbone, cls_head=head,
            data_preprocessor=dict(type='ActionDataPreprocessor',
                                   mean=[114.75] * 3, std=[57.375] * 3,
                                   format_shape='NCTHW')))


def _action_samples(labels):
    from mmaction.structures import ActionDataSample
    return [ActionDataSample().set_gt_label(torch.tensor(label))
            for label in labels]


@pytest.mark.parametrize('light', [False, True])
def test_video_recognizer_train_and_multiview_predict(light):
    torch.manual_seed(0)
    head = dict(type='UniFormerLightHead' if light else 'I3DHead',
                num_classes=5, in_channels=64, average_clips='prob')
    model = _video_recognizer(
        dict(type='UniFormerVideo', arch=TINY_LIGHT if light else TINY),
        head)
    model.init_weights()
    inputs = torch.randn(4, 1, 3, 4, 32, 32)
    samples = _action_samples([0, 1, 2, 3])
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        loss_dict = model(inputs, samples, mode='loss')
        loss = sum(v for k, v in loss_dict.items() if k.startswith('loss'))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    if light:
        assert {'loss_cls', 'loss_cls_token'} <= set(loss_dict)
    assert losses[-1] < 0.5 * losses[0]
    # 2 clips x 3 crops = 6 views per sample; scores are averaged probs
    model.eval()
    views = torch.randn(2, 6, 3, 4, 32, 32)
    with torch.no_grad():
        preds = model(views, _action_samples([0, 1]), mode='predict')
        single = model.cls_head(model.backbone(views.flatten(0, 1)))
    expected = single.softmax(-1).view(2, 6, 5).mean(1)
    got = torch.stack([p.pred_score for p in preds])
    assert torch.allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize('arch,head', [
    (TINY, dict(type='LinearClsHead')),
    (TINY, dict(type='UniFormerTokenLabelHead')),
    (TINY_LIGHT, dict(type='UniFormerLightClsHead')),
])
def test_image_classifier_train_and_predict(arch, head):
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    torch.manual_seed(0)
    neck = dict(type='GlobalAveragePooling') \
        if head['type'] == 'LinearClsHead' else None
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(dict(
            type='ImageClassifier', backbone=dict(type='UniFormer', arch=arch),
            neck=neck, head=dict(head, num_classes=3, in_channels=64)))
    model.init_weights()
    inputs = torch.randn(6, 3, 32, 32)
    samples = [DataSample().set_gt_label(i % 3) for i in range(6)]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = None
    for _ in range(15):
        losses = model(inputs, samples, mode='loss')
        loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.5 * first
    model.eval()
    with torch.no_grad():
        preds = model(inputs, samples, mode='predict')
    assert preds[0].pred_score.shape == (3, )


def test_token_label_head_inference_fusion():
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        head = MODELS.build(dict(type='UniFormerTokenLabelHead',
                                 num_classes=4, in_channels=8))
    fmap = torch.randn(2, 8, 3, 3)
    tokens = fmap.flatten(2).transpose(1, 2)
    expected = head.fc(tokens.mean(1)) + 0.5 * head.fc_aux(tokens).max(1)[0]
    assert torch.allclose(head((fmap, )), expected)


def test_light_head_uses_pooled_classifier_at_inference():
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmaction'):
        head = MODELS.build(dict(type='UniFormerLightHead', num_classes=4,
                                 in_channels=8)).eval()
    fmap, cls = torch.randn(2, 8, 2, 3, 3), torch.randn(2, 8)
    expected = head.fc_cls(fmap.flatten(2).mean(-1))
    assert torch.allclose(head((fmap, cls)), expected)


# --------------------------------------------------------------------------
# Channels-last layout (the default): same numbers, and the PyTorch CPU
# BatchNorm bug for batch-of-one channels-last maps is worked around.
# --------------------------------------------------------------------------
@pytest.mark.parametrize('cls,shape', [(UniFormerVideo, (1, 3, 8, 64, 64)),
                                       (UniFormer, (1, 3, 64, 64))])
def test_channels_last_matches_standard_layout(cls, shape):
    torch.manual_seed(0)
    std = cls(TINY, channels_last=False).train()
    fast = copy.deepcopy(std)
    fast.memory_format = (torch.channels_last_3d if cls is UniFormerVideo
                          else torch.channels_last)
    fast._apply_memory_format()
    x = torch.randn(*shape)
    results = []
    for model in (std, fast):
        out = model(x)
        out = out if torch.is_tensor(out) else out[-1]
        proj = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
        (out * proj).sum().backward()
        results.append((out.detach(), {n: p.grad for n, p in
                                       model.named_parameters()}))
    assert torch.allclose(results[0][0], results[1][0], atol=1e-5)
    scale = max(g.abs().max() for g in results[0][1].values())
    for name, grad in results[0][1].items():
        assert torch.allclose(grad, results[1][1][name], atol=1e-5 * scale,
                              rtol=1e-4), name


@pytest.mark.parametrize('dims', [2, 3])
def test_batchnorm_batch_of_one_channels_last_gradients(dims):
    from uniformer_mm.models.layers.uniformer_blocks import bn_nd
    torch.manual_seed(0)
    shape = (1, 32, 4, 5, 5)[:dims + 2]
    fmt = torch.channels_last if dims == 2 else torch.channels_last_3d
    base = torch.randn(*shape).contiguous(memory_format=fmt)
    strides = list(base.stride())
    strides[0] = shape[1]  # a legal but non-canonical batch stride
    odd_leaf = base.clone().requires_grad_()
    odd = odd_leaf.as_strided(shape, strides)
    ref_leaf = base.clone().requires_grad_()
    grad = torch.randn(*shape)
    bn = bn_nd(dims, 32).train()
    bn(odd).backward(grad)
    bn(ref_leaf).backward(grad)
    # manual batch norm as ground truth
    ref2 = base.clone().requires_grad_()
    axes = [0] + list(range(2, dims + 2))
    m = ref2.mean(axes, keepdim=True)
    v = ref2.var(axes, unbiased=False, keepdim=True)
    ((ref2 - m) / torch.sqrt(v + bn.eps)).backward(grad)
    assert torch.allclose(ref_leaf.grad, ref2.grad, atol=1e-4)
    assert torch.allclose(odd_leaf.grad, ref2.grad, atol=1e-4)

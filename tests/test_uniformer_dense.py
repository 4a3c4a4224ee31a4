"""UniFormerDense: the dense-prediction backbone against the official
formulas, its options, ImageNet initialisation and the official dense
checkpoint layouts.

The reference below restates the official dense backbones' forward
(Sense-X/UniFormer ``object_detection/mmdet/models/backbones/uniformer.py``;
the segmentation and pose copies are identical except that pose returns the
last stage only): patch embedding = convolution + LayerNorm over channels;
``SABlock`` = ``x + dpe(x)``, tokens, ``x + attn(norm1(x))``, ``x +
mlp(norm2(x))``; ``SABlock_Windows`` = the same, but ``norm1`` is applied
before zero-padding the map at the bottom/right to whole windows, each
window attends within itself (padding tokens take part, no mask), and the
result is cropped before the residual; hybrid = block ``i`` of stage 3
global when ``(i + 1) % 4 == 0``; every stage output goes through its own
LayerNorm (eps 1e-6). Attention is written out (``softmax(q k^T * d^-0.5)
v`` per head) and windows are cut with explicit loops.
"""
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F

import uniformer_mm  # noqa: F401
from uniformer_mm.checkpoint import convert_checkpoint, detect_format
from uniformer_mm.models.backbones.uniformer import UniFormer
from uniformer_mm.models.backbones.uniformer_dense import UniFormerDense

TINY = dict(depths=[1, 1, 8, 1], embed_dims=[16, 32, 48, 64], head_dim=16)


# ------------------------------------------------------------ reference
def ref_mhsa(attn, tokens):
    """Official ``Attention`` on ``(N, C)`` tokens."""
    N, C = tokens.shape
    h = attn.num_heads
    qkv = F.linear(tokens, attn.qkv.weight, attn.qkv.bias)
    q, k, v = qkv.reshape(N, 3, h, C // h).permute(1, 2, 0, 3)
    w = (q @ k.transpose(-2, -1)) * (C // h)**-0.5
    out = w.softmax(-1) @ v  # (h, N, d)
    return F.linear(out.transpose(0, 1).reshape(N, C), attn.proj.weight,
                    attn.proj.bias)


def ref_mlp(mlp, t):
    return F.linear(F.gelu(F.linear(t, mlp.fc1.weight, mlp.fc1.bias)),
                    mlp.fc2.weight, mlp.fc2.bias)


def ln(norm, t):
    return F.layer_norm(t, norm.normalized_shape, norm.weight, norm.bias,
                        norm.eps)


def ref_sa_block(blk, x, window):
    C = x.shape[1]
    x = x + F.conv2d(x, blk.pos_embed.weight, blk.pos_embed.bias, padding=1,
                     groups=C)
    x = x.permute(0, 2, 3, 1)  # B H W C
    B, H, W, _ = x.shape
    if window is None:
        y = torch.stack([ref_mhsa(blk.attn, ln(blk.norm1, x[b].reshape(
            H * W, C))).reshape(H, W, C) for b in range(B)])
    else:
        z = ln(blk.norm1, x)
        pad_r = (window - W % window) % window
        pad_b = (window - H % window) % window
        z = F.pad(z, (0, 0, 0, pad_r, 0, pad_b))
        y = torch.zeros_like(z)
        for b in range(B):
            for i in range(0, H + pad_b, window):
                for j in range(0, W + pad_r, window):
                    win = z[b, i:i + window, j:j + window].reshape(-1, C)
                    y[b, i:i + window, j:j + window] = ref_mhsa(
                        blk.attn, win).reshape(window, window, C)
        y = y[:, :H, :W]
    x = x + y
    x = x + ref_mlp(blk.mlp, ln(blk.norm2, x))
    return x.permute(0, 3, 1, 2)


def ref_forward(model, x, mode, window):
    outs = []
    for s in range(4):
        emb = getattr(model, f'patch_embed{s + 1}')
        x = F.conv2d(x, emb.proj.weight, emb.proj.bias,
                     stride=emb.proj.stride)
        x = ln(emb.norm, x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        for i, blk in enumerate(getattr(model, f'blocks{s + 1}')):
            if s < 2:
                x = blk(x)  # convolution blocks: covered by test_uniformer_v1
                continue
            windowed = s == 2 and (mode == 'window' or (
                mode == 'hybrid' and (i + 1) % 4 != 0))
            x = ref_sa_block(blk, x, window if windowed else None)
        norm = getattr(model, f'norm{s + 1}')
        outs.append(ln(norm, x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))
    return outs


def randomise(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    return model


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize('mode,window,hw', [
    ('window', 4, (16 * 7, 16 * 9)),   # stage 3 map 7x9: padded to 8x12
    ('hybrid', 3, (16 * 5 + 9, 16 * 7 + 5)),  # odd input, map 5x7
    ('global', 14, (16 * 3, 16 * 5)),
])
def test_window_and_hybrid_equal_official_formulas(mode, window, hw):
    model = randomise(UniFormerDense(TINY, stage3_attn=mode,
                                     window_size=window)).eval()
    x = torch.randn(1, 3, *hw, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        outs = model(x)
        ref = ref_forward(model, x, mode, window)
    for o, r in zip(outs, ref):
        assert o.shape == r.shape
        torch.testing.assert_close(o, r, rtol=1e-4, atol=1e-4)
    expected = {'window': ['window'] * 8, 'global': ['global'] * 8,
                'hybrid': ['window'] * 3 + ['global'] + ['window'] * 3 +
                ['global']}[mode]
    assert model.stage3_block_modes() == expected
    if mode != 'global':  # padding matters: not the same as global
        model.set_stage3_attention('global')
        with torch.no_grad():
            assert not torch.allclose(model(x)[2], outs[2], atol=1e-3)


def test_window_14_on_a_224_map_is_global_and_test_time_switch():
    """224 / 16 = 14: one window covers stage 3 (ImageNet weights are
    trained so); a globally trained model tested with windows needs no
    other weights (the w32/h32 settings)."""
    glob = randomise(UniFormerDense(TINY)).eval()
    win = UniFormerDense(TINY, stage3_attn='window', window_size=14).eval()
    win.load_state_dict(glob.state_dict(), strict=True)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        for a, b in zip(glob(x), win(x)):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
        x = torch.randn(1, 3, 160, 192)  # 10x12 map: windows differ
        h8 = UniFormerDense(TINY, stage3_attn='hybrid', window_size=8)
        h8.load_state_dict(glob.state_dict(), strict=True)
        glob.set_stage3_attention('hybrid', 8)
        torch.testing.assert_close(glob(x)[3], h8.eval()(x)[3])
    with pytest.raises(ValueError, match='stage3_attn'):
        glob.set_stage3_attention('local')


def test_out_indices_frozen_stages_and_checkpointing():
    model = UniFormerDense(TINY, out_indices=(1, 3), frozen_stages=2,
                           stage3_attn='hybrid', window_size=3,
                           with_cp=[0, 0, 8, 0])
    assert [k for k in model.state_dict() if k.startswith('norm')] == [
        'norm2.weight', 'norm2.bias', 'norm4.weight', 'norm4.bias']
    model.train()
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert any(n.startswith('blocks2.') for n in frozen)
    assert any(n.startswith('norm2.') for n in frozen)
    assert not any(n.startswith(('blocks3.', 'norm4.')) for n in frozen)
    assert not model.blocks1[0].norm1.training  # frozen BN in eval
    x = torch.randn(2, 3, 64, 96)
    outs = model(x)
    assert [tuple(o.shape) for o in outs] == [(2, 32, 8, 12), (2, 64, 2, 3)]
    outs[1].sum().backward()
    assert model.blocks3[0].attn.qkv.weight.grad is not None
    assert model.blocks1[0].conv1.weight.grad is None
    # checkpointed and plain runs give the same gradients
    plain = UniFormerDense(TINY, out_indices=(1, 3), frozen_stages=2,
                           stage3_attn='hybrid', window_size=3)
    plain.load_state_dict(model.state_dict())
    plain.train()
    plain(x)[1].sum().backward()
    torch.testing.assert_close(plain.blocks3[0].attn.qkv.weight.grad,
                               model.blocks3[0].attn.qkv.weight.grad,
                               rtol=1e-4, atol=1e-5)
    # pose-style: the last stage only, later stages not even built into
    # the output; light archs are refused
    assert len(UniFormerDense(TINY, out_indices=(3, ))(x)) == 1
    with pytest.raises(ValueError, match='light'):
        UniFormerDense('xxs')


def official_image_state_dict(arch, seed=0):
    """An official ImageNet file's state dict: the classifier's keys (no
    prefix) + ``head``; regenerated with random values."""
    cls = randomise(UniFormer(arch), seed)
    sd = OrderedDict((k, v.clone()) for k, v in cls.state_dict().items())
    width = cls.embed_dims[-1]
    sd['head.weight'] = torch.randn(1000, width)
    sd['head.bias'] = torch.randn(1000)
    return sd


def test_imagenet_weights_load(tmp_path):
    sd = official_image_state_dict(TINY)
    path = tmp_path / 'uniformer_tiny_in1k.pth'
    torch.save({'model': sd}, path)
    model = UniFormerDense(TINY, stage3_attn='hybrid', init_cfg=dict(
        type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    mine = model.state_dict()
    loaded = [k for k in mine if k in sd]
    assert len(loaded) == len(mine) - 8  # all but norm1..4 (weight, bias)
    for k in loaded:
        assert torch.equal(mine[k], sd[k]), k
    for i in range(1, 5):
        assert torch.equal(mine[f'norm{i}.weight'],
                           torch.ones_like(mine[f'norm{i}.weight']))


def official_backbone_keys(depths, dims):
    """Names and shapes of the official dense backbone's state dict."""
    keys = OrderedDict()
    chans = [3] + list(dims)
    for s in range(4):
        k = 4 if s == 0 else 2
        c, cin = dims[s], chans[s]
        keys[f'patch_embed{s + 1}.proj.weight'] = (c, cin, k, k)
        for n in ('patch_embed{}.proj.bias', 'patch_embed{}.norm.weight',
                  'patch_embed{}.norm.bias'):
            keys[n.format(s + 1)] = (c, )
        for i in range(depths[s]):
            p = f'blocks{s + 1}.{i}.'
            keys[p + 'pos_embed.weight'] = (c, 1, 3, 3)
            keys[p + 'pos_embed.bias'] = (c, )
            if s < 2:
                for bn in ('norm1', 'norm2'):
                    for t in ('weight', 'bias', 'running_mean',
                              'running_var'):
                        keys[p + f'{bn}.{t}'] = (c, )
                    keys[p + f'{bn}.num_batches_tracked'] = ()
                for cv in ('conv1', 'conv2'):
                    keys[p + f'{cv}.weight'] = (c, c, 1, 1)
                    keys[p + f'{cv}.bias'] = (c, )
                keys[p + 'attn.weight'] = (c, 1, 5, 5)
                keys[p + 'attn.bias'] = (c, )
                keys[p + 'mlp.fc1.weight'] = (4 * c, c, 1, 1)
                keys[p + 'mlp.fc1.bias'] = (4 * c, )
                keys[p + 'mlp.fc2.weight'] = (c, 4 * c, 1, 1)
                keys[p + 'mlp.fc2.bias'] = (c, )
            else:
                for n in ('norm1', 'norm2'):
                    keys[p + f'{n}.weight'] = (c, )
                    keys[p + f'{n}.bias'] = (c, )
                keys[p + 'attn.qkv.weight'] = (3 * c, c)
                keys[p + 'attn.qkv.bias'] = (3 * c, )
                keys[p + 'attn.proj.weight'] = (c, c)
                keys[p + 'attn.proj.bias'] = (c, )
                keys[p + 'mlp.fc1.weight'] = (4 * c, c)
                keys[p + 'mlp.fc1.bias'] = (4 * c, )
                keys[p + 'mlp.fc2.weight'] = (c, 4 * c)
                keys[p + 'mlp.fc2.bias'] = (c, )
    for s in range(4):  # built for every stage, also in the pose model
        keys[f'norm{s + 1}.weight'] = (dims[s], )
        keys[f'norm{s + 1}.bias'] = (dims[s], )
    return keys


def regenerate(shapes, seed=0):
    g = torch.Generator().manual_seed(seed)
    return OrderedDict(
        (k, torch.randint(0, 9, (), generator=g) if not s else
         torch.randn(s, generator=g)) for k, s in shapes.items())


# (format, head keys of the official file, out_indices of our model)
POSE_HEAD = OrderedDict([
    ('keypoint_head.deconv_layers.0.weight', (64, 16, 4, 4)),
    ('keypoint_head.deconv_layers.1.weight', (16, )),
    ('keypoint_head.deconv_layers.1.bias', (16, )),
    ('keypoint_head.deconv_layers.1.running_mean', (16, )),
    ('keypoint_head.deconv_layers.1.running_var', (16, )),
    ('keypoint_head.deconv_layers.1.num_batches_tracked', ()),
    ('keypoint_head.final_layer.weight', (17, 16, 1, 1)),
    ('keypoint_head.final_layer.bias', (17, )),
])


@pytest.mark.parametrize('fmt,heads,out_indices', [
    ('v1_det', OrderedDict([('neck.lateral_convs.0.conv.weight',
                             (256, 16, 1, 1)),
                            ('rpn_head.rpn_conv.weight', (256, 256, 3, 3)),
                            ('roi_head.bbox_head.fc_cls.weight',
                             (81, 1024))]), (0, 1, 2, 3)),
    ('v1_seg', OrderedDict([('decode_head.conv_seg.weight',
                             (150, 512, 1, 1)),
                            ('auxiliary_head.conv_seg.weight',
                             (150, 256, 1, 1))]), (0, 1, 2, 3)),
    ('v1_pose', POSE_HEAD, (3, )),
])
def test_official_dense_layouts_round_trip(fmt, heads, out_indices):
    shapes = official_backbone_keys(TINY['depths'], TINY['embed_dims'])
    backbone = regenerate(shapes)
    sd = OrderedDict(('backbone.' + k, v) for k, v in backbone.items())
    sd.update(regenerate(heads, seed=1))
    ckpt = {'meta': {'CLASSES': ('a', )}, 'state_dict': sd}
    assert detect_format(ckpt) == fmt
    result = convert_checkpoint(ckpt)
    out = result.state_dict
    model = UniFormerDense(TINY, out_indices=out_indices)
    mine = OrderedDict((k[len('backbone.'):], v) for k, v in out.items()
                       if k.startswith('backbone.'))
    model.load_state_dict(mine, strict=True)  # strict: same names, shapes
    dumped = model.state_dict()
    for k, v in mine.items():
        assert torch.equal(dumped[k], v), k
    heads_out = [k for k in out if not k.startswith('backbone.')]
    if fmt == 'v1_pose':
        assert heads_out == [k.replace('keypoint_head.', 'head.')
                             for k in heads]
        assert 'backbone.norm1.weight' not in out  # unused by the forward
    else:
        assert heads_out == list(heads)


def test_official_pose_file_loads_into_mmpose_model_strictly():
    """The converted pose layout is mmpose 1's TopdownPoseEstimator +
    HeatmapHead (one deconvolution here), loaded with strict=True."""
    pytest.importorskip('mmpose')
    from mmengine.registry import DefaultScope
    from mmpose.registry import MODELS
    import mmpose.models  # noqa: F401
    shapes = official_backbone_keys(TINY['depths'], TINY['embed_dims'])
    sd = OrderedDict(('backbone.' + k, v)
                     for k, v in regenerate(shapes).items())
    sd.update(regenerate(POSE_HEAD, seed=1))
    out = convert_checkpoint({'state_dict': sd}, src_format='v1_pose')
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(dict(
            type='TopdownPoseEstimator',
            backbone=dict(type='UniFormerDense', arch=TINY,
                          out_indices=(3, )),
            head=dict(type='HeatmapHead', in_channels=64, out_channels=17,
                      deconv_out_channels=(16, ), deconv_kernel_sizes=(4, ),
                      loss=dict(type='KeypointMSELoss'))))
    model.load_state_dict(out.state_dict, strict=True)
    assert torch.equal(model.head.final_layer.weight,
                       sd['keypoint_head.final_layer.weight'])


def test_registered_in_the_dense_frameworks():
    for package in ('mmdet', 'mmseg', 'mmpose'):
        registry = pytest.importorskip(f'{package}.registry').MODELS
        assert registry.module_dict.get('UniFormerDense') is UniFormerDense

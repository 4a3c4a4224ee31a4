"""UniFormer (V1) backbones: image (mmpretrain) and video (mmaction2).

One network, :class:`UniFormerNet`, built with 2D operators for images and 3D
operators for videos. It is registered twice:

* ``UniFormer`` in mmpretrain's ``MODELS`` (images, ``(B, 3, H, W)``),
* ``UniFormerVideo`` in mmaction2's ``MODELS`` (videos, ``(B, 3, T, H, W)``;
  mmaction2 already registers its own port under the name ``UniFormer``).

Parameter names are the official ones (``patch_embed1..4``, ``blocks1..4``,
``norm``, ``cls_token``, ``cls_upsample``), so an official state dict loads
with ``strict=True`` once its classifier keys (``head``, ``aux_head``,
``head_cls``, ``norm_cls``) are moved to the head; see
:mod:`uniformer_mm.checkpoint`.

Papers: UniFormer (ICLR 2022, arXiv:2201.04676) and its TPAMI extension with
the light "hourglass" models (arXiv:2201.09450).
"""
from typing import Sequence, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from ...checkpoint.loader import (check_arch_metadata,
                                  load_pretrained_backbone, record_arch_hook)
from ..arch_zoo import ARCH_ZOO, resolve_arch
from ..layers import (CBlock, ConvDownsample, ConvStem, EvoSABlock,
                      PatchEmbed, SABlock, stage_checkpoint_counts)
from ..layers.uniformer_blocks import bn_nd


class UniFormerNet(BaseModule):
    """UniFormer backbone for images (``dims=2``) or videos (``dims=3``).

    Four stages at strides 4, 8, 16 and 32. Stages 1-2 are local blocks
    (:class:`CBlock`), stages 3-4 global blocks (:class:`SABlock`, or
    :class:`EvoSABlock` with a class token for the light models). Video
    models halve the number of frames in the first patch embedding and keep
    it afterwards, and attend jointly over ``T*H*W`` positions.

    Args:
        arch (str | dict): A name of :data:`ARCH_ZOO` (``'small'``,
            ``'small_plus'``, ``'base'``, ``'base_ls'``, ``'large_ls'``,
            ``'xxs'``, ``'xs'``, the ``*_tl`` token-labeling variants) or a
            dict with ``depths``, ``embed_dims``, ``head_dim`` and optional
            keys (see :data:`ARCH_ZOO`).
        dims (int): 2 for images, 3 for videos.
        in_channels (int): Input channels. Defaults to 3.
        head_dim (int, optional): Override the arch's head width
            (``num_heads = embed_dim // head_dim``).
        layer_scale_init_value (float, optional): Override the layer-scale
            initial value; setting it on an arch without layer scale adds
            layer scale to the global blocks.
        drop_rate (float): Dropout after the stem and in the MLPs.
        attn_drop_rate (float): Attention dropout.
        drop_path_rate (float): Stochastic depth, linearly increasing over
            all blocks.
        out_indices (Sequence[int]): Stages whose outputs are returned
            (0-3). The last stage's output is normalised by ``norm`` (BN).
        with_cp (bool | int | Sequence): Activation checkpointing, see
            :func:`stage_checkpoint_counts` (``[0, 0, 4, 0]`` = first four
            blocks of stage 3).
        fp32_attention (bool): Keep ``softmax(q k^T) v`` in float32 under
            mixed precision.
        channels_last (bool): Run on channels-last feature maps
            (``torch.channels_last[_3d]``). Same results; depthwise 3D
            convolutions are many times faster on CPU in this layout and the
            map <-> token reshapes of the global blocks become free views.
        frozen_stages (int): Freeze the stem and the first ``n`` stages
            (parameters and BN statistics). -1 freezes nothing.
        init_cfg (dict | list, optional): mmengine initialisation; without a
            ``Pretrained`` entry the official initialisation is used
            (truncated normal std 0.02 for linear layers). A ``Pretrained``
            entry may set ``min_loaded_fraction`` (see
            :mod:`uniformer_mm.checkpoint.coverage`; 0 loads a checkpoint
            that fills only part of the backbone).

    Outputs:
        A tuple with one feature map per index of ``out_indices``. For the
        light models the last stage's entry is ``(feature_map, cls_token)``
        with ``cls_token`` of shape ``(B, C4)``.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'small',
                 dims: int = 2,
                 in_channels: int = 3,
                 head_dim: int = None,
                 layer_scale_init_value: float = None,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 out_indices: Sequence[int] = (3, ),
                 with_cp: Union[bool, int, Sequence] = False,
                 fp32_attention: bool = False,
                 channels_last: bool = True,
                 frozen_stages: int = -1,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        assert dims in (2, 3), f'dims must be 2 or 3, got {dims}'
        setting = resolve_arch(arch)
        if head_dim is not None:
            setting['head_dim'] = head_dim
        if layer_scale_init_value is not None:
            setting['layer_scale_init_value'] = layer_scale_init_value
            setting['layer_scale'] = setting['layer_scale'] or 'global'
        self.arch_settings = setting
        self.dims = dims
        self.memory_format = (
            (torch.channels_last if dims == 2 else torch.channels_last_3d)
            if channels_last else torch.contiguous_format)
        depths, dims_c = setting['depths'], setting['embed_dims']
        self.embed_dims = list(dims_c)
        self.light = setting['light']
        hd = setting['head_dim']
        for c in dims_c[2:]:
            if c % hd:
                raise ValueError(f'embed dim {c} is not divisible by '
                                 f'head_dim {hd}')
        self.num_heads = [c // hd for c in dims_c]
        out_indices = [out_indices] if isinstance(out_indices,
                                                  int) else out_indices
        for i in out_indices:
            assert 0 <= i < 4, f'out_indices must be in 0..3, got {i}'
        self.out_indices = sorted(out_indices)
        self.cp_counts = stage_checkpoint_counts(with_cp, depths)
        self.frozen_stages = frozen_stages

        self._build_embeddings(in_channels, dims_c, setting['conv_stem'])
        self.pos_drop = nn.Dropout(drop_rate)

        total = sum(depths)
        dpr = [drop_path_rate * i / max(total - 1, 1) for i in range(total)]
        ls = setting['layer_scale']
        ls_value = setting['layer_scale_init_value']
        common = dict(drop=drop_rate)
        start = 0
        for s in range(4):
            blocks = []
            for i in range(depths[s]):
                kw = dict(common, drop_path=dpr[start + i],
                          mlp_ratio=setting['mlp_ratio'][s])
                if s < 2:
                    blk = CBlock(dims, dims_c[s], layer_scale_init_value=(
                        ls_value if ls == 'all' else None), **kw)
                else:
                    kw.update(num_heads=self.num_heads[s], qkv_bias=qkv_bias,
                              attn_drop=attn_drop_rate,
                              fp32_attention=fp32_attention,
                              layer_scale_init_value=ls_value if ls else None)
                    if self.light:
                        blk = EvoSABlock(
                            dims, dims_c[s],
                            prune_ratio=setting['prune_ratio'][s - 2][i],
                            trade_off=setting['trade_off'][s - 2][i],
                            downsample=(s == 2 and i == depths[s] - 1),
                            **kw)
                    else:
                        blk = SABlock(dims, dims_c[s], **kw)
                blocks.append(blk)
            setattr(self, f'blocks{s + 1}', nn.ModuleList(blocks))
            start += depths[s]

        if self.light:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dims_c[2]))
            self.cls_upsample = nn.Linear(dims_c[2], dims_c[3])
        self.norm = bn_nd(dims, dims_c[3])
        self._freeze_stages()
        self._apply_memory_format()
        # record the arch (head_dim included) in every state dict, checked
        # again on load (see uniformer_mm.checkpoint.arch)
        self.register_state_dict_post_hook(record_arch_hook)

    # ------------------------------------------------------------------
    def _build_embeddings(self, in_channels, c, conv_stem):
        d = self.dims
        video = d == 3
        if conv_stem:
            strides = ((1, 2, 2), (2, 2, 2)) if video else ((2, 2), (2, 2))
            self.patch_embed1 = ConvStem(d, in_channels, c[0], strides)
        else:
            k1 = (3, 4, 4) if video else 4
            s1 = (2, 4, 4) if video else 4
            p1 = (1, 0, 0) if video else 0
            self.patch_embed1 = PatchEmbed(d, in_channels, c[0], k1, s1, p1)
        for s in range(1, 4):
            if conv_stem and not self.light and not video:
                emb = ConvDownsample(d, c[s - 1], c[s])  # S+ image models
            else:
                k = (1, 2, 2) if video else 2
                emb = PatchEmbed(d, c[s - 1], c[s], k, k)
            setattr(self, f'patch_embed{s + 1}', emb)

    def _apply_memory_format(self):
        """Store convolution kernels in the feature-map layout: a 1x1(x1)
        convolution with a standard-layout kernel returns a standard-layout
        output even for a channels-last input, which would drop every later
        layer back to the slow path. In-place initialisation and
        ``load_state_dict`` keep the layout."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Conv3d)):
                m.weight.data = m.weight.data.contiguous(
                    memory_format=self.memory_format)

    def _freeze_stages(self):
        if self.frozen_stages < 0:
            return
        modules = [self.patch_embed1]
        for s in range(self.frozen_stages):
            modules.append(getattr(self, f'blocks{s + 1}'))
            if s + 2 <= 4:
                modules.append(getattr(self, f'patch_embed{s + 2}'))
        for m in modules:
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        return self

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              *args, **kwargs):
        check_arch_metadata(self, local_metadata, prefix, state_dict)
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      *args, **kwargs)

    def init_weights(self):
        pretrained = isinstance(self.init_cfg, dict) and \
            self.init_cfg.get('type') == 'Pretrained'
        if pretrained and self.init_cfg.get('checkpoint'):
            # any format (official image/video/light/token labeling,
            # mmaction2, ours); 2D weights are inflated for video models
            self._official_init()
            load_pretrained_backbone(
                self, self.init_cfg['checkpoint'],
                prefix=self.init_cfg.get('prefix'),
                min_fraction=self.init_cfg.get('min_loaded_fraction'))
            self._apply_memory_format()
            self._is_init = True
            return
        if not pretrained:
            self._official_init()
        super().init_weights()
        self._apply_memory_format()

    def _official_init(self):
        """Official initialisation: truncated normal (std .02) for linear
        weights, zero biases, unit LayerNorms."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.LayerNorm):
                nn.init.constant_(m.weight, 1.0)
                nn.init.constant_(m.bias, 0)

    # ------------------------------------------------------------------
    def _run(self, block, *args):
        return cp.checkpoint(block, *args, use_reentrant=False)

    def _stage(self, s, x):
        for i, blk in enumerate(getattr(self, f'blocks{s + 1}')):
            x = self._run(blk, x) if i < self.cp_counts[s] else blk(x)
        return x

    def _light_stage(self, s, cls_token, x, global_attn):
        for i, blk in enumerate(getattr(self, f'blocks{s + 1}')):
            if i < self.cp_counts[s]:
                cls_token, x, global_attn = self._run(blk, cls_token, x,
                                                      global_attn)
            else:
                cls_token, x, global_attn = blk(cls_token, x, global_attn)
        return cls_token, x, global_attn

    def forward(self, x):
        outs = []
        x = x.contiguous(memory_format=self.memory_format)
        x = self.pos_drop(self.patch_embed1(x))
        cls_token = global_attn = None
        for s in range(4):
            if s > 0:
                x = getattr(self, f'patch_embed{s + 1}')(x)
            if self.light and s >= 2:
                if s == 2:
                    cls_token = self.cls_token.expand(x.shape[0], -1, -1)
                else:
                    cls_token = self.cls_upsample(cls_token)
                cls_token, x, global_attn = self._light_stage(
                    s, cls_token, x, global_attn)
            else:
                x = self._stage(s, x)
            if s in self.out_indices:
                if s == 3:
                    out = self.norm(x)
                    if self.light:
                        out = (out, cls_token.flatten(1))
                else:
                    out = x
                outs.append(out)
        return tuple(outs)


try:  # image registry
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
except ImportError:  # pragma: no cover - mmpretrain is a dependency
    PRETRAIN_MODELS = None
from mmaction.registry import MODELS as ACTION_MODELS  # noqa: E402


class UniFormer(UniFormerNet):
    """UniFormer image backbone (mmpretrain registry). Input
    ``(B, 3, H, W)``; see :class:`UniFormerNet` for the arguments."""

    def __init__(self, arch='small', **kwargs):
        if 'dims' in kwargs:
            raise TypeError('UniFormer is the 2D model; use UniFormerVideo '
                            'for videos')
        super().__init__(arch=arch, dims=2, **kwargs)


class UniFormerVideo(UniFormerNet):
    """UniFormer video backbone (mmaction2 registry). Input
    ``(B, 3, T, H, W)``; the first patch embedding halves ``T``.

    Unlike :class:`UniFormer` it returns a single tensor (not a tuple) when
    one stage is requested and the model is not light, as mmaction2's heads
    (e.g. ``I3DHead``) expect.
    """

    def __init__(self, arch='small', **kwargs):
        if 'dims' in kwargs:
            raise TypeError('UniFormerVideo is the 3D model; use UniFormer '
                            'for images')
        super().__init__(arch=arch, dims=3, **kwargs)

    def forward(self, x):
        outs = super().forward(x)
        return outs[0] if len(outs) == 1 else outs


if PRETRAIN_MODELS is not None:
    PRETRAIN_MODELS.register_module(module=UniFormer)
ACTION_MODELS.register_module(module=UniFormerVideo)

__all__ = ['ARCH_ZOO', 'resolve_arch', 'UniFormerNet', 'UniFormer',
           'UniFormerVideo']

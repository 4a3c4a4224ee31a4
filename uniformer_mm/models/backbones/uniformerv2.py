"""UniFormerV2 video backbone (``type='UniFormerV2Video'`` in mmaction2's MODELS).

UniFormerV2 ("Spatiotemporal Learning by Arming Image ViTs with Video
UniFormer", ICCV 2023, arXiv:2211.09552) is a CLIP ViT whose residual blocks
may carry *local* temporal relation aggregators (LMHRA: a depthwise temporal
conv before and/or after self-attention) and which feeds the outputs of some
of its blocks (``return_list``) to a stack of *global* blocks: a learnable
video query cross-attends to all tokens of all frames after a depthwise 3D
"dynamic position encoding" (``dpe``). The query is fused with the ViT's
frame-averaged class token by a learned sigmoid gate (``balance``) and
layer-normalised.

Output: a ``[N, n_dim]`` feature, i.e. the official ``transformer.proj``
*before* its dropout and linear layer; those two live in
:class:`~uniformer_mm.models.heads.uniformerv2_head.UniFormerV2Head`.

The blocks (:class:`LocalUniBlock`, :class:`GlobalUniBlock`, their
attention and helpers) live in
:mod:`uniformer_mm.models.layers.uniformerv2_blocks`; this module assembles
them (:class:`UniFormerV2Transformer`) and adds the stem, the initialisation
from CLIP and the freezing.

Parameter names
---------------
Every backbone parameter keeps the official name (official checkpoints carry
an extra ``backbone.`` prefix) except the final LayerNorm:

===============================  =====================================
official (``backbone.`` + ...)   here
===============================  =====================================
``transformer.proj.0.*``         ``backbone.transformer.norm.*``
``transformer.proj.2.*``         ``cls_head.fc_cls.*`` (the head)
everything else                  ``backbone.`` + same name
===============================  =====================================

This is mmaction2's layout (its ``UniFormerV2`` + ``UniFormerHead``), so
mmaction2 checkpoints load without renaming; official ones need only the two
renames above (see ``uniformer_mm/checkpoint``). Frozen models
(``frozen=True``) have no ``transformer.balance``, like the official frozen
checkpoints (mmaction2 cannot build them).

Differences from the official code, none of which changes the numbers:
tokens are kept batch-first (``[N*T, 1+HW, C]``) instead of ``LND``; attention
runs through :func:`torch.nn.functional.scaled_dot_product_attention`; the
global branch is built out of place (``torch.cat`` instead of the official
in-place ``tmp_x[1:] = tmp_x[1:] + ...``, which is behind the autograd error
of OpenGVLab/UniFormerV2#4); the number of frames and the spatial grid are
read from the input (``t_size`` is informational) and the spatial position
embedding is bicubic-interpolated when the input size differs from
``input_resolution``. Stochastic depth draws its masks exactly like the
official ``timm.DropPath`` applied to the official tensor layouts: per token
position in the ViT blocks (the official tensors are ``LND``), per video in
LMHRA, once per batch in the global blocks.

Speed (CPU, float32; same results up to float32 rounding, see
docs/benchmarks.md "Speed vs mmaction2 (CPU)"): the linear layers of the ViT
blocks run through oneDNN with the residual additions fused into the output
projections and QuickGELU as ``silu(1.702 u) / 1.702`` (one SiLU kernel;
fused into the first MLP GEMM without gradients), see
:mod:`uniformer_mm.models.layers.cpu_fused`; the global blocks' single
query attends without projecting the ``T*(1+HW)`` tokens to keys and values
(the projections are folded into the query and the read-out, see
:meth:`~uniformer_mm.models.layers.uniformerv2_blocks.PackedAttention.
_folded_cross_attention`); ``conv1`` (no temporal
kernel) runs as patchify + one GEMM; the ``dpe`` depthwise convolutions get
a channels-last 3D view of the tokens (several times faster than the
standard layout, forward and backward). Elsewhere (GPU, autocast,
tracing/export, FLOP counting, other dtypes) the plain PyTorch code runs;
checkpointed or stochastic-depth branches keep the residual additions
unfused.
"""
import logging
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule

from mmaction.registry import MODELS

from uniformer_mm.checkpoint.clip import (clip_to_uniformerv2,
                                          read_clip_checkpoint,
                                          resize_pos_embed)
from ..arch_zoo import V2_ARCH_ZOO, resolve_v2_arch
from ..layers import cpu_fused
from ..layers.uniformer_blocks import DepthwiseConv3d
from ..layers.uniformerv2_blocks import (GlobalUniBlock, LayerNormFp32,
                                         LocalMHRA, LocalUniBlock,
                                         PackedAttention, _pair)

#: Prefixes of the CLIP ViT part of the backbone (frozen with
#: ``frozen=True``; initialised from CLIP, LMHRA excepted).
VIT_PREFIXES = ('conv1.', 'class_embedding', 'positional_embedding',
                'ln_pre.', 'transformer.resblocks.')


class UniFormerV2Transformer(nn.Module):
    """The ``transformer`` of the backbone: ViT blocks + global branch."""

    def __init__(self,
                 width: int,
                 layers: int,
                 heads: int,
                 backbone_drop_path_rate: float = 0.,
                 dw_reduction: float = 1.5,
                 no_lmhra: bool = True,
                 double_lmhra: bool = False,
                 return_list: Sequence[int] = (8, 9, 10, 11),
                 n_dim: int = 768,
                 n_head: int = 12,
                 mlp_factor: float = 4.0,
                 drop_path_rate: float = 0.,
                 mlp_dropout: Sequence[float] = (0.5, 0.5, 0.5, 0.5),
                 frozen: bool = False,
                 with_cp: bool = False,
                 checkpoint_num: Optional[int] = None):
        super().__init__()
        n_layers = len(return_list)
        self.return_list = list(return_list)
        self.frozen = frozen
        self.with_cp = with_cp
        self.checkpoint_num = checkpoint_num

        block_dpr = torch.linspace(
            0, backbone_drop_path_rate, layers, device='cpu').tolist()
        self.resblocks = nn.ModuleList([
            LocalUniBlock(
                width,
                heads,
                drop_path=block_dpr[i],
                dw_reduction=dw_reduction,
                no_lmhra=no_lmhra,
                double_lmhra=double_lmhra) for i in range(layers)
        ])

        self.temporal_cls_token = nn.Parameter(torch.zeros(1, 1, n_dim))
        self.dpe = nn.ModuleList([
            DepthwiseConv3d(
                n_dim, n_dim, kernel_size=3, padding=1, groups=n_dim)
            for _ in range(n_layers)
        ])
        dpr = torch.linspace(
            0, drop_path_rate, n_layers, device='cpu').tolist()
        self.dec = nn.ModuleList([
            GlobalUniBlock(
                n_dim,
                n_head,
                mlp_factor=mlp_factor,
                dropout=mlp_dropout[j],
                drop_path=dpr[j]) for j in range(n_layers)
        ])
        self.norm = nn.LayerNorm(n_dim)
        if not frozen:
            self.balance = nn.Parameter(torch.zeros(n_dim))
        self.init_official_()

    def init_official_(self) -> None:
        nn.init.zeros_(self.temporal_cls_token)
        for conv in self.dpe:
            nn.init.zeros_(conv.bias)
        if not self.frozen:
            nn.init.zeros_(self.balance)

    def _global_tokens(self, j: int, x: torch.Tensor, n: int, t: int, h: int,
                       w: int) -> torch.Tensor:
        """Tokens of one ViT block + ``dpe[j]`` on the patches, as one
        ``[n, t*(1+h*w), C]`` sequence (built out of place)."""
        c = x.shape[-1]
        frames = x.reshape(n, t, 1 + h * w, c)
        cls_tokens, patches = frames[:, :, :1], frames[:, :, 1:]
        # channels-last 3D map (a view of the contiguous [n, t, h, w, c]
        # patches): the depthwise conv is several times faster in this
        # layout on CPU (forward and backward) and its output is again a
        # channels-last map, i.e. a free view of the tokens
        video = patches.reshape(n, t, h, w, c).permute(0, 4, 1, 2, 3)
        pos = self.dpe[j](video)
        patches = patches + pos.permute(0, 2, 3, 4, 1).reshape(
            n, t, h * w, c)
        return torch.cat([cls_tokens, patches], dim=2).reshape(n, -1, c)

    def forward(self, x: torch.Tensor, n: int, t: int, h: int,
                w: int) -> torch.Tensor:
        """``x``: ``[n*t, 1+h*w, C]`` after ``ln_pre``. Returns ``[n, C]``."""
        query = self.temporal_cls_token.expand(n, -1, -1)
        j = 0
        for i, block in enumerate(self.resblocks):
            use_cp = (self.with_cp and self.training
                      and torch.is_grad_enabled()
                      and (self.checkpoint_num is None
                           or i < self.checkpoint_num))
            x = block(x, n, t, h, w, use_checkpoint=use_cp)
            if i in self.return_list:
                query = self.dec[j](query,
                                    self._global_tokens(j, x, n, t, h, w))
                j += 1
        video_cls = query[:, 0]
        if self.frozen:
            return self.norm(video_cls)
        frame_cls = x[:, 0].reshape(n, t, -1).mean(dim=1)
        gate = torch.sigmoid(self.balance)
        return self.norm((1 - gate) * video_cls + gate * frame_cls)


@MODELS.register_module()
class UniFormerV2Video(BaseModule):
    """UniFormerV2 backbone (official ``VisionTransformer`` minus the
    classifier).

    Args:
        arch (str | dict): ViT variant: ``'vit-b16'``, ``'vit-l14'``,
            ``'vit-l14-336'`` (also the official/mmaction2 names
            ``'ViT-B/16'``, ``'ViT-L/14'``, ``'ViT-L/14_336'``) or a dict with
            ``input_resolution``, ``patch_size``, ``width``, ``layers``,
            ``heads`` and optionally ``return_list``.
        input_resolution (int | tuple, optional): training resolution; sets
            the size of ``positional_embedding``. Defaults to the arch's.
        t_size (int): frames per clip of the configs (informational: the
            frame count is read from the input). Defaults to 8.
        kernel_size (int): temporal kernel of ``conv1`` with
            ``temporal_downsample``. Defaults to 3.
        temporal_downsample (bool): ``conv1`` with temporal kernel
            ``kernel_size`` and stride 2 (Something-Something configs).
            Defaults to False (Kinetics configs; official builder: True).
        no_lmhra (bool): no local MHRA in the ViT blocks. Defaults to True
            (Kinetics; official builder: False).
        double_lmhra (bool): LMHRA also after self-attention. Defaults to
            False (official builder: True).
        dw_reduction (float): LMHRA channel reduction. Defaults to 1.5.
        return_list (list[int], optional): ViT blocks whose outputs feed the
            global blocks. Defaults to the arch's (last four).
        n_layers (int, optional): number of global blocks; must equal
            ``len(return_list)``.
        n_dim (int, optional): width of the global blocks; must equal the
            ViT width. Defaults to it.
        n_head (int, optional): heads of the global blocks. Defaults to the
            ViT's.
        mlp_factor (float): MLP ratio of the global blocks. Defaults to 4.
        drop_path_rate (float): stochastic depth of the global blocks
            (linear from 0). Defaults to 0.
        backbone_drop_path_rate (float): stochastic depth of the ViT blocks
            (linear from 0). Defaults to 0.
        mlp_dropout (float | list[float]): dropout inside each global block's
            MLP. Defaults to 0.5.
        frozen (bool): freeze the CLIP ViT part (``conv1``,
            ``class_embedding``, ``positional_embedding``, ``ln_pre``,
            ``transformer.resblocks``) and use the global query alone (no
            ``balance``). Defaults to False.
        with_cp (bool): activation checkpointing of the attention and MLP
            branches of the ViT blocks. Defaults to False.
        checkpoint_num (int | list[int], optional): checkpoint only the first
            ``k`` blocks (official ``CHECKPOINT_NUM [k]``); ``None`` = all.
            Defaults to None.
        clip_pretrained (str, optional): CLIP image-encoder weights loaded by
            :meth:`init_weights` (OpenAI TorchScript release, read without
            running its code, or an extracted state dict, see
            :mod:`uniformer_mm.checkpoint.clip`); see :meth:`load_clip`.
        init_cfg (dict, optional): only ``type='Pretrained'`` is honoured
            (see :meth:`init_weights`); it may set ``min_loaded_fraction``
            (:mod:`uniformer_mm.checkpoint.coverage`).
    """

    #: The ViT sizes (:data:`uniformer_mm.models.arch_zoo.V2_ARCH_ZOO`).
    arch_zoo: Dict[str, dict] = V2_ARCH_ZOO

    def __init__(self,
                 arch: Union[str, dict] = 'vit-b16',
                 input_resolution: Optional[Union[int, Sequence[int]]] = None,
                 t_size: int = 8,
                 kernel_size: int = 3,
                 temporal_downsample: bool = False,
                 no_lmhra: bool = True,
                 double_lmhra: bool = False,
                 dw_reduction: float = 1.5,
                 return_list: Optional[Sequence[int]] = None,
                 n_layers: Optional[int] = None,
                 n_dim: Optional[int] = None,
                 n_head: Optional[int] = None,
                 mlp_factor: float = 4.0,
                 drop_path_rate: float = 0.,
                 backbone_drop_path_rate: float = 0.,
                 mlp_dropout: Union[float, Sequence[float]] = 0.5,
                 frozen: bool = False,
                 with_cp: bool = False,
                 checkpoint_num: Optional[Union[int, Sequence[int]]] = None,
                 clip_pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        arch = self._resolve_arch(arch)
        if input_resolution is None:
            input_resolution = arch['input_resolution']
        if return_list is None:
            return_list = arch.get('return_list',
                                   list(range(arch['layers']))[-4:])
        return_list = [int(i) for i in return_list]
        if n_layers is None:
            n_layers = len(return_list)
        if n_layers != len(return_list):
            raise ValueError(f'n_layers={n_layers} but return_list has '
                             f'{len(return_list)} entries')
        width, layers, heads = arch['width'], arch['layers'], arch['heads']
        patch_size = arch['patch_size']
        if any(not 0 <= i < layers for i in return_list):
            raise ValueError(f'return_list {return_list} out of range for '
                             f'{layers} blocks')
        n_dim = width if n_dim is None else n_dim
        n_head = heads if n_head is None else n_head
        if n_dim != width:
            raise ValueError(f'n_dim ({n_dim}) must equal the ViT width '
                             f'({width})')
        if isinstance(mlp_dropout, (int, float)):
            mlp_dropout = [float(mlp_dropout)] * n_layers
        mlp_dropout = list(mlp_dropout)
        if len(mlp_dropout) != n_layers:
            raise ValueError(f'mlp_dropout needs {n_layers} values, got '
                             f'{len(mlp_dropout)}')
        if isinstance(checkpoint_num, (list, tuple)):
            checkpoint_num = checkpoint_num[0]

        self.arch = arch
        self.input_resolution = _pair(input_resolution)
        self.patch_size = patch_size
        self.grid = (self.input_resolution[0] // patch_size,
                     self.input_resolution[1] // patch_size)
        self.width = width
        self.t_size = t_size
        self.temporal_downsample = temporal_downsample
        self.frozen = frozen
        self.clip_pretrained = clip_pretrained

        if temporal_downsample:
            self.conv1 = nn.Conv3d(
                3,
                width, (kernel_size, patch_size, patch_size),
                stride=(2, patch_size, patch_size),
                padding=((kernel_size - 1) // 2, 0, 0),
                bias=False)
        else:
            self.conv1 = nn.Conv3d(
                3,
                width, (1, patch_size, patch_size),
                stride=(1, patch_size, patch_size),
                bias=False)
        scale = width**-0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(
            scale * torch.randn(self.grid[0] * self.grid[1] + 1, width))
        self.ln_pre = LayerNormFp32(width)
        self.transformer = UniFormerV2Transformer(
            width,
            layers,
            heads,
            backbone_drop_path_rate=backbone_drop_path_rate,
            dw_reduction=dw_reduction,
            no_lmhra=no_lmhra,
            double_lmhra=double_lmhra,
            return_list=return_list,
            n_dim=n_dim,
            n_head=n_head,
            mlp_factor=mlp_factor,
            drop_path_rate=drop_path_rate,
            mlp_dropout=mlp_dropout,
            frozen=frozen,
            with_cp=with_cp,
            checkpoint_num=checkpoint_num)

        if frozen:
            for name, param in self.named_parameters():
                if name.startswith(VIT_PREFIXES):
                    param.requires_grad_(False)

    @classmethod
    def _resolve_arch(cls, arch: Union[str, dict]) -> dict:
        return resolve_v2_arch(arch)

    # ------------------------------------------------------------------
    # initialisation
    # ------------------------------------------------------------------
    def vit_state_keys(self) -> List[str]:
        """Keys of the CLIP ViT part (what a CLIP checkpoint provides)."""
        return [
            k for k in self.state_dict()
            if k.startswith(VIT_PREFIXES) and '.lmhra' not in k
        ]

    def load_clip(self, checkpoint: Union[str, Dict[str, torch.Tensor]],
                  min_fraction: Optional[float] = None):
        """Initialise the ViT part from CLIP weights (strict for it).

        The CLIP weights must fill at least ``min_fraction`` of the ViT
        part's parameters (default
        :func:`~uniformer_mm.checkpoint.coverage.min_loaded_fraction`),
        else :class:`~uniformer_mm.checkpoint.coverage.PartialLoadError`
        names the CLIP arch the file fits. Other ViT keys missing, extra
        (a deeper CLIP) or of another shape raise
        :class:`~uniformer_mm.checkpoint.io.CheckpointError` too, unless the
        minimum is 0 (then what fits is loaded and the rest reported). The
        keys CLIP does not provide (LMHRA, global branch) are reported.
        """
        from uniformer_mm.checkpoint.arch import describe_state_dict
        from uniformer_mm.checkpoint.coverage import (check_load_coverage,
                                                      min_loaded_fraction)
        from uniformer_mm.checkpoint.io import CheckpointError
        if isinstance(checkpoint, str):
            source = checkpoint
            raw = read_clip_checkpoint(checkpoint)
        else:
            source = 'a state dict'
            raw = checkpoint
        state_dict = clip_to_uniformerv2(
            raw, conv1_time_dim=self.conv1.weight.shape[2],
            pos_grid=self.grid)
        own = self.state_dict()
        expected = self.vit_state_keys()
        clip_desc = describe_state_dict(raw)
        cov = check_load_coverage(
            own, state_dict, f'clip_pretrained={source}',
            'the CLIP part of the backbone', expected=expected,
            min_fraction=min_fraction, checkpoint_desc=clip_desc,
            target_desc=f'that of {describe_state_dict(own)}')
        unexpected = sorted(set(state_dict) - set(expected))
        problems = []
        for what, keys in (('missing', cov.missing),
                           ('unexpected', unexpected)):
            if keys:
                more = f' and {len(keys) - 3} more' if len(keys) > 3 else ''
                problems.append(f'{what} {keys[:3]}{more}')
        if cov.mismatched:
            problems.append('other shapes (key, checkpoint, model) '
                            f'{cov.mismatched[:2]}')
        if problems:
            message = (f'CLIP weights from {source} do not match the ViT of '
                       f'this model ({"; ".join(problems)}): the file looks '
                       f'like {clip_desc}')
            if min_loaded_fraction(min_fraction) > 0:
                raise CheckpointError(
                    message, 'Set the backbone arch to the CLIP it was '
                    'made from, or min_loaded_fraction=0 to load the '
                    'tensors that fit')
            print_log(message + '; loading the tensors that fit '
                      '(min_loaded_fraction=0)', logger='current',
                      level=logging.WARNING)
            state_dict = {k: v for k, v in state_dict.items()
                          if k in own and v.shape == own[k].shape}
        result = self.load_state_dict(state_dict, strict=False)
        not_loaded = sorted(
            {'.'.join(k.split('.')[:3]) if k.startswith('transformer.')
             else k for k in result.missing_keys})
        print_log(
            f'UniFormerV2Video: loaded {len(state_dict)} CLIP tensors from '
            f'{source}; not initialised from CLIP ({len(result.missing_keys)}'
            f' tensors): {not_loaded}',
            logger='current')
        return result

    def init_official_(self) -> None:
        """(Re-)apply the official initialisation to every parameter.

        PyTorch defaults for convolutions, linear layers and norms, then:
        ``class_embedding``/``positional_embedding`` ~ N(0, width^-1/2);
        attention ``in_proj_weight`` xavier-uniform, ``in_proj_bias`` 0,
        ``out_proj.bias`` 0; global blocks: ``out_proj`` 0, ``c_fc`` weight
        xavier-uniform, ``c_proj`` 0; LMHRA ``pos_embed.3`` 0; ``dpe`` bias
        0; ``temporal_cls_token`` and ``balance`` 0.
        """
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv3d, nn.LayerNorm,
                              nn.BatchNorm3d)):
                m.reset_parameters()
        for m in self.modules():
            if isinstance(m, (PackedAttention, LocalMHRA, GlobalUniBlock,
                              UniFormerV2Transformer)):
                m.init_official_()
        scale = self.width**-0.5
        nn.init.normal_(self.class_embedding, std=scale)
        nn.init.normal_(self.positional_embedding, std=scale)

    def init_weights(self) -> None:
        """Official initialisation, then CLIP weights (``clip_pretrained``),
        then a ``Pretrained`` init_cfg.

        mmengine's default ``init_weights`` would apply ``init_cfg`` layer
        rules (e.g. truncated normal on every Linear) over the zero-initialised
        global blocks; here the official initialisation is re-applied instead
        (undoing whatever a parent's init_cfg did to this backbone) and any
        init_cfg other than ``Pretrained`` is ignored with a log message.
        """
        self.init_official_()
        if self.clip_pretrained:
            self.load_clip(self.clip_pretrained)
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            # any supported format (official, mmaction2, ours, CLIP), with
            # the prefix defaulting to 'backbone.' and a report of what
            # did not load (mmengine's plain loader would silently load
            # nothing from an unprefixed match)
            from ...checkpoint.loader import load_pretrained_backbone
            load_pretrained_backbone(
                self, cfg['checkpoint'], prefix=cfg.get('prefix'),
                min_fraction=cfg.get('min_loaded_fraction'))
        elif cfg:
            print_log(
                f'UniFormerV2Video: init_cfg {cfg} ignored (only '
                "type='Pretrained' is applied on top of the official "
                'initialisation).',
                logger='current')
        self._is_init = True

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def _pos_embed(self, h: int, w: int) -> torch.Tensor:
        if (h, w) == self.grid:
            return self.positional_embedding
        return resize_pos_embed(
            self.positional_embedding, (h, w), old_grid=self.grid)

    def _patch_embed(self, x: torch.Tensor) -> Tuple[torch.Tensor, tuple]:
        """``conv1`` -> tokens ``[N*T, h*w, C]`` and ``(N, T, h, w)``.

        Without temporal kernel the convolution is a patchify + matrix
        product; on CPU in float32 it runs as such (one GEMM, see
        :mod:`..layers.cpu_fused`), which is faster than the convolution,
        above all its weight gradient.
        """
        weight = self.conv1.weight
        p = self.patch_size
        if weight.shape[2] == 1 and cpu_fused.can_fuse(x, weight):
            n, c, t, hh, ww = x.shape
            h, w = hh // p, ww // p
            patches = x[..., :h * p, :w * p].reshape(n, c, t, h, p, w, p)
            patches = patches.permute(0, 2, 3, 5, 1, 4, 6).reshape(
                n * t, h * w, c * p * p)
            tokens = cpu_fused.linear(patches, weight.flatten(1))
            return tokens, (n, t, h, w)
        x = self.conv1(x)
        n, c, t, h, w = x.shape
        return x.permute(0, 2, 3, 4, 1).reshape(n * t, h * w, c), (n, t, h,
                                                                    w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[N, 3, T, H, W]`` -> feature ``[N, n_dim]``."""
        x, (n, t, h, w) = self._patch_embed(x)
        c = x.shape[-1]
        cls_tokens = self.class_embedding.to(x.dtype).expand(n * t, 1, c)
        x = torch.cat([cls_tokens, x], dim=1)
        x = x + self._pos_embed(h, w).to(x.dtype)
        x = self.ln_pre(x)
        return self.transformer(x, n, t, h, w)

"""Building blocks of UniFormer (V1), shared by the image and video models.

Every block takes ``dims`` (2 for images, 3 for videos) and builds the same
maths with 2D or 3D operators. Parameter names follow the official release
(``pos_embed``, ``norm1``, ``conv1``, ``attn``, ``conv2``, ``norm2``,
``mlp.fc1``/``mlp.fc2``, ``attn.qkv``/``attn.proj``, ``gamma_1``/``gamma_2``)
so that official checkpoints load without renaming.

Feature maps are channel-first: ``(B, C, H, W)`` or ``(B, C, T, H, W)``.
Global blocks flatten all positions (``T*H*W`` for video: full spatiotemporal
attention) into tokens ``(B, N, C)``.
"""
from functools import partial
from typing import Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath

from . import cpu_fused
from .gelu_mlp import gelu_mlp

_CONV = {2: nn.Conv2d, 3: nn.Conv3d}


def canonical_batch_stride(x):
    """Give a batch-of-one channels-last map the canonical batch stride.

    With batch size 1 the batch stride is formally irrelevant and many ops
    return other values for it. PyTorch's CPU BatchNorm (2d and 3d, torch
    2.13) then computes wrong input gradients in training mode for such a
    channels-last input (a max error of ~6 on unit-variance data was
    measured here; see tests/test_uniformer_v1.py). Restriding is free: only
    batch index 0 exists, so the same memory is addressed.
    """
    if x.dim() in (4, 5) and x.shape[0] == 1 and not x.is_contiguous():
        numel = x[0].numel()
        if x.stride(0) != numel:
            x = x.as_strided(x.shape, (numel, ) + tuple(x.stride()[1:]),
                             x.storage_offset())
    return x


class BatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` safe for channels-last batches of one; see
    :func:`canonical_batch_stride`. Same parameters and buffers."""

    def forward(self, x):
        return super().forward(
            canonical_batch_stride(x) if self.training else x)


class BatchNorm3d(nn.BatchNorm3d):
    """``nn.BatchNorm3d`` safe for channels-last batches of one; see
    :func:`canonical_batch_stride`. Same parameters and buffers."""

    def forward(self, x):
        return super().forward(
            canonical_batch_stride(x) if self.training else x)


_BN = {2: BatchNorm2d, 3: BatchNorm3d}

#: LayerNorm of the global (self-attention) blocks: official eps is 1e-6.
SALayerNorm = partial(nn.LayerNorm, eps=1e-6)


def _ntuple(value, dims):
    if isinstance(value, (tuple, list)):
        assert len(value) == dims, f'expected {dims} values, got {value}'
        return tuple(value)
    return (value, ) * dims


class DepthwiseConv3d(nn.Conv3d):
    """``nn.Conv3d`` (same parameters, same results) whose backward, for a
    depthwise stride-1 'same' convolution of a channels-last CPU float32
    map, runs as two depthwise convolutions
    (:func:`~uniformer_mm.models.layers.cpu_fused.depthwise_conv3d`;
    2-7x faster than PyTorch's CPU backward for the UniFormer shapes).
    Any other case runs ``nn.Conv3d.forward``.
    """

    def forward(self, x):
        if self.groups == self.in_channels == self.out_channels and \
                self.padding_mode == 'zeros' and \
                self.stride == (1, 1, 1) and self.dilation == (1, 1, 1) and \
                not isinstance(self.padding, str):
            return cpu_fused.depthwise_conv3d(x, self.weight, self.bias,
                                              self.padding)
        return super().forward(x)


def conv_nd(dims, *args, **kwargs):
    """``nn.Conv2d`` or ``nn.Conv3d`` (:class:`DepthwiseConv3d` for a 3D
    depthwise convolution: ``groups`` = in = out channels)."""
    if dims == 3 and kwargs.get('groups', 1) > 1 and \
            args[:2] == (kwargs['groups'], ) * 2:
        return DepthwiseConv3d(*args, **kwargs)
    return _CONV[dims](*args, **kwargs)


class _PointwiseMixin:
    """A 1x1(x1) convolution that, on a channels-last map, runs as a
    linear layer over the (contiguous) channel-last view.

    Parameters keep the convolution's names and shapes. The layout matters:
    a 1x1(x1) kernel looks contiguous in both layouts, and PyTorch then
    returns a standard-layout output for a channels-last input, which sends
    the following depthwise convolutions (and their backward) to a path that
    is tens of times slower on CPU.
    """

    def forward(self, x):
        fmt = torch.channels_last if x.dim() == 4 else torch.channels_last_3d
        if x.dim() in (4, 5) and not x.is_contiguous() and \
                x.is_contiguous(memory_format=fmt):
            y = F.linear(x.movedim(1, -1), self.weight.flatten(1), self.bias)
            return y.movedim(-1, 1)
        return super().forward(x)


class PointwiseConv2d(_PointwiseMixin, nn.Conv2d):
    """1x1 convolution; see :class:`_PointwiseMixin`."""


class PointwiseConv3d(_PointwiseMixin, nn.Conv3d):
    """1x1x1 convolution; see :class:`_PointwiseMixin`."""


def pointwise_conv(dims, in_channels, out_channels):
    """A 1x1(x1) convolution layer that stays fast on channels-last maps."""
    cls = PointwiseConv2d if dims == 2 else PointwiseConv3d
    return cls(in_channels, out_channels, 1)


def bn_nd(dims, num_features):
    """``nn.BatchNorm2d`` or ``nn.BatchNorm3d``."""
    return _BN[dims](num_features)


def _drop_path(rate):
    return DropPath(rate) if rate > 0. else nn.Identity()


def _layer_scale(value, dim, shape_dims=None):
    """Layer-scale parameter; ``shape_dims`` gives a channel-first shape."""
    if shape_dims is None:
        shape = (dim, )
    else:
        shape = (1, dim) + (1, ) * shape_dims
    return nn.Parameter(value * torch.ones(shape))


class _GeluMlpMixin:
    """``fc1 -> GELU -> fc2`` through :func:`~.gelu_mlp.gelu_mlp` (the GELU
    output is recomputed in the backward instead of kept) when dropout is
    inactive and the activation is the exact GELU."""

    def _recomputable(self):
        return (not self.training or self.drop.p == 0) and \
            type(self.act) is nn.GELU and self.act.approximate == 'none'

    def _gelu_mlp(self, x):
        fc1, fc2 = self.fc1, self.fc2
        return gelu_mlp(x, fc1.weight.flatten(1), fc1.bias,
                        fc2.weight.flatten(1), fc2.bias)


class Mlp(_GeluMlpMixin, nn.Module):
    """Token MLP of the global blocks: ``fc1 -> GELU -> fc2``."""

    def __init__(self, in_features, hidden_features, drop=0.):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        if self._recomputable():
            return self._gelu_mlp(x)
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class CMlp(_GeluMlpMixin, nn.Module):
    """Convolutional MLP of the local blocks: 1x1(x1) convolutions (on a
    channels-last map: one MLP over the channel-last view)."""

    def __init__(self, dims, in_features, hidden_features, drop=0.):
        super().__init__()
        self.fc1 = pointwise_conv(dims, in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = pointwise_conv(dims, hidden_features, in_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        fmt = torch.channels_last if x.dim() == 4 else torch.channels_last_3d
        if x.dim() in (4, 5) and not x.is_contiguous() and \
                x.is_contiguous(memory_format=fmt) and self._recomputable():
            return self._gelu_mlp(x.movedim(1, -1)).movedim(-1, 1)
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class MultiheadSelfAttention(nn.Module):
    """Multi-head self-attention over tokens ``(B, N, C)`` with a packed
    ``qkv`` projection, computed by ``F.scaled_dot_product_attention``.

    Args:
        dim (int): Token width.
        num_heads (int): Number of heads (``dim // head_dim``).
        qkv_bias (bool): Bias in the ``qkv`` projection.
        attn_drop (float): Dropout on the attention weights (training).
        proj_drop (float): Dropout after the output projection.
        fp32 (bool): Compute ``softmax(q k^T) v`` in float32 even under
            autocast (the official ``*_fp32`` light video models do this to
            avoid NaN losses with fp16).
    """

    def __init__(self, dim, num_heads, qkv_bias=True, attn_drop=0.,
                 proj_drop=0., fp32=False):
        super().__init__()
        assert dim % num_heads == 0, \
            f'width {dim} is not divisible by {num_heads} heads'
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim**-0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.fp32 = fp32

    def _qkv(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim)
        return qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (B, h, N, d)

    def _attend(self, q, k, v):
        dropout = self.attn_drop if self.training else 0.
        if self.fp32 and q.dtype != torch.float32:
            with torch.autocast(q.device.type, enabled=False):
                out = F.scaled_dot_product_attention(
                    q.float(), k.float(), v.float(), dropout_p=dropout,
                    scale=self.scale)
            return out.to(q.dtype)
        return F.scaled_dot_product_attention(
            q, k, v, dropout_p=dropout, scale=self.scale)

    def _merge(self, out):
        B, h, N, d = out.shape
        out = out.transpose(1, 2).reshape(B, N, h * d)
        return self.proj_drop(self.proj(out))

    def forward(self, x):
        q, k, v = self._qkv(x)
        return self._merge(self._attend(q, k, v))

    def forward_with_cls_attention(self, x, num_keys):
        """Self-attention, plus the head-averaged attention of the first
        (class) token to keys ``1 .. num_keys`` (needed by the hourglass
        token pruning). Only that one row is recomputed explicitly."""
        q, k, v = self._qkv(x)
        out = self._merge(self._attend(q, k, v))
        q0 = q[:, :, :1].float() * self.scale
        row = (q0 @ k.float().transpose(-2, -1)).softmax(dim=-1)
        cls_attn = row[:, :, 0, 1:1 + num_keys].mean(dim=1)
        return out, cls_attn


class CBlock(nn.Module):
    """Local UniFormer block (local MHRA): dynamic position encoding, then a
    depthwise 5x5(x5) convolution as token affinity, then a conv MLP.

    Args:
        dims (int): 2 (image) or 3 (video).
        dim (int): Channels.
        mlp_ratio (float): Hidden width of the MLP relative to ``dim``.
        drop (float): Dropout in the MLP.
        drop_path (float): Stochastic depth rate of this block.
        layer_scale_init_value (float, optional): Adds ``gamma_1``/``gamma_2``
            of shape ``(1, C, 1, 1[, 1])`` when set.
    """

    def __init__(self, dims, dim, mlp_ratio=4., drop=0., drop_path=0.,
                 layer_scale_init_value=None):
        super().__init__()
        self.pos_embed = conv_nd(dims, dim, dim, 3, padding=1, groups=dim)
        self.norm1 = bn_nd(dims, dim)
        self.conv1 = pointwise_conv(dims, dim, dim)
        self.conv2 = pointwise_conv(dims, dim, dim)
        self.attn = conv_nd(dims, dim, dim, 5, padding=2, groups=dim)
        self.drop_path = _drop_path(drop_path)
        self.norm2 = bn_nd(dims, dim)
        self.mlp = CMlp(dims, dim, int(dim * mlp_ratio), drop=drop)
        self.layer_scale = layer_scale_init_value is not None
        if self.layer_scale:
            self.gamma_1 = _layer_scale(layer_scale_init_value, dim, dims)
            self.gamma_2 = _layer_scale(layer_scale_init_value, dim, dims)

    def forward(self, x):
        x = x + self.pos_embed(x)
        y = self.conv2(self.attn(self.conv1(self.norm1(x))))
        if self.layer_scale:
            y = self.gamma_1 * y
        x = x + self.drop_path(y)
        y = self.mlp(self.norm2(x))
        if self.layer_scale:
            y = self.gamma_2 * y
        return x + self.drop_path(y)


class _TokenBlock(nn.Module):
    """Shared parts of the global blocks: DPE conv, LN, MHSA, MLP."""

    def __init__(self, dims, dim, num_heads, mlp_ratio=4., qkv_bias=True,
                 drop=0., attn_drop=0., drop_path=0.,
                 layer_scale_init_value=None, fp32_attention=False):
        super().__init__()
        self.pos_embed = conv_nd(dims, dim, dim, 3, padding=1, groups=dim)
        self.norm1 = SALayerNorm(dim)
        self.attn = MultiheadSelfAttention(
            dim, num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop,
            proj_drop=drop, fp32=fp32_attention)
        self.drop_path = _drop_path(drop_path)
        self.norm2 = SALayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop)
        self.layer_scale = layer_scale_init_value is not None
        if self.layer_scale:
            self.gamma_1 = _layer_scale(layer_scale_init_value, dim)
            self.gamma_2 = _layer_scale(layer_scale_init_value, dim)

    def _scaled(self, y, gamma_name):
        return getattr(self, gamma_name) * y if self.layer_scale else y


class SABlock(_TokenBlock):
    """Global UniFormer block (global MHRA): dynamic position encoding, then
    multi-head self-attention over all positions (``T*H*W`` jointly for
    video) and an MLP, in pre-norm residual form.

    With ``window_size`` set (images only) the self-attention runs within
    non-overlapping ``window_size x window_size`` windows instead, as the
    official dense-prediction backbones' ``SABlock_Windows``: the map is
    normalised (``norm1``), zero-padded at the bottom and right to a
    multiple of the window, split into windows that attend within
    themselves (padding tokens included, no mask), merged and cropped back
    before the residual; the MLP is unchanged. The parameters are the same
    in both modes, so :attr:`window_size` may be changed on a trained model
    (``None`` = global attention).
    """

    def __init__(self, dims, dim, num_heads, window_size=None, **kwargs):
        super().__init__(dims, dim, num_heads, **kwargs)
        assert window_size is None or dims == 2, \
            'window attention is implemented for images (dims=2) only'
        self.dims = dims
        self.window_size = window_size

    def forward(self, x):
        if self.window_size:
            return self._forward_windows(x)
        x = x + self.pos_embed(x)
        shape = x.shape
        t = x.flatten(2).transpose(1, 2)
        t = t + self.drop_path(self._scaled(self.attn(self.norm1(t)),
                                            'gamma_1'))
        t = t + self.drop_path(self._scaled(self.mlp(self.norm2(t)),
                                            'gamma_2'))
        return t.transpose(1, 2).reshape(shape)

    def _forward_windows(self, x):
        if x.dim() != 4:
            raise ValueError('window attention needs (B, C, H, W) maps, got '
                             f'{x.dim()} dimensions')
        x = x + self.pos_embed(x)
        B, C, H, W = x.shape
        ws = int(self.window_size)
        t = x.permute(0, 2, 3, 1)  # (B, H, W, C): a view of channels-last
        y = self.norm1(t)
        pad_b, pad_r = (-H) % ws, (-W) % ws
        if pad_b or pad_r:  # zeros after the norm, as the official code
            y = F.pad(y, (0, 0, 0, pad_r, 0, pad_b))
        nh, nw = (H + pad_b) // ws, (W + pad_r) // ws
        y = y.reshape(B, nh, ws, nw, ws, C).transpose(2, 3)
        y = self.attn(y.reshape(B * nh * nw, ws * ws, C))
        y = y.reshape(B, nh, nw, ws, ws, C).transpose(2, 3)
        y = y.reshape(B, nh * ws, nw * ws, C)[:, :H, :W]
        t = t + self.drop_path(self._scaled(y, 'gamma_1'))
        t = t + self.drop_path(self._scaled(self.mlp(self.norm2(t)),
                                            'gamma_2'))
        return t.permute(0, 3, 1, 2)


class EvoSABlock(_TokenBlock):
    """Global block of the light ("hourglass") models, with a class token
    and Evo-ViT style token pruning.

    With ``prune_ratio == 1`` the block attends over the class token and all
    patch tokens. Otherwise only the ``int(N * prune_ratio)`` patch tokens
    with the highest global class attention, the class token and one
    representative token (the score-weighted average of the other tokens)
    are updated ("slow update"); the other tokens receive the attention and
    MLP residuals of the representative token ("fast update").

    The running class-attention scores are passed explicitly through
    ``forward(cls_token, x, global_attn)`` (the official code keeps them in
    module-level globals) and returned updated.

    Args:
        prune_ratio (float): Fraction of patch tokens kept (1 = all).
        trade_off (float): Weight of this block's class attention in the
            running score: ``(1 - t) * old + t * new``.
        downsample (bool): The last block of stage 3 pools the scores 2x2
            (spatially) for stage 4, keeping their sum.
    """

    def __init__(self, dims, dim, num_heads, prune_ratio=1., trade_off=0.,
                 downsample=False, **kwargs):
        super().__init__(dims, dim, num_heads, **kwargs)
        init_value = kwargs.get('layer_scale_init_value')
        self.dims = dims
        self.prune_ratio = prune_ratio
        self.trade_off = trade_off
        self.downsample = downsample
        if self.layer_scale and prune_ratio != 1:
            self.gamma_3 = _layer_scale(init_value, dim)

    def _update_scores(self, global_attn, cls_attn):
        if global_attn is None:  # first global block: initialise
            return cls_attn
        n = cls_attn.shape[1]
        t = self.trade_off
        updated = (1 - t) * global_attn[:, :n] + t * cls_attn
        return torch.cat([updated, global_attn[:, n:]], dim=1)

    def forward(self, cls_token, x, global_attn=None):
        x = x + self.pos_embed(x)
        shape = x.shape
        B, C = shape[:2]
        tokens = x.flatten(2).transpose(1, 2)  # (B, N, C)
        N = tokens.shape[1]

        if self.prune_ratio == 1:
            t = torch.cat([cls_token, tokens], dim=1)
            attn_out, cls_attn = self.attn.forward_with_cls_attention(
                self.norm1(t), N)
            global_attn = self._update_scores(global_attn, cls_attn)
            t = t + self.drop_path(self._scaled(attn_out, 'gamma_1'))
            t = t + self.drop_path(self._scaled(self.mlp(self.norm2(t)),
                                                'gamma_2'))
            x = t[:, 1:].transpose(1, 2).reshape(shape)
            old_scale = global_attn.sum(dim=1, keepdim=True)
            return t[:, :1], x, self._pool_scores(global_attn, shape,
                                                  old_scale)

        assert global_attn is not None and global_attn.shape[1] == N, \
            'a pruning block needs the scores of the previous blocks'
        keep = int(N * self.prune_ratio)
        order = torch.argsort(global_attn, dim=1, descending=True)
        tokens = torch.gather(tokens, 1, order.unsqueeze(-1).expand(-1, -1, C))
        scores = torch.gather(global_attn, 1, order)
        x_info, x_drop = tokens[:, :keep], tokens[:, keep:]
        drop_scores = scores[:, keep:]
        weight = drop_scores / drop_scores.sum(dim=1, keepdim=True)
        rep_token = (weight.unsqueeze(-1) * x_drop).sum(dim=1, keepdim=True)

        t = torch.cat([cls_token, x_info, rep_token], dim=1)
        attn_out, cls_attn = self.attn.forward_with_cls_attention(
            self.norm1(t), keep)
        scores = self._update_scores(scores, cls_attn)
        fast_update = attn_out[:, -1:]
        t = t + self.drop_path(self._scaled(attn_out, 'gamma_1'))
        mlp_out = self.mlp(self.norm2(t))
        fast_update = fast_update + mlp_out[:, -1:]
        t = t + self.drop_path(self._scaled(mlp_out, 'gamma_2'))
        x_drop = x_drop + self._scaled(fast_update, 'gamma_3')

        cls_token = t[:, :1]
        tokens = torch.cat([t[:, 1:-1], x_drop], dim=1)
        old_scale = scores.sum(dim=1, keepdim=True)
        # restore the original token order
        inverse = torch.argsort(order, dim=1)
        tokens = torch.gather(tokens, 1,
                              inverse.unsqueeze(-1).expand(-1, -1, C))
        global_attn = torch.gather(scores, 1, inverse)
        x = tokens.transpose(1, 2).reshape(shape)
        return cls_token, x, self._pool_scores(global_attn, shape, old_scale)

    def _pool_scores(self, global_attn, shape, old_scale):
        """Last block of stage 3: pool the scores 2x2 in space for stage 4,
        rescaled to keep ``old_scale`` (their sum before this block's
        update; the official code does this only in pruning blocks, which
        every released arch's last stage-3 block is)."""
        if not self.downsample:
            return global_attn
        g = global_attn.reshape(shape[0], 1, *shape[2:])
        kernel = (2, 2) if self.dims == 2 else (1, 2, 2)
        pool = F.avg_pool2d if self.dims == 2 else F.avg_pool3d
        g = pool(g, kernel, kernel).reshape(shape[0], -1)
        return g * (old_scale / g.sum(dim=1, keepdim=True))


class PatchEmbed(nn.Module):
    """Strided convolution followed by LayerNorm over channels.

    Args:
        dims (int): 2 or 3.
        in_channels (int), out_channels (int): Widths.
        kernel_size, stride, padding: Of the projection (ints or tuples).
        norm (bool): LayerNorm after the projection (eps 1e-5, as official).
    """

    def __init__(self, dims, in_channels, out_channels, kernel_size, stride,
                 padding=0, norm=True):
        super().__init__()
        self.proj = conv_nd(dims, in_channels, out_channels,
                            _ntuple(kernel_size, dims), _ntuple(stride, dims),
                            _ntuple(padding, dims))
        self.norm = nn.LayerNorm(out_channels) if norm else None

    def forward(self, x):
        x = self.proj(x)
        if self.norm is not None:
            # LayerNorm over channels. On a channels-last map both movedims
            # are free views; a standard-layout map is copied back to it.
            standard = x.is_contiguous()
            x = self.norm(x.movedim(1, -1)).movedim(-1, 1)
            if standard:
                x = x.contiguous()
        return x


class ConvStem(nn.Module):
    """Two 3x3(x3) stride-2 convolutions with BN and GELU (``proj.0..4``):
    the stem of S+ (image) and of the light models (image and video)."""

    def __init__(self, dims, in_channels, out_channels,
                 strides=((2, 2), (2, 2))):
        super().__init__()
        mid = out_channels // 2
        pad = 1
        self.proj = nn.Sequential(
            conv_nd(dims, in_channels, mid, 3, strides[0], pad),
            bn_nd(dims, mid), nn.GELU(),
            conv_nd(dims, mid, out_channels, 3, strides[1], pad),
            bn_nd(dims, out_channels))

    def forward(self, x):
        return self.proj(x)


class ConvDownsample(nn.Module):
    """3x3 stride-2 convolution + BN (``proj.0``, ``proj.1``): the stage 2-4
    downsampling of the conv-stem (S+) image models."""

    def __init__(self, dims, in_channels, out_channels):
        super().__init__()
        self.proj = nn.Sequential(
            conv_nd(dims, in_channels, out_channels, 3, 2, 1),
            bn_nd(dims, out_channels))

    def forward(self, x):
        return self.proj(x)


def stage_checkpoint_counts(with_cp: Union[bool, int, Sequence],
                            depths: Sequence[int]):
    """Normalise an activation-checkpointing spec to per-stage block counts.

    ``True`` checkpoints every block, an int ``k`` the first ``k`` blocks of
    every stage, and a sequence gives one bool/int per stage (the official
    ``CHECKPOINT_NUM`` is such a list of counts, e.g. ``[0, 0, 4, 0]``).
    """
    if isinstance(with_cp, bool):
        return [d if with_cp else 0 for d in depths]
    if isinstance(with_cp, int):
        return [min(with_cp, d) for d in depths]
    with_cp = list(with_cp)
    assert len(with_cp) == len(depths), \
        f'with_cp needs one entry per stage ({len(depths)}), got {with_cp}'
    return [
        (d if v else 0) if isinstance(v, bool) else min(int(v), d)
        for v, d in zip(with_cp, depths)
    ]


__all__ = [
    'Mlp', 'CMlp', 'MultiheadSelfAttention', 'CBlock', 'SABlock',
    'EvoSABlock', 'PatchEmbed', 'ConvStem', 'ConvDownsample', 'conv_nd',
    'bn_nd', 'stage_checkpoint_counts', 'SALayerNorm', 'BatchNorm2d',
    'BatchNorm3d', 'PointwiseConv2d', 'PointwiseConv3d'
]

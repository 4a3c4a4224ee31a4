"""UniFormerV2 building blocks; :mod:`..backbones.uniformerv2` assembles
them into ``UniFormerV2Video``.

* :class:`LocalUniBlock`: a CLIP ViT residual block (self-attention + MLP)
  with optional local temporal relation aggregators (:class:`LocalMHRA`, a
  depthwise temporal convolution before and/or after the attention);
* :class:`GlobalUniBlock`: a learnable video query cross-attending to all
  tokens of all frames;
* :class:`PackedAttention`: CLIP's ``nn.MultiheadAttention`` parameters
  (``in_proj_weight``, ``out_proj``) run through
  ``scaled_dot_product_attention``, with the folded single-query
  cross-attention of the global blocks;
* :class:`LayerNormFp32`, :class:`QuickGELU`, :class:`DropPath`: CLIP's
  LayerNorm in float32, CLIP's GELU, stochastic depth as the official code
  draws it.

Parameter names are the official ones (see the backbone's docstring); the
CPU fast paths are in :mod:`.cpu_fused`.
"""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp

from . import cpu_fused
from .uniformer_blocks import DepthwiseConv3d


def _pair(value) -> Tuple[int, int]:
    if isinstance(value, int):
        return value, value
    value = tuple(value)
    assert len(value) == 2, value
    return int(value[0]), int(value[1])


class LayerNormFp32(nn.LayerNorm):
    """LayerNorm computed in float32 and cast back (CLIP's ``LayerNorm``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = None if self.weight is None else self.weight.float()
        bias = None if self.bias is None else self.bias.float()
        out = F.layer_norm(x.float(), self.normalized_shape, weight, bias,
                           self.eps)
        return out.to(x.dtype)


class QuickGELU(nn.Module):
    """``x * sigmoid(1.702 x)``, the GELU approximation CLIP was trained with."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return cpu_fused.quick_gelu(x)


class DropPath(nn.Module):
    """Stochastic depth with independent draws along ``dims`` only.

    ``dims=(0,)`` is the usual per-sample drop; the other dims share the
    draw. Kept outputs are scaled by ``1 / (1 - p)``.
    """

    def __init__(self, drop_prob: float = 0., dims: Sequence[int] = (0, )):
        super().__init__()
        self.drop_prob = float(drop_prob)
        self.dims = tuple(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0. or not self.training:
            return x
        keep = 1. - self.drop_prob
        shape = [x.shape[d] if d in self.dims else 1 for d in range(x.dim())]
        mask = x.new_empty(shape).bernoulli_(keep)
        return x * mask.div_(keep)

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}, dims={self.dims}'


class PackedAttention(nn.Module):
    """Multi-head attention with CLIP's packed q/k/v projection.

    Parameter names match :class:`torch.nn.MultiheadAttention`
    (``in_proj_weight``, ``in_proj_bias``, ``out_proj``). Inputs are
    batch-first ``[B, L, C]``. ``forward(x)`` is self-attention;
    ``forward(x, context)`` takes queries from ``x`` and keys/values from
    ``context`` with the corresponding slices of the packed projection.
    """

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        assert dim % num_heads == 0, (dim, num_heads)
        self.dim = dim
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        self.init_official_()

    def init_official_(self) -> None:
        """:class:`torch.nn.MultiheadAttention`'s initialisation (the
        ``out_proj`` weight keeps :class:`~torch.nn.Linear`'s)."""
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.in_proj_bias)
        nn.init.zeros_(self.out_proj.bias)

    def _split_heads(self, t: torch.Tensor) -> torch.Tensor:
        # [B, L, C] -> [B, heads, L, head_dim]
        return t.unflatten(-1, (self.num_heads, self.head_dim)).transpose(1, 2)

    def forward(self,
                x: torch.Tensor,
                context: Optional[torch.Tensor] = None,
                residual: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``residual`` (optional) is added to the output (fused into the
        output projection on CPU, see :mod:`..layers.cpu_fused`)."""
        if context is None:
            q, k, v = cpu_fused.linear(x, self.in_proj_weight,
                                       self.in_proj_bias).chunk(3, dim=-1)
        elif x.shape[1] * 2 <= self.head_dim and cpu_fused.can_fuse(
                x, context, self.in_proj_weight):
            return self._folded_cross_attention(x, context, residual)
        else:
            d = self.dim
            q = F.linear(x, self.in_proj_weight[:d], self.in_proj_bias[:d])
            k, v = cpu_fused.linear(context, self.in_proj_weight[d:],
                                    self.in_proj_bias[d:]).chunk(2, dim=-1)
        out = F.scaled_dot_product_attention(
            self._split_heads(q), self._split_heads(k), self._split_heads(v))
        out = out.transpose(1, 2).flatten(2)  # [B, Lq, C]
        return cpu_fused.linear(out, self.out_proj.weight, self.out_proj.bias,
                                residual)

    def _folded_cross_attention(self, x: torch.Tensor, context: torch.Tensor,
                                residual: Optional[torch.Tensor]
                                ) -> torch.Tensor:
        """Cross-attention of a few queries (the global blocks' video
        query) without projecting the ``L`` context tokens to keys and
        values: per head ``h``, ``q_h . (W_k,h c + b_k,h) = (W_k,h^T q_h) . c
        + const`` (the constant cancels in the softmax) and ``sum_i p_i
        (W_v,h c_i + b_v,h) = W_v,h (sum_i p_i c_i) + b_v,h``. Same function
        (and gradients; the key bias gets its exact gradient, 0) with about
        ``C / (heads * Lq)`` times fewer multiply-adds for the context."""
        d, heads, hd = self.dim, self.num_heads, self.head_dim
        w, b = self.in_proj_weight, self.in_proj_bias
        q = F.linear(x, w[:d], b[:d])  # [B, Lq, C]
        q = q.unflatten(-1, (heads, hd)).transpose(1, 2)  # [B, h, Lq, d]
        wk = w[d:2 * d].view(heads, hd, d)  # [h, d, C]
        wv = w[2 * d:].view(heads, hd, d)
        qk = torch.matmul(q * hd**-0.5, wk)  # [B, h, Lq, C]
        bsz, lq = x.shape[0], x.shape[1]
        scores = torch.matmul(qk.flatten(1, 2), context.transpose(1, 2))
        probs = scores.softmax(dim=-1)  # [B, h*Lq, L]
        pooled = torch.matmul(probs, context).view(bsz, heads, lq, d)
        out = torch.matmul(pooled, wv.transpose(1, 2))  # [B, h, Lq, d]
        out = out + b[2 * d:].view(heads, 1, hd)
        out = out.transpose(1, 2).flatten(2)  # [B, Lq, C]
        return cpu_fused.linear(out, self.out_proj.weight, self.out_proj.bias,
                                residual)


class LocalMHRA(nn.Module):
    """Local multi-head relation aggregator: a purely temporal depthwise conv.

    ``BN3d -> 1x1x1 conv (C -> C/r) -> 3x1x1 depthwise conv -> 1x1x1 conv
    (C/r -> C)``; the last conv starts at zero, so the block starts as the
    identity inside its residual connection.
    """

    def __init__(self, dim: int, dw_reduction: float = 1.5,
                 kernel_size: int = 3):
        super().__init__()
        hidden = int(dim // dw_reduction)
        self.pos_embed = nn.Sequential(
            nn.BatchNorm3d(dim),
            nn.Conv3d(dim, hidden, kernel_size=1),
            DepthwiseConv3d(
                hidden,
                hidden,
                kernel_size=(kernel_size, 1, 1),
                padding=(kernel_size // 2, 0, 0),
                groups=hidden),
            nn.Conv3d(hidden, dim, kernel_size=1),
        )
        self.init_official_()

    def init_official_(self) -> None:
        nn.init.zeros_(self.pos_embed[3].weight)
        nn.init.zeros_(self.pos_embed[3].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pos_embed(x)


class LocalUniBlock(nn.Module):
    """A CLIP residual block with optional LMHRA (official
    ``ResidualAttentionBlock``): ``[lmhra1] -> MHSA -> [lmhra2] -> MLP``.

    LMHRA acts on the patch tokens only; the per-frame class token passes
    through unchanged.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 drop_path: float = 0.,
                 dw_reduction: float = 1.5,
                 no_lmhra: bool = False,
                 double_lmhra: bool = True):
        super().__init__()
        self.no_lmhra = no_lmhra
        self.double_lmhra = double_lmhra
        if not no_lmhra:
            self.lmhra1 = LocalMHRA(dim, dw_reduction=dw_reduction)
            if double_lmhra:
                self.lmhra2 = LocalMHRA(dim, dw_reduction=dw_reduction)
        self.attn = PackedAttention(dim, num_heads)
        self.ln_1 = LayerNormFp32(dim)
        self.mlp = nn.Sequential(
            OrderedDict([('c_fc', nn.Linear(dim, dim * 4)),
                         ('gelu', QuickGELU()),
                         ('c_proj', nn.Linear(dim * 4, dim))]))
        self.ln_2 = LayerNormFp32(dim)
        # official layouts: LND tokens -> one draw per token position;
        # [N, C, T, H, W] in LMHRA -> one draw per video
        self.drop_path_tokens = DropPath(drop_path, dims=(1, ))
        self.drop_path_video = DropPath(drop_path, dims=(0, ))

    def _local(self, module: nn.Module, x: torch.Tensor, n: int, t: int,
               h: int, w: int) -> torch.Tensor:
        cls_tokens, patches = x[:, :1], x[:, 1:]
        c = x.shape[-1]
        video = patches.reshape(n, t, h, w, c).permute(0, 4, 1, 2, 3)
        video = video + self.drop_path_video(module(video.contiguous()))
        patches = video.permute(0, 2, 3, 4, 1).reshape(n * t, h * w, c)
        return torch.cat([cls_tokens, patches], dim=1)

    def _attn_branch(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(self.ln_1(x))

    def _mlp_branch(self, x: torch.Tensor,
                    residual: Optional[torch.Tensor] = None) -> torch.Tensor:
        # = [residual +] self.mlp(self.ln_2(x)), fused on CPU
        mlp = self.mlp
        return cpu_fused.quick_gelu_mlp(self.ln_2(x), mlp.c_fc.weight,
                                        mlp.c_fc.bias, mlp.c_proj.weight,
                                        mlp.c_proj.bias, residual=residual)

    def forward(self,
                x: torch.Tensor,
                n: int,
                t: int,
                h: int,
                w: int,
                use_checkpoint: bool = False) -> torch.Tensor:
        """``x``: ``[n*t, 1+h*w, C]`` (frame-major within each video)."""

        def run(fn, inp):
            if use_checkpoint:
                return cp.checkpoint(fn, inp, use_reentrant=False)
            return fn(inp)

        # residual additions fused into the output projections unless a
        # branch is checkpointed or stochastic depth is active
        fused = not use_checkpoint and not (
            self.training and self.drop_path_tokens.drop_prob > 0)
        if not self.no_lmhra:
            x = self._local(self.lmhra1, x, n, t, h, w)
        if fused:
            x = self.attn(self.ln_1(x), residual=x)
        else:
            x = x + self.drop_path_tokens(run(self._attn_branch, x))
        if not self.no_lmhra and self.double_lmhra:
            x = self._local(self.lmhra2, x, n, t, h, w)
        if fused:
            x = self._mlp_branch(x, residual=x)
        else:
            x = x + self.drop_path_tokens(run(self._mlp_branch, x))
        return x


class GlobalUniBlock(nn.Module):
    """Official ``Extractor``: a query cross-attends to video tokens.

    ``q = ln_1(query)``, ``k, v = ln_3(tokens)``; ``query + attn``, then
    ``+ mlp(ln_2(.))`` with dropout inside the MLP. The output projections
    start at zero so the block starts as the identity.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 mlp_factor: float = 4.0,
                 dropout: float = 0.,
                 drop_path: float = 0.):
        super().__init__()
        hidden = round(mlp_factor * dim)
        self.attn = PackedAttention(dim, num_heads)
        self.ln_1 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            OrderedDict([('c_fc', nn.Linear(dim, hidden)),
                         ('gelu', QuickGELU()),
                         ('dropout', nn.Dropout(dropout)),
                         ('c_proj', nn.Linear(hidden, dim))]))
        self.ln_2 = nn.LayerNorm(dim)
        self.ln_3 = nn.LayerNorm(dim)
        # official query layout [1, N, C] -> one draw for the whole batch
        self.drop_path = DropPath(drop_path, dims=(1, ))
        self.init_official_()

    def init_official_(self) -> None:
        nn.init.xavier_uniform_(self.attn.in_proj_weight)
        nn.init.zeros_(self.attn.in_proj_bias)
        nn.init.zeros_(self.attn.out_proj.weight)
        nn.init.zeros_(self.attn.out_proj.bias)
        nn.init.xavier_uniform_(self.mlp.c_fc.weight)
        nn.init.zeros_(self.mlp.c_proj.weight)
        nn.init.zeros_(self.mlp.c_proj.bias)

    def forward(self, query: torch.Tensor,
                tokens: torch.Tensor) -> torch.Tensor:
        """``query``: ``[N, 1, C]``; ``tokens``: ``[N, T*(1+HW), C]``."""
        query = query + self.drop_path(
            self.attn(self.ln_1(query), self.ln_3(tokens)))
        query = query + self.drop_path(self.mlp(self.ln_2(query)))
        return query

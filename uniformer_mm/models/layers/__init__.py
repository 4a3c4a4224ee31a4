"""Building blocks: UniFormer V1 (:mod:`.uniformer_blocks`), UniFormerV2
(:mod:`.uniformerv2_blocks`) and the CPU fast paths they share
(:mod:`.cpu_fused`, :mod:`.gelu_mlp`). The backbones
(:mod:`uniformer_mm.models.backbones`) assemble them."""
from .uniformer_blocks import (CBlock, CMlp, ConvDownsample, ConvStem,
                               DepthwiseConv3d,
                               EvoSABlock, Mlp, MultiheadSelfAttention,
                               PatchEmbed, SABlock, stage_checkpoint_counts)
from .uniformerv2_blocks import (DropPath, GlobalUniBlock, LayerNormFp32,
                                 LocalMHRA, LocalUniBlock, PackedAttention,
                                 QuickGELU)

__all__ = [
    'CBlock', 'CMlp', 'ConvDownsample', 'ConvStem', 'DepthwiseConv3d',
    'EvoSABlock', 'Mlp',
    'MultiheadSelfAttention', 'PatchEmbed', 'SABlock',
    'stage_checkpoint_counts', 'DropPath', 'GlobalUniBlock', 'LayerNormFp32',
    'LocalMHRA', 'LocalUniBlock', 'PackedAttention', 'QuickGELU'
]

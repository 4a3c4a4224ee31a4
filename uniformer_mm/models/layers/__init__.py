from .uniformer_blocks import (CBlock, CMlp, ConvDownsample, ConvStem,
                               DepthwiseConv3d,
                               EvoSABlock, Mlp, MultiheadSelfAttention,
                               PatchEmbed, SABlock, stage_checkpoint_counts)

__all__ = [
    'CBlock', 'CMlp', 'ConvDownsample', 'ConvStem', 'DepthwiseConv3d',
    'EvoSABlock', 'Mlp',
    'MultiheadSelfAttention', 'PatchEmbed', 'SABlock',
    'stage_checkpoint_counts'
]

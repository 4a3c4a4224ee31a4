"""FSDP auto-wrap policy for UniFormer models (mmengine ``FUNCTIONS``).

``uniformer_block_wrap_policy`` makes every block its own FSDP unit: the ViT
blocks (``LocalUniBlock``) and global blocks (``GlobalUniBlock``) of
UniFormerV2, the ``CBlock``/``SABlock``/``EvoSABlock`` of UniFormer V1 --
the usual "one unit per transformer layer" wrapping. Everything else (stem,
embeddings, norms, head) stays in the root unit, whose parameters are
gathered for the whole forward pass; code that reads a stem weight directly
(e.g. UniFormerV2's patch embedding on CPU) therefore sees it unsharded,
which is not the case when a size-based policy makes ``conv1`` a unit of
its own. Config (``configs/_base_/strategies/fsdp.py``)::

    strategy = dict(type='FSDPStrategy', model_wrapper=dict(
        use_orig_params=True,
        auto_wrap_policy=dict(type='uniformer_block_wrap_policy')))

``min_num_params`` (default 0) leaves smaller blocks in their parent unit.
"""
from mmengine.registry import FUNCTIONS

__all__ = ['uniformer_block_wrap_policy', 'block_types']


def block_types():
    from ..models.layers import (CBlock, EvoSABlock, GlobalUniBlock,
                                 LocalUniBlock, SABlock)
    return (LocalUniBlock, GlobalUniBlock, CBlock, SABlock, EvoSABlock)


@FUNCTIONS.register_module()
def uniformer_block_wrap_policy(module, recurse, nonwrapped_numel,
                                min_num_params=0):
    """FSDP policy: wrap UniFormer / UniFormerV2 blocks (see module doc)."""
    if recurse:
        return True  # look inside every module
    return isinstance(module, block_types()) and \
        nonwrapped_numel >= min_num_params

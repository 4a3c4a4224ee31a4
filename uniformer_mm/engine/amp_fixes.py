"""Mixed-precision fixes for the OpenMMLab stack (applied on import).

``mmaction_bf16_loss``
    mmaction2's ``BaseHead.loss_by_feat`` computes the top-k training
    accuracy with ``cls_scores.detach().cpu().numpy()``, which fails under
    bfloat16 autocast (``TypeError: Got unsupported ScalarType BFloat16``;
    numpy has no bfloat16), i.e. with ``--amp`` on CPU and with
    ``AmpOptimWrapper(dtype='bfloat16')`` on GPUs. Class scores in bfloat16
    are cast to float32 before the loss; autocast computes the
    cross-entropy in float32 anyway, so the loss value is unchanged.

Like the fixes of :mod:`uniformer_mm.compat` (where this one could move),
it checks whether it is needed, is idempotent and logs once what it did.
"""
import functools

import torch

__all__ = ['fix_mmaction_bf16_loss', 'apply']


def fix_mmaction_bf16_loss() -> bool:
    try:
        from mmaction.models.heads.base import BaseHead
    except ImportError:  # pragma: no cover - mmaction2 is a dependency
        return False
    if getattr(BaseHead.loss_by_feat, '_uniformer_mm_bf16', False):
        return False
    original = BaseHead.loss_by_feat

    @functools.wraps(original)
    def loss_by_feat(self, cls_scores, data_samples, *args, **kwargs):
        if torch.is_tensor(cls_scores) and cls_scores.dtype == torch.bfloat16:
            cls_scores = cls_scores.float()
            from ..compat import _note
            _note('mmaction_bf16_loss',
                  "mmaction2's BaseHead.loss_by_feat converts class scores "
                  'to numpy, which has no bfloat16: bfloat16 scores are '
                  'cast to float32 before the loss.')
        return original(self, cls_scores, data_samples, *args, **kwargs)

    loss_by_feat._uniformer_mm_bf16 = True
    BaseHead.loss_by_feat = loss_by_feat
    return True


def apply():
    fix_mmaction_bf16_loss()

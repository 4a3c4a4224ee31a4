from .uniformer_heads import (UniFormerLightClsHead, UniFormerLightHead,
                              UniFormerTokenLabelHead)
from .uniformerv2_head import UniFormerV2Head

__all__ = ['UniFormerLightClsHead', 'UniFormerLightHead',
           'UniFormerTokenLabelHead', 'UniFormerV2Head']

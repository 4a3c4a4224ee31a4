from .uniformer_heads import (UniFormerLightClsHead, UniFormerLightHead,
                              UniFormerTokenLabelHead)

__all__ = ['UniFormerLightClsHead', 'UniFormerLightHead',
           'UniFormerTokenLabelHead']

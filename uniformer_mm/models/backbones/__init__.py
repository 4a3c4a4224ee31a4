from .uniformer import ARCH_ZOO, UniFormer, UniFormerNet, UniFormerVideo
from .uniformerv2 import UniFormerV2Video

__all__ = ['ARCH_ZOO', 'UniFormer', 'UniFormerNet', 'UniFormerVideo',
           'UniFormerV2Video']

from .uniformer import ARCH_ZOO, UniFormer, UniFormerNet, UniFormerVideo
from .uniformer_dense import UniFormerDense
from .uniformerv2 import UniFormerV2Video

__all__ = ['ARCH_ZOO', 'UniFormer', 'UniFormerNet', 'UniFormerVideo',
           'UniFormerDense', 'UniFormerV2Video']

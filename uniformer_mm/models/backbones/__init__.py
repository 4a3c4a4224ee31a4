from .uniformer import ARCH_ZOO, UniFormer, UniFormerNet, UniFormerVideo

__all__ = ['ARCH_ZOO', 'UniFormer', 'UniFormerNet', 'UniFormerVideo']

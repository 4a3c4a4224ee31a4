from .nonfinite import (NonFiniteLossError, SkipNonFiniteAmpOptimWrapper,
                        SkipNonFiniteOptimWrapper)

__all__ = [
    'NonFiniteLossError', 'SkipNonFiniteOptimWrapper',
    'SkipNonFiniteAmpOptimWrapper'
]

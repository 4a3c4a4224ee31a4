from .nonfinite import (NonFiniteLossError, NonFiniteWeightsError,
                        SkipNonFiniteAmpOptimWrapper,
                        SkipNonFiniteOptimWrapper)

__all__ = [
    'NonFiniteLossError', 'NonFiniteWeightsError',
    'SkipNonFiniteOptimWrapper', 'SkipNonFiniteAmpOptimWrapper'
]

"""uniformer-mm: UniFormer (V1) and UniFormerV2 for mmaction2 and mmpretrain.

Importing this package (directly or through a config's ``custom_imports``)
applies the stack fixes in :mod:`uniformer_mm.compat` and registers our
backbones, heads, transforms, hooks and optimizer constructors into the
mmaction2 (video) and mmpretrain (image) registries.

Models by name: :func:`list_models`, :func:`get_model` and
:class:`UniFormerInferencer` (see :mod:`uniformer_mm.apis.hub`).
"""
from . import compat

compat.apply()

from .version import __version__  # noqa: E402

from . import models  # noqa: E402,F401

from . import datasets  # noqa: E402,F401
from . import engine  # noqa: E402,F401
from .apis import (UniFormerInferencer, get_model,  # noqa: E402
                   list_models)

__all__ = [
    '__version__', 'compat', 'list_models', 'get_model',
    'UniFormerInferencer'
]

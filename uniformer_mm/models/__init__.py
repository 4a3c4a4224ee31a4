from . import backbones, data_preprocessors, heads, layers  # noqa: F401
from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403

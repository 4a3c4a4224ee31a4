"""What every analysis tool of this folder needs before its own imports.

``import _checkout`` (this folder is on ``sys.path``: Python puts it there
for ``python tools/analysis/NAME.py``; the tools that are also loaded by
path put it there themselves) makes ``uniformer_mm`` importable, also from a
checkout that is not pip-installed (the repository root goes on
``sys.path`` then), and registers its modules.
"""
import os.path as osp
import sys

try:
    import uniformer_mm  # noqa: F401
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    import uniformer_mm  # noqa: F401


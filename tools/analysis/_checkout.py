"""What every analysis tool of this folder needs before its own imports.

``import _checkout`` (this folder is on ``sys.path``: Python puts it there
for ``python tools/analysis/NAME.py``; the tools that are also loaded by
path put it there themselves) makes ``uniformer_mm`` importable, also from a
checkout that is not pip-installed (the repository root goes on
``sys.path`` then), and registers its modules.

:func:`reset_peak_rss` is the memory benchmarks' reset of the kernel's peak
resident set size.
"""
import os.path as osp
import sys

try:
    import uniformer_mm  # noqa: F401
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    import uniformer_mm  # noqa: F401


def reset_peak_rss() -> bool:
    """Reset the kernel's peak RSS (``VmHWM``) of this process (Linux >=
    4.0, ``/proc/self/clear_refs``). Returns False where that is not
    allowed; the caller then falls back on another measure."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False

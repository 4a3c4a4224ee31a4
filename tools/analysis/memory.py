"""Peak memory of one call, for the analysis tools (``benchmark.py``,
``compare_mmaction.py``, ``memory_benchmark.py``).

* GPU: ``torch.cuda.max_memory_allocated`` around the call;
* CPU (Linux): the kernel's peak resident set size (``VmHWM``), reset just
  before the call (``/proc/self/clear_refs``, :func:`reset_peak_rss`), minus
  the RSS before it; where the reset is not allowed the RSS is sampled
  every millisecond on a thread instead (``method`` says which).
"""
import gc
import os
import threading
import time
from typing import Callable, Dict, Union

import torch


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


def _proc_status_kb(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise KeyError(field)


def _malloc_trim() -> bool:
    """Give the C allocator's free memory back to the OS (glibc), so that
    memory freed by earlier calls is not silently reused."""
    try:
        import ctypes
        return bool(ctypes.CDLL('libc.so.6').malloc_trim(0) or True)
    except (OSError, AttributeError):
        return False


def peak_memory(fn: Callable[[], object],
                device: Union[str, torch.device, None] = None
                ) -> Dict[str, object]:
    """Peak memory of one call of ``fn`` (see the module doc for what is
    measured).

    Args:
        device: ``'cuda[:i]'`` for GPU memory, otherwise the process's CPU
            memory.

    Returns:
        ``dict(bytes=int or None, method=str)``; ``bytes`` is None when the
        platform offers no way to measure.
    """
    device = torch.device(device) if device is not None else torch.device(
        'cpu')
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        torch.cuda.synchronize(device)
        peak = torch.cuda.max_memory_allocated(device)
        return dict(bytes=int(peak - base),
                    method='cuda max_memory_allocated')
    if not os.path.exists('/proc/self/status'):
        fn()
        return dict(bytes=None, method='unavailable')
    _malloc_trim()
    if reset_peak_rss():
        base = _proc_status_kb('VmRSS')
        fn()
        peak = _proc_status_kb('VmHWM')
        return dict(bytes=max(0, peak - base) * 1024,
                    method='rss-hwm (clear_refs)')
    # fall back on sampling the RSS
    base = _proc_status_kb('VmRSS')
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _proc_status_kb('VmRSS'))
            time.sleep(0.001)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        fn()
    finally:
        stop.set()
        thread.join()
    peak[0] = max(peak[0], _proc_status_kb('VmRSS'))
    return dict(bytes=max(0, peak[0] - base) * 1024, method='rss-sampled')

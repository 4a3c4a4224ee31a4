"""Checkpoints that are never half-written.

mmengine writes a checkpoint by ``torch.save`` into memory and then straight
into the final file (``LocalBackend.put``), and the ``last_checkpoint``
pointer of the work dir with ``open(path, 'w')``: a process killed while
writing (SIGKILL, out of memory, node failure) leaves a truncated
``epoch_N.pth`` or an empty pointer, and ``--resume`` then fails.

:func:`patch_mmengine_save_checkpoint` (applied on ``import uniformer_mm``)
replaces ``mmengine.runner.checkpoint.save_checkpoint`` -- what
``Runner.save_checkpoint`` and so every checkpoint hook calls -- by one that
writes local files with :func:`uniformer_mm.checkpoint.io.
save_checkpoint_atomic` (a temporary file in the same directory, flushed,
fsynced and renamed over the target with ``os.replace``). Remote paths
(``s3://`` ...) and explicit ``file_client_args`` go to mmengine's function
unchanged. Before anything is written, the state dict is checked: a
checkpoint whose weights are not finite is refused with
``NonFiniteWeightsError`` (see :mod:`.checkpoint_guard`). :func:`atomic_write_text` does the same for small text files such
as the ``last_checkpoint`` pointer (used by ``AtomicCheckpointHook``).
"""
import functools
import glob
import os
import os.path as osp

__all__ = [
    'atomic_write_text', 'save_checkpoint_atomic',
    'patch_mmengine_save_checkpoint', 'remove_stale_temp_files'
]

from ..checkpoint.io import atomic_write, save_checkpoint_atomic


def atomic_write_text(text: str, path: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    atomic_write(path, lambda f: f.write(text), 'w')


def remove_stale_temp_files(directory: str):
    """Remove ``.<name>.pth.<random>.tmp`` files that a killed process left
    in ``directory``; returns their paths. Only call it when no checkpoint
    is being written into ``directory``."""
    removed = []
    for pattern in ('.*.pth.*.tmp', '.last_checkpoint.*.tmp'):
        for path in glob.glob(osp.join(directory, pattern)):
            try:
                os.unlink(path)
                removed.append(path)
            except OSError:
                pass
    return removed


def _is_local(filename, file_client_args, backend_args):
    if file_client_args is not None or not isinstance(filename, str):
        return False
    if '://' in filename and not filename.startswith('file://'):
        return False
    try:
        from mmengine.fileio import LocalBackend, get_file_backend
        backend = get_file_backend(filename, backend_args=backend_args)
    except Exception:  # noqa: BLE001 - let mmengine decide
        return False
    return isinstance(backend, LocalBackend)


def patch_mmengine_save_checkpoint():
    """Make mmengine's ``save_checkpoint`` atomic for local files
    (idempotent). Returns True if it patched now."""
    from mmengine import runner as runner_pkg
    from mmengine.runner import checkpoint as ckpt_mod
    from mmengine.runner import runner as runner_mod
    original = ckpt_mod.save_checkpoint
    if getattr(original, '_uniformer_mm_atomic', False):
        return False

    @functools.wraps(original)
    def save_checkpoint(checkpoint, filename, file_client_args=None,
                        backend_args=None):
        # never write non-finite weights, whichever hook or tool saves
        from .checkpoint_guard import check_state_finite
        check_state_finite(checkpoint, str(filename))
        if not _is_local(filename, file_client_args, backend_args):
            return original(checkpoint, filename,
                            file_client_args=file_client_args,
                            backend_args=backend_args)
        if filename.startswith('file://'):
            filename = filename[len('file://'):]
        save_checkpoint_atomic(checkpoint, filename)

    save_checkpoint._uniformer_mm_atomic = True
    save_checkpoint._original = original
    for module in (ckpt_mod, runner_mod, runner_pkg):
        if getattr(module, 'save_checkpoint', None) is original:
            module.save_checkpoint = save_checkpoint
    return True

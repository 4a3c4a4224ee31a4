"""Reading and writing checkpoint files safely.

* :func:`load_checkpoint_file` reads with ``torch.load(weights_only=True)``.
  A legacy pickle that needs more than tensors and plain containers is
  refused with a one-line :class:`UnsafePickleError` naming the file and the
  opt-in (``allow_unsafe=True``, ``--allow-unsafe-pickle`` of
  ``tools/convert_checkpoint.py`` or ``UNIFORMER_MM_ALLOW_UNSAFE_PICKLE=1``
  for the config-level loader); only with the opt-in is it loaded with
  ``weights_only=False``, and the reason is printed. TorchScript archives
  (the OpenAI CLIP release) return their state dict, read by
  :func:`~uniformer_mm.checkpoint.safe_pickle.read_torchscript_state_dict`
  without running any code of the archive; one whose pickle needs more
  than tensors is refused the same way (``torch.jit.load``, which runs the
  archive's code, only with the opt-in). A truncated or corrupt file raises
  a one-line :class:`CorruptCheckpointError`.
* :func:`save_checkpoint_atomic` writes to a temporary file in the target
  directory and renames it into place, so a failure never leaves a partial
  file behind.
* :func:`file_lock`: processes that create or fetch the same path
  (distributed ranks, parallel test workers) take turns.
"""
import argparse
import contextlib
import os
import os.path as osp
import pickle
import re
import sys
import tempfile
import zipfile

import torch

from .safe_pickle import RefusedGlobalError, read_torchscript_state_dict

#: Environment variable that opts into unsafe (full pickle) loading where no
#: argument can be passed (``load_from`` / ``init_cfg`` of a config).
UNSAFE_ENV = 'UNIFORMER_MM_ALLOW_UNSAFE_PICKLE'

#: Harmless types found in official UniFormer containers that we allow for the
#: safe loader on top of torch's and :mod:`uniformer_mm.compat`'s list:
#: DeiT / timm savers store ``args`` as an ``argparse.Namespace`` (a bag of
#: attributes; unpickling it runs no code).
EXTRA_SAFE_GLOBALS = [argparse.Namespace]


class CheckpointError(Exception):
    """A checkpoint problem with a one-line message and a suggested fix.

    ``str(err)`` is ``'<problem>. <fix>'`` on one line.
    """

    def __init__(self, problem: str, fix: str = ''):
        self.problem = _one_line(problem).rstrip('.')
        self.fix = _one_line(fix)
        super().__init__(self.problem + '.' + (f' {self.fix}' if fix else ''))


class UnsafePickleError(CheckpointError):
    """The file needs full pickle (arbitrary code) to be read."""


class CorruptCheckpointError(CheckpointError):
    """The file is truncated, corrupt or not a checkpoint."""


def _one_line(text: str) -> str:
    text = re.sub(r'\x1b\[[0-9;]*m', '', str(text))
    return ' '.join(text.split())


def _env_flag(name: str) -> bool:
    return os.environ.get(name, '').strip().lower() in ('1', 'true', 'yes',
                                                        'on')


def is_torchscript_archive(path: str) -> bool:
    """TorchScript archives are zip files with a ``code/`` folder (and a
    ``constants.pkl``); ``torch.save`` zips have neither."""
    try:
        if not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    return any(
        name.split('/')[1:2] == ['code'] or name.endswith('/constants.pkl')
        for name in names)


def _unsafe_fix(loader: str) -> str:
    return (f'If you trust the file, pass --allow-unsafe-pickle '
            f'(tools/convert_checkpoint.py), allow_unsafe=True (Python) or '
            f'set {UNSAFE_ENV}=1 (configs) to load it with {loader}, which '
            'can run code stored in the file')


def _read_torchscript(path, allow_unsafe, map_location):
    """The state dict of a TorchScript archive, read without running its
    code; ``torch.jit.load`` only with the opt-in, for an archive whose
    pickle needs more than tensors."""
    try:
        return dict(read_torchscript_state_dict(path, map_location))
    except RefusedGlobalError as e:
        if not allow_unsafe:
            raise UnsafePickleError(
                f'{path} is a TorchScript archive whose data.pkl needs '
                f'{e.module}.{e.name}, which the tensor-only reader refuses '
                '(it runs no code from the file)',
                _unsafe_fix('torch.jit.load')) from e
        reason = f'its data.pkl needs {e.module}.{e.name}'
    except (ValueError, KeyError, EOFError, pickle.UnpicklingError,
            zipfile.BadZipFile, OSError, RuntimeError) as e:
        raise CorruptCheckpointError(
            f'cannot read TorchScript archive {path} '
            f'({type(e).__name__}: {_one_line(e)[:200]})',
            'Re-download the file; it looks truncated or corrupt') from e
    print(f'warning: loading {path} with torch.jit.load (runs code stored '
          f'in the file) because the safe reader refused it: {reason}',
          file=sys.stderr)
    try:
        module = torch.jit.load(path, map_location=map_location)
    except Exception as e:  # noqa: BLE001
        raise CorruptCheckpointError(
            f'cannot read TorchScript archive {path} '
            f'({_one_line(e)[:200]})',
            'Re-download the file; it looks truncated or corrupt') from e
    return dict(module.state_dict())


def _weights_only_reason(err: BaseException) -> str:
    """The one-sentence reason of a weights-only unpickling failure, or ''."""
    text = _one_line(err)
    if 'Weights only load failed' not in text:
        return ''
    match = re.search(r'WeightsUnpickler error: (.*?)(?: Please use|\. |$)',
                      text) or re.search(
                          r'Trying to load (unsupported GLOBAL [\w.]+)', text)
    reason = match.group(1) if match else 'unsupported content'
    return reason.rstrip('.')


def load_checkpoint_file(path: str, allow_unsafe: bool = None,
                         map_location='cpu'):
    """Read a checkpoint file safely.

    Args:
        path (str): File path.
        allow_unsafe (bool, optional): Fall back to ``weights_only=False``
            when the safe loader refuses the file. ``None`` reads the
            ``UNIFORMER_MM_ALLOW_UNSAFE_PICKLE`` environment variable.
        map_location: Passed to ``torch.load``. Defaults to ``'cpu'``.

    Returns:
        What the file holds (usually a dict); for a TorchScript archive its
        ``state_dict()`` (read without running the archive's code).

    Raises:
        FileNotFoundError: No such file.
        UnsafePickleError: The file needs full pickle (or, for a
            TorchScript archive, more than tensors) and ``allow_unsafe`` is
            off.
        CorruptCheckpointError: Truncated, corrupt or not a checkpoint.
    """
    path = os.path.expanduser(str(path))
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} can not be found.')
    if allow_unsafe is None:
        allow_unsafe = _env_flag(UNSAFE_ENV)
    if is_torchscript_archive(path):
        return _read_torchscript(path, allow_unsafe, map_location)
    try:
        with torch.serialization.safe_globals(EXTRA_SAFE_GLOBALS):
            return torch.load(path, map_location=map_location,
                              weights_only=True)
    except Exception as e:  # noqa: BLE001 - classified below
        reason = _weights_only_reason(e)
        if not reason:
            raise CorruptCheckpointError(
                f'cannot read checkpoint {path}: the file is truncated, '
                f'corrupt or not a PyTorch checkpoint '
                f'({type(e).__name__}: {_one_line(e)[:160] or "no details"})',
                'Re-download or re-create the file') from e
        if not allow_unsafe:
            raise UnsafePickleError(
                f'{path} is a legacy pickle that the safe loader '
                f'(torch.load(weights_only=True)) refuses: {reason}',
                _unsafe_fix('torch.load(weights_only=False)')) from e
    print(f'warning: loading {path} with weights_only=False (full pickle, '
          f'can run code) because the safe loader refused it: {reason}',
          file=sys.stderr)
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as e:  # noqa: BLE001
        raise CorruptCheckpointError(
            f'cannot read checkpoint {path} even with full pickle '
            f'({type(e).__name__}: {_one_line(e)[:160]})',
            'Re-download or re-create the file; a class it needs may be '
            'missing from this environment') from e


def save_checkpoint_atomic(obj, path: str) -> None:
    """``torch.save(obj, path)`` without ever leaving a partial ``path``
    (see :func:`atomic_write`)."""
    atomic_write(path, lambda f: torch.save(obj, f), 'wb')


def atomic_write(path: str, write, mode: str = 'wb') -> None:
    """Write ``path`` with ``write(file)`` without ever leaving it partial.

    ``write`` fills a temporary file in the same directory, which is synced
    and renamed over ``path`` (``os.replace`` is atomic on POSIX and
    Windows), with the mode a plain ``open`` would give. On any failure the
    temporary file is removed.
    """
    path = os.path.abspath(os.path.expanduser(str(path)))
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix=f'.{os.path.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, mode, **({} if 'b' in mode else
                                    dict(encoding='utf-8'))) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)  # mkstemp creates 0600; use the usual mode
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@contextlib.contextmanager
def file_lock(root):
    """Exclusive lock on ``<parent>/.<name>.lock`` (no-op without fcntl):
    processes that create or fetch ``root`` take turns."""
    parent = osp.dirname(osp.abspath(root))
    os.makedirs(parent, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path = osp.join(parent, '.' + osp.basename(osp.abspath(root)) + '.lock')
    with open(path, 'a') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)

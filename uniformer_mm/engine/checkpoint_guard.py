"""Which checkpoints of a work dir can be trusted, and refusing bad ones.

A training run must never *write* a checkpoint whose weights are NaN or
infinite (every later ``--resume`` and every evaluation would use them), and
``--resume`` must never *read* a truncated one or follow a broken
``last_checkpoint`` pointer into a crash. This module holds both sides:

* :func:`nonfinite_entries` / :func:`check_model_finite`: the tensors of a
  state dict / model that are not finite. ``check_model_finite`` is called by
  ``AtomicCheckpointHook`` and ``PreemptionCheckpointHook`` on every rank
  before each save (epoch, iteration, best and pre-emption checkpoints) and
  the atomic ``save_checkpoint`` of :mod:`.atomic_checkpoint` checks the
  state dict once more before it writes anything, so no code path writes
  non-finite weights. Both raise :class:`NonFiniteWeightsError`, whose
  message names the newest intact checkpoint of the work dir (or says that
  there is none).
* :func:`inspect_checkpoint`: is a file a complete, readable, finite
  checkpoint that training can resume from (read with
  ``torch.load(weights_only=True, mmap=True)``: nothing in it runs, and the
  tensors are paged in only for the finiteness check).
* :func:`newest_intact_checkpoint` and :func:`resolve_resume` (used by
  ``tools/train.py --resume``): the ``last_checkpoint`` target if it is
  intact, else the newest intact checkpoint of the work dir, with a one-line
  note saying why; a :class:`ResumeError` (one line) when the work dir has
  checkpoints but none of them is intact.
"""
import glob
import os
import os.path as osp
import pickle
import zipfile
from typing import Dict, List, Optional, Tuple

import torch

__all__ = [
    'NonFiniteLossError', 'NonFiniteWeightsError', 'ResumeError',
    'nonfinite_entries', 'check_model_finite', 'check_state_finite',
    'inspect_checkpoint', 'newest_intact_checkpoint', 'resolve_resume',
    'intact_checkpoint_note'
]


class NonFiniteLossError(RuntimeError):
    """Too many consecutive steps had a non-finite loss or gradient (raised
    by :mod:`uniformer_mm.engine.optimizers.nonfinite`)."""


class NonFiniteWeightsError(NonFiniteLossError):
    """The weights are not finite: a checkpoint was about to be saved with
    them and was not."""


#: Checkpoints that training cannot resume from (no optimizer state).
_NOT_RESUMABLE = ('best_', )


class ResumeError(RuntimeError):
    """``--resume`` found checkpoints but none it can use (one line)."""


# --------------------------------------------------------------------------
# finiteness
# --------------------------------------------------------------------------
def nonfinite_entries(tensors, limit: int = 3) -> Tuple[int, List[str]]:
    """Count the floating tensors of ``tensors`` (a mapping name -> tensor
    or an iterable of (name, tensor)) that hold NaN or inf; returns the count
    and up to ``limit`` of their names. One device synchronisation."""
    items = tensors.items() if hasattr(tensors, 'items') else tensors
    names, flags = [], []
    for name, t in items:
        if isinstance(t, torch.Tensor) and (t.is_floating_point()
                                            or t.is_complex()) and t.numel():
            names.append(name)
            flags.append(torch.isfinite(t.detach()).all())
    if not flags:
        return 0, []
    ok = torch.stack([f.to(flags[0].device) for f in flags]).cpu().tolist()
    bad = [n for n, good in zip(names, ok) if not good]
    return len(bad), bad[:limit]


def _describe(count, names, what):
    listed = ', '.join(names) + (' ...' if count > len(names) else '')
    return f'{count} tensors of {what} are not finite ({listed})'


def check_model_finite(runner, what: str) -> None:
    """Raise :class:`NonFiniteWeightsError` (on every rank) if a parameter
    or buffer of ``runner.model`` is not finite; ``what`` names the
    checkpoint that was about to be saved.

    Checks the local parameters and buffers (the local shards under FSDP /
    DeepSpeed, so nothing is gathered) and agrees across ranks with one
    all-reduce, so that all ranks stop together.
    """
    model = runner.model
    count, names = nonfinite_entries(
        list(model.named_parameters()) + list(model.named_buffers()))
    from mmengine.dist import all_reduce, get_world_size
    if get_world_size() > 1:
        flag = torch.tensor([float(count)])
        try:
            from mmengine.device import get_device
            flag = flag.to(get_device())
        except Exception:  # noqa: BLE001 - stay on CPU (gloo)
            pass
        all_reduce(flag, op='sum')
        if count == 0 and flag.item() > 0:
            count, names = int(flag.item()), ['on another rank']
    if count:
        dirs = _checkpoint_dirs(runner)
        raise NonFiniteWeightsError(
            f'training stopped: {_describe(count, names, "the model")}, '
            f'so {what} was not saved. {intact_checkpoint_note(*dirs)}')


def check_state_finite(checkpoint: dict, filename: str) -> None:
    """Raise :class:`NonFiniteWeightsError` if the ``state_dict`` (or the
    ``ema_state_dict``) of a checkpoint about to be written to ``filename``
    is not finite."""
    for key in ('state_dict', 'ema_state_dict'):
        state = checkpoint.get(key) if isinstance(checkpoint, dict) else None
        if not isinstance(state, dict):
            continue
        count, names = nonfinite_entries(state)
        if count:
            directory = osp.dirname(osp.abspath(filename))
            raise NonFiniteWeightsError(
                f'not writing {filename}: '
                f'{_describe(count, names, key)}. '
                f'{intact_checkpoint_note(directory)}')


def _checkpoint_dirs(runner):
    dirs = [runner.work_dir]
    for hook in getattr(runner, 'hooks', []):
        out = getattr(hook, 'out_dir', None)
        if isinstance(out, str) and '://' not in out and out not in dirs:
            dirs.append(out)
    return dirs


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------
def inspect_checkpoint(path: str, check_finite: bool = True) -> Dict:
    """What a checkpoint file is: a dict with ``ok`` (bool), ``problem``
    (why not: a phrase that follows the file name, e.g. ``'does not
    exist'``), ``epoch`` and ``iter`` (from its meta).

    A file is ok when it exists, is complete (a zip archive with its
    central directory, i.e. not truncated), unpickles with
    ``weights_only=True`` into a dict with ``state_dict`` and ``meta``, and
    (``check_finite``) its floating tensors are finite. A file that only
    fails the weights-only unpickling (a custom object in its meta) counts
    as readable: it is not corrupt, and ``Runner.resume`` decides.
    """
    info = dict(path=path, ok=False, problem=None, epoch=None, iter=None)
    if not path or not osp.isfile(path):
        info['problem'] = 'does not exist'
        return info
    if osp.getsize(path) == 0:
        info['problem'] = 'is empty (0 bytes)'
        return info
    if not zipfile.is_zipfile(path):
        info['problem'] = ('is truncated or not a checkpoint (not a '
                           'complete zip archive)')
        return info
    try:
        ckpt = _load(path)
    except pickle.UnpicklingError as e:
        if 'weights' in str(e).lower():  # readable, just not weights-only
            info.update(ok=True)
            return info
        info['problem'] = f'cannot be read ({_short(e)})'
        return info
    except Exception as e:  # noqa: BLE001 - any failure: not usable
        info['problem'] = f'cannot be read ({_short(e)})'
        return info
    if not isinstance(ckpt, dict) or 'state_dict' not in ckpt:
        info['problem'] = 'is not a training checkpoint (no state_dict)'
        return info
    meta = ckpt.get('meta') or {}
    info.update(epoch=meta.get('epoch'), iter=meta.get('iter'))
    if check_finite:
        count, names = nonfinite_entries(ckpt['state_dict'])
        if count:
            info['problem'] = (f'holds non-finite weights '
                               f'({", ".join(names)})')
            return info
    info['ok'] = True
    return info


def _load(path):
    """``torch.load(weights_only=True)``, memory-mapped where the file
    system allows it (the tensors are read only when they are checked)."""
    try:
        return torch.load(path, map_location='cpu', weights_only=True,
                          mmap=True)
    except pickle.UnpicklingError:
        raise
    except Exception:  # noqa: BLE001 - e.g. no mmap here: read it all
        return torch.load(path, map_location='cpu', weights_only=True)


def _short(err):
    text = ' '.join(str(err).split())
    return f'{type(err).__name__}: {text[:120]}'


def read_pointer(work_dir: str) -> Optional[str]:
    """The text of ``work_dir/last_checkpoint`` (stripped), or None if there
    is no such file."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    try:
        with open(pointer, encoding='utf-8', errors='replace') as f:
            return f.read().strip()
    except OSError:
        return ''


def _candidates(dirs):
    found = []
    for d in dirs:
        for path in glob.glob(osp.join(d, '*.pth')):
            if osp.basename(path).startswith(_NOT_RESUMABLE):
                continue
            if path not in found:
                found.append(path)
    return found


def newest_intact_checkpoint(*dirs: str, exclude=()) -> Optional[Dict]:
    """The newest intact, resumable checkpoint (see
    :func:`inspect_checkpoint`) among the ``*.pth`` files of ``dirs``
    (``best_*`` excluded: they hold no optimizer state); newest = highest
    iteration, then latest modification. None if there is none."""
    infos = []
    for path in _candidates(dirs):
        if path in exclude:
            continue
        info = inspect_checkpoint(path, check_finite=False)
        if info['ok']:
            infos.append(info)
    infos.sort(key=lambda i: (i['iter'] if isinstance(i['iter'], int) else
                              -1, osp.getmtime(i['path'])), reverse=True)
    for info in infos:  # the finiteness check reads the tensors: only here
        full = inspect_checkpoint(info['path'])
        if full['ok']:
            return full
    return None


def _where(info):
    parts = []
    if isinstance(info.get('epoch'), int):
        parts.append(f'epoch {info["epoch"]}')
    if isinstance(info.get('iter'), int):
        parts.append(f'iteration {info["iter"]}')
    return f' ({", ".join(parts)})' if parts else ''


def intact_checkpoint_note(work_dir: str, *more_dirs: str) -> str:
    """One sentence on what the work dir holds that can be resumed: the
    ``last_checkpoint`` target if intact, else the newest intact checkpoint,
    else that there is none."""
    dirs = [work_dir, *more_dirs]
    target = read_pointer(work_dir)
    if target:
        info = inspect_checkpoint(target)
        if info['ok']:
            return (f'The last checkpoint {target}{_where(info)} is intact: '
                    'fix the cause (lower the learning rate, set clip_grad, '
                    'check the data), then continue with --resume.')
    info = newest_intact_checkpoint(*dirs)
    if info is not None:
        return (f'The newest intact checkpoint is {info["path"]}'
                f'{_where(info)}: fix the cause, then continue with '
                f'--resume {info["path"]}.')
    return (f'No intact checkpoint is in {work_dir} (none was saved before '
            'this point, or those there are unreadable): fix the cause and '
            'train again from the start.')


def resolve_resume(work_dir: str, *more_dirs: str
                   ) -> Tuple[Optional[str], Optional[str]]:
    """What ``--resume`` (without a file) should load.

    Returns ``(path, note)``: the ``last_checkpoint`` target when it is
    intact (note None); else the newest intact checkpoint with a one-line
    note saying what was wrong; ``(None, None)`` when the work dir has no
    pointer and no checkpoint (a fresh start).

    Raises:
        ResumeError: There is a pointer or there are checkpoints, but none
            of them is intact.
    """
    target = read_pointer(work_dir)
    dirs = [work_dir, *more_dirs]
    if target and osp.isfile(target):
        directory = osp.dirname(osp.abspath(target))
        if directory not in dirs:
            dirs.append(directory)
    pointer = osp.join(work_dir, 'last_checkpoint')
    if target is None:
        problem = f'{pointer} does not exist'
    elif not target:
        problem = f'{pointer} is empty'
    else:
        info = inspect_checkpoint(target)
        if info['ok']:
            return target, None
        problem = f'{pointer} points to {target}, which {info["problem"]}'
    candidates = _candidates(dirs)
    if target is None and not candidates:
        return None, None
    info = newest_intact_checkpoint(*dirs, exclude=(target, ))
    if info is None:
        where = ' and '.join(dict.fromkeys(dirs))
        raise ResumeError(
            f'--resume: {problem}, and none of the {len(candidates)} '
            f'checkpoint files in {where} is intact (truncated, unreadable '
            'or non-finite); start without --resume, or pass a good '
            'checkpoint with --resume PATH')
    return info['path'], (
        f'--resume: {problem}; resuming from the newest intact checkpoint '
        f'{info["path"]}{_where(info)} instead.')

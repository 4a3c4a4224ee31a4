"""How much of a model a checkpoint fills, and the error when it is too
little.

mmengine loads ``load_from`` non-strictly and PyTorch's ``strict=False``
loads whatever names match: a UniFormer V1 checkpoint given to a UniFormerV2
config, or a checkpoint of another width, loads next to nothing and the run
goes on with random weights. Every loading path of uniformer-mm goes
through :func:`check_load_coverage`:

* ``load_from`` / ``--resume`` / ``tools/test.py CHECKPOINT``:
  :class:`~uniformer_mm.engine.hooks.LoadCheckHook` (``after_load_checkpoint``,
  registered by ``tools/train.py`` and ``tools/test.py``), via
  :func:`check_checkpoint_for_model`;
* ``uniformer_mm.apis.init_model(config, checkpoint)`` (``tools/infer.py``,
  ``extract_features.py``, ``export_onnx.py``, ...), the same way;
* a backbone's ``init_cfg=dict(type='Pretrained', ...)``
  (:func:`~uniformer_mm.checkpoint.loader.load_pretrained_backbone`);
* UniFormerV2's ``clip_pretrained`` (``UniFormerV2Video.load_clip``: the
  CLIP part of the backbone).

A tensor counts as filled when the checkpoint has its name with the same
shape. When the filled tensors hold less than the minimum fraction of the
target's elements (default 0.5), :class:`PartialLoadError` says, in one
line, how many tensors matched out of how many, what the checkpoint looks
like it fits (arch from its shapes, :func:`~.arch.describe_state_dict`) and
what the model is. Opting out: ``min_loaded_fraction = 0`` in the config
(read by the tools and the hook; ``--cfg-options min_loaded_fraction=0``),
the ``min_loaded_fraction`` argument of ``init_model``, or the environment
variable ``UNIFORMER_MM_MIN_LOADED=0``.
"""
import contextlib
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Iterable, List, Mapping, Optional

import torch

from .io import CheckpointError

__all__ = [
    'CONFIG_KEY', 'MIN_LOADED_ENV', 'DEFAULT_MIN_LOADED', 'PartialLoadError',
    'LoadCoverage', 'load_coverage', 'min_loaded_fraction',
    'loading_policy', 'check_load_coverage', 'checkpoint_state_dict',
    'check_checkpoint_for_model'
]

#: Config key (top level) with the minimum fraction; 0 switches it off.
CONFIG_KEY = 'min_loaded_fraction'
#: Environment variable with the minimum fraction (where no config is read).
MIN_LOADED_ENV = 'UNIFORMER_MM_MIN_LOADED'
DEFAULT_MIN_LOADED = 0.5

_POLICY: List[float] = []  # set by loading_policy() (tools, LoadCheckHook)


class PartialLoadError(CheckpointError, ValueError):
    """A checkpoint fills less than the minimum fraction of a model."""


def _fraction(value, where):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f'{where} must be a number in [0, 1], got '
                         f'{value!r}') from None
    if not 0 <= value <= 1:
        raise ValueError(f'{where} must be in [0, 1], got {value}')
    return value


def min_loaded_fraction(value=None) -> float:
    """The minimum fraction in effect: ``value`` if given, else the one of
    the innermost :func:`loading_policy`, else ``$UNIFORMER_MM_MIN_LOADED``,
    else 0.5."""
    if value is not None:
        return _fraction(value, CONFIG_KEY)
    if _POLICY:
        return _POLICY[-1]
    env = os.environ.get(MIN_LOADED_ENV, '').strip()
    if env:
        return _fraction(env, MIN_LOADED_ENV)
    return DEFAULT_MIN_LOADED


@contextlib.contextmanager
def loading_policy(min_fraction=None):
    """Make ``min_fraction`` (None: no change) the default of every check
    inside the block (backbone ``init_cfg`` and ``clip_pretrained`` loads
    cannot see the config)."""
    if min_fraction is None:
        yield
        return
    _POLICY.append(_fraction(min_fraction, CONFIG_KEY))
    try:
        yield
    finally:
        _POLICY.pop()


@dataclass
class LoadCoverage:
    """What a state dict fills of a target (a model's ``state_dict()``).

    ``matched``/``total`` count tensors, ``matched_numel``/``total_numel``
    their elements; ``mismatched`` holds ``(key, checkpoint shape, target
    shape)``.
    """
    matched: int = 0
    total: int = 0
    matched_numel: int = 0
    total_numel: int = 0
    missing: List[str] = field(default_factory=list)
    mismatched: List[tuple] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        """Filled fraction of the target's elements (1 for an empty
        target)."""
        return self.matched_numel / self.total_numel if self.total_numel \
            else 1.0


def _countable(key):
    return not key.endswith('num_batches_tracked')


def load_coverage(target: Mapping[str, torch.Tensor],
                  state_dict: Mapping[str, object],
                  expected: Optional[Iterable[str]] = None) -> LoadCoverage:
    """Compare ``state_dict`` with ``target``; only the ``expected`` keys
    of the target count (default: all but BatchNorm's
    ``num_batches_tracked``)."""
    keys = [k for k in (target if expected is None else expected)
            if _countable(k)]
    cov = LoadCoverage()
    for key in keys:
        want = target[key]
        numel = int(want.numel())
        cov.total += 1
        cov.total_numel += numel
        got = state_dict.get(key)
        if not isinstance(got, torch.Tensor):
            cov.missing.append(key)
        elif tuple(got.shape) != tuple(want.shape):
            cov.mismatched.append((key, tuple(got.shape), tuple(want.shape)))
        else:
            cov.matched += 1
            cov.matched_numel += numel
    known = set(keys)
    cov.unexpected = [k for k, v in state_dict.items()
                      if isinstance(v, torch.Tensor) and k not in known
                      and _countable(k)]
    return cov


def _count(keys, what):
    verb = ('has' if len(keys) == 1 else 'have') if what.startswith(
        'another') else ('is' if len(keys) == 1 else 'are')
    return f'{len(keys)} {verb} {what}'


def _shapes(cov, limit=2):
    shown = ', '.join(f'{k} {list(a)} vs {list(b)}'
                      for k, a, b in cov.mismatched[:limit])
    return f' (e.g. {shown})' if shown else ''


def check_load_coverage(target: Mapping[str, torch.Tensor],
                        state_dict: Mapping[str, object],
                        source: str,
                        what: str = 'the model',
                        expected: Optional[Iterable[str]] = None,
                        min_fraction=None,
                        checkpoint_desc: Optional[str] = None,
                        target_desc: Optional[str] = None,
                        logger='current') -> LoadCoverage:
    """Raise :class:`PartialLoadError` if ``state_dict`` fills less than
    the minimum fraction of ``target``; log the coverage otherwise.

    Args:
        target: The state dict being filled (``model.state_dict()``).
        state_dict: What will be loaded into it (same key layout).
        source (str): The checkpoint, for the message.
        what (str): The target, for the message (``'the model'``,
            ``'the UniFormerV2Video backbone'``).
        expected: Keys of ``target`` the checkpoint should fill (default
            all), e.g. the CLIP part of a UniFormerV2 backbone.
        min_fraction: See :func:`min_loaded_fraction`.
        checkpoint_desc / target_desc (str, optional): What the checkpoint
            and the target look like; default from their shapes
            (:func:`~uniformer_mm.checkpoint.arch.describe_state_dict`).

    Returns:
        LoadCoverage
    """
    cov = load_coverage(target, state_dict, expected)
    limit = min_loaded_fraction(min_fraction)
    pct = 100. * cov.fraction
    if cov.fraction >= limit:
        if cov.matched < cov.total:
            from mmengine.logging import print_log
            print_log(
                f'uniformer_mm: {source} fills {cov.matched} of {cov.total} '
                f'tensors of {what} ({pct:.1f}% of its parameters; '
                f'{len(cov.mismatched)} of another shape{_shapes(cov)}, '
                f'{len(cov.missing)} not in the checkpoint)',
                logger=logger, level=logging.WARNING)
        return cov
    from .arch import describe_state_dict
    if checkpoint_desc is None:
        checkpoint_desc = describe_state_dict(state_dict)
    if target_desc is None:
        target_desc = describe_state_dict(target)
    raise PartialLoadError(
        f'{source} fills only {cov.matched} of the {cov.total} tensors of '
        f'{what} ({pct:.1f}% of its parameters, minimum '
        f'{100. * limit:g}%; {_count(cov.mismatched, "another shape")}'
        f'{_shapes(cov)}, {_count(cov.missing, "not in the checkpoint")}): '
        f'the checkpoint looks like {checkpoint_desc}; {what} is '
        f'{target_desc}',
        'Use the config the checkpoint was trained with (or convert it: '
        'docs/checkpoints.md), or set min_loaded_fraction=0 in the config '
        f'(or {MIN_LOADED_ENV}=0) to load it anyway')


def checkpoint_state_dict(checkpoint, revise_keys=((r'^module\.', ''), )):
    """The state dict mmengine's loader would load from ``checkpoint``
    (``checkpoint['state_dict']`` if present, ``module.`` prefixes
    removed)."""
    sd = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, Mapping) else checkpoint
    if not isinstance(sd, Mapping):
        raise CheckpointError(
            f'no state dict in the checkpoint (got {type(sd).__name__})',
            'Give a checkpoint saved by mmengine or torch.save(state_dict)')
    for pattern, repl in revise_keys:
        sd = {re.sub(pattern, repl, k): v for k, v in sd.items()}
    return sd


_WRAPPED = re.compile(r'(_fsdp_wrapped_module|_checkpoint_wrapped_module|'
                      r'_orig_mod)\.')


def check_checkpoint_for_model(model: torch.nn.Module, checkpoint,
                               source: str, min_fraction=None,
                               logger='current') -> LoadCoverage:
    """:func:`check_load_coverage` of a loaded checkpoint (mmengine
    container or plain state dict) against a whole model (wrappers such as
    DDP / FSDP / ``torch.compile`` are looked through)."""
    from mmengine.model import is_model_wrapper
    if is_model_wrapper(model):
        model = model.module
    target = {_WRAPPED.sub('', k): v for k, v in model.state_dict().items()}
    return check_load_coverage(
        target, checkpoint_state_dict(checkpoint), source, 'the model',
        min_fraction=min_fraction, logger=logger)

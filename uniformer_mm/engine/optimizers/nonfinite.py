"""Optimizer wrappers that skip updates with a non-finite loss or gradient.

``SkipNonFiniteOptimWrapper`` (fp32) and ``SkipNonFiniteAmpOptimWrapper``
(mixed precision) are mmengine's ``OptimWrapper`` / ``AmpOptimWrapper``
with a guard in :meth:`update_params`:

* a loss that is NaN or infinite is **not back-propagated**: the step is
  skipped (gradients of the step, if accumulated, are dropped), the buffers
  of the model (BatchNorm running statistics) are restored to what they
  were before the forward pass that produced it, and a warning names the
  iteration and the value;
* (fp32 wrapper, ``check_grads=True``) gradients that are not finite after
  the backward pass skip the ``optimizer.step()`` the same way. The AMP
  wrapper leaves gradients to its loss scaler, which already skips steps
  with overflowing fp16 gradients (a normal event of dynamic loss scaling);
* after ``max_consecutive_skips`` skipped steps in a row training stops with
  :class:`NonFiniteLossError`. The failing steps changed nothing, and no
  checkpoint with non-finite weights is ever written (see
  :mod:`uniformer_mm.engine.checkpoint_guard`); the message names the
  newest intact checkpoint of the work dir (it is looked up and read when
  training stops), or says that there is none. Resume from it
  (``--resume``) after fixing the cause (learning rate, ``clip_grad``,
  data).

The zoo schedule bases and the demo configs use these wrappers by default.

In distributed training the decision is taken together: if the loss is not
finite on any rank, every rank skips the step (a rank skipping
``backward()`` alone would hang the gradient all-reduce).

Config::

    optim_wrapper = dict(
        type='SkipNonFiniteOptimWrapper',   # or SkipNonFiniteAmpOptimWrapper
        max_consecutive_skips=5,
        optimizer=dict(type='AdamW', lr=1e-3),
        clip_grad=dict(max_norm=5.))

The number of skipped steps is in the message hub (runtime info
``skipped_steps``) and so in every checkpoint.
"""
import logging
import math
import os.path as osp
from contextlib import contextmanager

import torch
import torch.distributed as torch_dist
from mmengine.dist import get_world_size
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

from ..checkpoint_guard import (NonFiniteLossError, NonFiniteWeightsError,
                                intact_checkpoint_note)

__all__ = [
    'NonFiniteLossError', 'NonFiniteWeightsError',
    'SkipNonFiniteOptimWrapper', 'SkipNonFiniteAmpOptimWrapper'
]


class _SkipNonFiniteMixin:
    """The guard shared by the fp32 and the AMP wrapper."""

    #: Whether gradients are checked before ``optimizer.step()``.
    _default_check_grads = True

    def _init_guard(self, max_consecutive_skips, check_grads,
                    protect_buffers):
        if int(max_consecutive_skips) < 1:
            raise ValueError('max_consecutive_skips must be >= 1, got '
                             f'{max_consecutive_skips}')
        self.max_consecutive_skips = int(max_consecutive_skips)
        self.check_grads = (self._default_check_grads
                            if check_grads is None else bool(check_grads))
        self.protect_buffers = protect_buffers
        self.consecutive_skips = 0
        self.skipped_steps = 0
        self._skipped_iters = []
        self._buffer_backup = None
        #: Where the checkpoints of the run are (work dir first); set by
        #: ``AtomicCheckpointHook`` / ``PreemptionCheckpointHook`` so that
        #: the stop message can name the newest intact one.
        self.checkpoint_dirs = None

    # --------------------------------------------------------------- hooks
    @contextmanager
    def optim_context(self, model):
        if self.protect_buffers:
            # what the forward pass may change: BN running stats etc.
            self._buffer_backup = [(b, b.detach().clone())
                                   for b in model.buffers()]
        with super().optim_context(model):
            yield

    def update_params(self, loss, step_kwargs=None, zero_kwargs=None):
        step_kwargs = step_kwargs or {}
        zero_kwargs = zero_kwargs or {}
        if not self._finite_everywhere(loss):
            self._skip(f'loss is {_value(loss)}')
            # keep gradient accumulation in step, without this loss
            self._inner_count += 1
            if self.should_update():
                self.zero_grad(**zero_kwargs)
            return
        loss = self.scale_loss(loss)
        self.backward(loss)
        if self.should_update():
            if self.check_grads and not self._grads_finite():
                self.zero_grad(**zero_kwargs)
                self._skip('gradients are not finite')
                return
            self.step(**step_kwargs)
            self.zero_grad(**zero_kwargs)
            self.consecutive_skips = 0
            self._skipped_iters = []
        self._buffer_backup = None

    # --------------------------------------------------------------- guard
    @staticmethod
    def _finite_everywhere(loss):
        finite = bool(torch.isfinite(loss.detach()).all())
        if get_world_size() > 1 and torch_dist.is_initialized():
            flag = torch.tensor([1. if finite else 0.], device=loss.device)
            torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MIN)
            finite = bool(flag.item() > 0)
        return finite

    def _grads_finite(self):
        grads = [p.grad for group in self.optimizer.param_groups
                 for p in group['params'] if p.grad is not None]
        finite = True
        if grads:
            try:
                norms = torch._foreach_norm(grads)
            except (AttributeError, RuntimeError):  # pragma: no cover
                norms = [g.norm() for g in grads]
            finite = bool(torch.isfinite(torch.stack(
                [n.float().to(norms[0].device) for n in norms])).all())
        if get_world_size() > 1 and torch_dist.is_initialized():
            # sharded gradients (FSDP, ZeRO) differ between ranks: all ranks
            # must take the same decision
            device = grads[0].device if grads else _dist_device()
            flag = torch.tensor([1. if finite else 0.], device=device)
            torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MIN)
            finite = bool(flag.item() > 0)
        return finite

    def _skip(self, why):
        self._restore_buffers()
        self.consecutive_skips += 1
        self.skipped_steps += 1
        it = self.message_hub.get_info('iter')
        self._skipped_iters.append(it)
        self.message_hub.update_info('skipped_steps', self.skipped_steps)
        where = f'iteration {it + 1}' if isinstance(it, int) else 'a step'
        print_log(
            f'{type(self).__name__}: {why} at {where}: skipped the update '
            f'({self.consecutive_skips} in a row, stopping at '
            f'{self.max_consecutive_skips}; {self.skipped_steps} skipped in '
            'all)', logger='current', level=logging.WARNING)
        if self.consecutive_skips >= self.max_consecutive_skips:
            iters = [i + 1 for i in self._skipped_iters if isinstance(i, int)]
            span = (f' (iterations {iters[0]}-{iters[-1]})' if iters else '')
            raise NonFiniteLossError(
                f'training stopped: {self.consecutive_skips} consecutive '
                f'steps had a non-finite loss or gradient{span}, last: '
                f'{why} (max_consecutive_skips='
                f'{self.max_consecutive_skips}); these steps did not change '
                f'the parameters. {self._checkpoint_note()}')

    def _checkpoint_note(self):
        """What the work dir holds that can be resumed (one sentence)."""
        dirs = self.checkpoint_dirs
        if not dirs:
            last = self.message_hub.get_info('last_ckpt')
            dirs = [osp.dirname(last)] if isinstance(last, str) and \
                '://' not in last else None
        if not dirs:
            return ('No checkpoint of this run is known to the optimizer '
                    'wrapper (use AtomicCheckpointHook): check the work dir '
                    'before resuming.')
        return intact_checkpoint_note(*dirs)

    def _restore_buffers(self):
        backup, self._buffer_backup = self._buffer_backup, None
        if not backup:
            return
        with torch.no_grad():
            for buf, saved in backup:
                buf.copy_(saved)


def _dist_device():
    try:
        from mmengine.device import get_device
        return get_device()
    except Exception:  # noqa: BLE001 - gloo on CPU
        return 'cpu'


def _value(loss):
    try:
        v = float(loss.detach().float().sum())
    except Exception:  # noqa: BLE001 - only for the message
        return 'not finite'
    return 'nan' if math.isnan(v) else str(v)


@OPTIM_WRAPPERS.register_module()
class SkipNonFiniteOptimWrapper(_SkipNonFiniteMixin, OptimWrapper):
    """``OptimWrapper`` that skips steps with a non-finite loss/gradient.

    Args:
        max_consecutive_skips (int): Stop with :class:`NonFiniteLossError`
            after this many skipped steps in a row. Defaults to 5.
        check_grads (bool): Also skip when a gradient is not finite (checked
            before ``optimizer.step()``, i.e. before gradient clipping, which
            would otherwise turn the parameters into NaN). Defaults to True.
        protect_buffers (bool): Restore the model buffers (BatchNorm running
            statistics) changed by the forward pass of a skipped step.
            Defaults to True.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).
    """

    def __init__(self, max_consecutive_skips=5, check_grads=None,
                 protect_buffers=True, **kwargs):
        super().__init__(**kwargs)
        self._init_guard(max_consecutive_skips, check_grads, protect_buffers)


@OPTIM_WRAPPERS.register_module()
class SkipNonFiniteAmpOptimWrapper(_SkipNonFiniteMixin, AmpOptimWrapper):
    """``AmpOptimWrapper`` that skips steps with a non-finite loss.

    Gradient overflow is handled by the loss scaler as usual
    (``check_grads`` defaults to False). Arguments as
    :class:`SkipNonFiniteOptimWrapper` plus those of ``AmpOptimWrapper``
    (``loss_scale``, ``dtype``).
    """

    _default_check_grads = False

    def __init__(self, max_consecutive_skips=5, check_grads=None,
                 protect_buffers=True, **kwargs):
        super().__init__(**kwargs)
        self._init_guard(max_consecutive_skips, check_grads, protect_buffers)

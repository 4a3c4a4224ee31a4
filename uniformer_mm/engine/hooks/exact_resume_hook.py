"""``ExactResumeHook``: a resumed run goes on like an uninterrupted one.

What mmengine 0.10.7 restores on ``--resume``: weights, optimizer (with the
``AmpOptimWrapper`` loss scaler), parameter schedulers, message hub, epoch
and iteration counters, and the seed. What it does not:

* **the random number generators** (python ``random``, numpy, torch CPU and
  CUDA): a resumed run starts from the seed again, so its augmentations,
  dropout and drop-path masks differ from the uninterrupted run;
* **the position in the epoch**: ``EpochBasedTrainLoop`` resumed from a
  mid-epoch checkpoint (``CheckpointHook(by_epoch=False)``) restarts the
  epoch from its first batch, so the batches trained before the checkpoint
  are trained twice and the run takes more iterations than configured.
  (``IterBasedTrainLoop`` does skip, by loading and discarding the batches.)

This hook adds both:

* the RNG states of every rank at the end of each training iteration are
  gathered (``after_train_iter``; rank 0 alone saves checkpoints) and
  written to ``checkpoint['meta']['rng_states']`` (a list indexed by rank;
  numpy's state as a tensor so that ``torch.load(weights_only=True)`` reads
  it).
* on resume, each rank restores its state at the point that corresponds to
  where the uninterrupted run saved it: just before the first batch after
  the checkpoint is *loaded* (the sampler signals it, so the random
  augmentations of that batch are the same; with data loader workers the
  main process state is restored before the batch is trained), or before
  the next epoch starts for an end-of-epoch checkpoint.
* mid-epoch resume of ``EpochBasedTrainLoop``: the batches of the epoch
  trained before the checkpoint are skipped. ``skip='sampler'`` drops their
  indices in the sampler (nothing is loaded; exact with ``num_workers=0``);
  ``skip='load'`` loads and discards them (data loader workers then draw the
  same random numbers as in the uninterrupted run: exact with workers too,
  as long as ``persistent_workers=False`` and ``randomness.seed`` is set,
  because mmengine seeds every worker with ``seed + worker_id`` each
  epoch). ``'auto'`` (default): ``'sampler'`` without workers, else
  ``'load'``. Batch indices passed to the hooks are those of the
  uninterrupted run.
* ``isolate_val=True`` (default): validation during training saves and
  restores the RNG states around itself, so it does not change the random
  numbers training draws (a run with and without validation, or resumed
  with validation at a different point, trains identically).

Exactness also needs deterministic kernels (``randomness=dict(seed=...,
deterministic=True)``) and the same number of processes and threads.
``PreemptionCheckpointHook(skip_trained_batches=True)`` skips the same
batches; with this hook in the config its skipping is switched off (one
skip is enough) and its checkpoints carry the RNG states too.

Config::

    custom_hooks = [dict(type='ExactResumeHook')]
    default_hooks = dict(checkpoint=dict(type='CheckpointHook',
                                         by_epoch=False, interval=1000))
"""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

__all__ = ['ExactResumeHook', 'get_rng_state', 'set_rng_state']


def get_rng_state() -> dict:
    """RNG states of this process, in types ``weights_only`` loading reads."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(
        python=random.getstate(),
        numpy=(name, torch.from_numpy(keys.astype(np.int64)), int(pos),
               int(has_gauss), float(cached)),
        torch=torch.get_rng_state(),
        cuda=None)
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(_to_tuple(state['python']))
    name, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), int(pos),
                         int(has_gauss), float(cached)))
    torch.set_rng_state(state['torch'])
    if state.get('cuda') is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def _to_tuple(obj):
    """``random.setstate`` wants tuples (a state may come back as lists)."""
    if isinstance(obj, (list, tuple)):
        return tuple(_to_tuple(o) for o in obj)
    return obj


class _ResumeSampler:
    """Wraps a sampler for one pass: the first ``position`` indices are
    dropped (``drop=True``) or passed on, and ``on_position`` is called when
    the index at ``position`` is about to be drawn (or the sampler ends
    before it). It puts the wrapped sampler back after starting."""

    def __init__(self, owner, sampler, position, drop, on_position):
        self.owner = owner  # the batch sampler whose .sampler we replace
        self.sampler = sampler
        self.position = position
        self.drop = drop
        self.on_position = on_position

    def __len__(self):
        return len(self.sampler)

    def __getattr__(self, name):  # set_epoch, seed, ... of the sampler
        if name in ('sampler', '__setstate__'):
            raise AttributeError(name)
        return getattr(self.sampler, name)

    def __iter__(self):
        self.owner.sampler = self.sampler  # one pass only
        it = iter(self.sampler)
        for n, index in enumerate(it):
            if n == self.position:
                self.on_position()
                yield index
                break
            if not self.drop:
                yield index
        else:
            self.on_position()  # fewer indices than position
            return
        yield from it


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Restore RNG states and the position in the epoch on resume (see the
    module documentation).

    Args:
        skip (str | None): ``'auto'``, ``'sampler'`` or ``'load'``: how the
            batches of a resumed epoch trained before the checkpoint are
            skipped; ``None``: not at all (mmengine's behaviour: the epoch
            restarts).
        isolate_val (bool): Validation during training does not consume the
            training RNG streams. Defaults to True.
        restore_rng (bool): Save and restore the RNG states. Defaults to
            True.
    """

    # before_train: ahead of PreemptionCheckpointHook (LOWEST);
    # before_train_epoch / before_train_iter: restore before other hooks run,
    # as the uninterrupted run saved the state after all hooks of the
    # previous iteration or epoch had run up to CheckpointHook.
    priority = 'VERY_HIGH'

    def __init__(self, skip: str = 'auto', isolate_val: bool = True,
                 restore_rng: bool = True):
        if skip not in ('auto', 'sampler', 'load', None):
            raise ValueError(f"skip must be 'auto', 'sampler', 'load' or "
                             f'None, got {skip!r}')
        self.skip = skip
        self.isolate_val = isolate_val
        self.restore_rng = restore_rng
        self._pending: Optional[dict] = None
        self._restore_at_epoch = False
        self._val_state = None
        self._epoch_patch = None
        self._states = None

    # ---------------------------------------------------------- saving
    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        """Record the RNG states of every rank at the end of the iteration.

        ``Runner.save_checkpoint`` (and with it ``before_save_checkpoint``)
        runs on rank 0 only, so the other ranks' states are gathered here,
        where all ranks are (one small ``all_gather_object`` per iteration
        in distributed runs). Nothing draws random numbers between this and
        the checkpoint hooks of the iteration or the epoch; checkpoints
        saved after validation (best checkpoint) get the training state,
        which validation does not change (``isolate_val``).
        """
        if not self.restore_rng:
            return
        _, world_size = get_dist_info()
        state = get_rng_state()
        self._states = (all_gather_object(state) if world_size > 1 else
                        [state])

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self.restore_rng:
            return
        states = self._states
        if states is None:  # nothing trained yet in this process
            _, world_size = get_dist_info()
            if world_size > 1:
                return  # the other ranks' states are unknown
            states = [get_rng_state()]
        checkpoint.setdefault('meta', {})['rng_states'] = states

    # --------------------------------------------------------- loading
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not (self.restore_rng and getattr(runner, '_resume', False)):
            return
        states = checkpoint.get('meta', {}).get('rng_states')
        rank, world_size = get_dist_info()
        if states is None:
            runner.logger.warning(
                'ExactResumeHook: the checkpoint has no RNG states (saved '
                'without this hook); random numbers after resuming differ '
                'from an uninterrupted run.')
        elif len(states) != world_size:
            runner.logger.warning(
                f'ExactResumeHook: the checkpoint has the RNG states of '
                f'{len(states)} processes, this run has {world_size}; they '
                'are not restored.')
        else:
            self._pending = states[rank]

    def _restore(self, runner, where):
        if self._pending is None:
            return
        set_rng_state(self._pending)
        self._pending = None
        self._restore_at_epoch = False
        runner.logger.info(f'ExactResumeHook: RNG states restored ({where}).')

    # -------------------------------------------------------- training
    def before_train(self, runner) -> None:
        from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
        loop = runner.train_loop
        dataloader = loop.dataloader
        workers = getattr(dataloader, 'num_workers', 0)
        if workers > 0 and getattr(dataloader, 'persistent_workers', False):
            runner.logger.warning(
                'ExactResumeHook: persistent_workers=True with num_workers='
                f'{workers}: the random states of data loader workers carry '
                'over between epochs and cannot be restored, so random '
                'augmentations after a resume differ from an uninterrupted '
                'run (training is still correct). Use persistent_workers='
                'False for exact resuming.')
        if isinstance(loop, EpochBasedTrainLoop):
            n = len(dataloader)
            offset = runner.iter - runner.epoch * n
            if offset == 0 or n == 0:
                self._restore_at_epoch = True
            elif 0 < offset <= n and self.skip is not None:
                self._resume_mid_epoch(runner, loop, offset, workers)
            elif 0 < offset <= n:
                self._restore_at_epoch = True  # the epoch restarts
            else:
                runner.logger.warning(
                    f'ExactResumeHook: iteration {runner.iter} is not in '
                    f'epoch {runner.epoch + 1} of {n} batches (was the batch '
                    'size or data set changed?); the epoch is not skipped.')
                self._restore_at_epoch = True
        elif isinstance(loop, IterBasedTrainLoop):
            # the loop skips runner.iter batches by loading them; restore
            # when the sampler reaches the first new batch (single-process
            # loading), else before the first new iteration
            if self._pending is not None and workers == 0:
                self._install_sampler(runner, dataloader, runner.iter,
                                      drop=False)
        else:
            self._restore_at_epoch = True

    def _install_sampler(self, runner, dataloader, batches, drop):
        batch_sampler = getattr(dataloader, 'batch_sampler', None)
        if batch_sampler is None or not hasattr(batch_sampler, 'sampler'):
            return False
        size = getattr(batch_sampler, 'batch_size', None) or \
            dataloader.batch_size
        batch_sampler.sampler = _ResumeSampler(
            batch_sampler, batch_sampler.sampler, batches * size, drop,
            lambda: self._restore(runner, 'before loading the first batch '
                                  'after the checkpoint'))
        return True

    def _resume_mid_epoch(self, runner, loop, offset, workers):
        for hook in runner.hooks:  # one skip is enough
            if type(hook).__name__ == 'PreemptionCheckpointHook' and \
                    getattr(hook, 'skip_trained_batches', False):
                hook.skip_trained_batches = False
                runner.logger.info(
                    'ExactResumeHook: PreemptionCheckpointHook skipping '
                    'switched off (this hook skips the trained batches).')
        mode = self.skip
        if mode == 'auto':
            mode = 'sampler' if workers == 0 else 'load'
        if not self._install_sampler(runner, loop.dataloader, offset,
                                     drop=(mode == 'sampler')):
            mode = 'load'  # no batch sampler to drop indices from
        epoch, run_iter = runner.epoch, loop.run_iter

        def resumed_run_iter(idx, data_batch, *args, **kwargs):
            if loop.epoch != epoch:
                return run_iter(idx, data_batch, *args, **kwargs)
            if mode == 'sampler':
                idx += offset
            elif idx < offset:
                return None  # trained before the checkpoint
            return run_iter(idx, data_batch, *args, **kwargs)

        loop.run_iter = resumed_run_iter
        self._epoch_patch = (loop, epoch)
        n = len(loop.dataloader)
        how = ('their indices are dropped by the sampler' if mode ==
               'sampler' else 'they are loaded and discarded')
        runner.logger.info(
            f'ExactResumeHook: resuming in the middle of epoch {epoch + 1}: '
            f'its first {offset} of {n} batches were trained before the '
            f'checkpoint and are skipped ({how}).')

    def after_train_epoch(self, runner) -> None:
        if self._epoch_patch is not None:
            loop, _ = self._epoch_patch
            loop.__dict__.pop('run_iter', None)  # back to the class method
            self._epoch_patch = None
        # an epoch that was entirely trained before the checkpoint
        self._restore(runner, 'at the end of the resumed epoch')

    def before_train_epoch(self, runner) -> None:
        if self._restore_at_epoch:
            self._restore(runner, 'at the start of the epoch')

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        # data loader workers: the main process draws nothing while loading
        self._restore(runner, 'before the first iteration after the '
                      'checkpoint')

    # ------------------------------------------------------ validation
    def before_val(self, runner) -> None:
        if self.isolate_val:
            self._val_state = get_rng_state()

    def after_val(self, runner) -> None:
        if self._val_state is not None:
            set_rng_state(self._val_state)
            self._val_state = None

"""Checkpoint hooks that lose nothing and fill no disk.

``AtomicCheckpointHook``
    mmengine's ``CheckpointHook`` (same arguments) in an order that always
    leaves a usable checkpoint behind, and that keeps only what it should:

    * the new checkpoint is written atomically (see
      :mod:`uniformer_mm.engine.atomic_checkpoint`), then the
      ``last_checkpoint`` pointer is replaced atomically, and only then are
      old files deleted: the checkpoints beyond the newest
      ``max_keep_ckpts`` (epoch and iteration checkpoints alike), the
      previous best checkpoint, and a pre-emption checkpoint that a newer
      checkpoint has replaced. The best checkpoint, the checkpoints kept and
      the ``last_checkpoint`` target are never deleted. (mmengine removes
      the old checkpoint *before* writing the new one and writes the
      pointer in place; and its ids live in a ``deque(maxlen=...)``, so a
      subclass that waits for "more than max" never deletes anything.)
    * before every save (epoch, iteration, best) the weights are checked on
      every rank: non-finite weights are never written nor marked best
      (``NonFiniteWeightsError``, naming the newest intact checkpoint).
    * ``save_best=None`` (no best checkpoint) works.
    * an iteration checkpoint (``by_epoch=False``) due on the last iteration
      of an epoch is saved once the epoch has ended (after the epoch-based
      parameter schedulers stepped), as the end of that epoch: ``--resume``
      continues with the next epoch instead of training the epoch again.
      Such a checkpoint written by mmengine's own hook (its meta says "epoch
      E, iteration (E + 1) x batches") is completed on resume the same way.
    * temporary files of a killed run are removed when training starts.
    * every checkpoint the runner saves names its classes: when the
      training data set gives none (mmaction2's ``VideoDataset``), the
      config's label map goes into ``meta['dataset_meta']['classes']`` (what
      inference and the model hub read); it is taken out again when a run
      resumes, so that mmengine's data-set check sees what it saved.

``PreemptionCheckpointHook``
    Installs handlers for SIGTERM and SIGINT (what slurm sends before
    pre-empting or cancelling a job, and Ctrl-C; ``signals`` may add e.g.
    ``'SIGUSR1'`` for ``sbatch --signal=USR1@60``). On the signal the
    current iteration finishes, a checkpoint ``iter_<N>.pth`` is saved
    (atomically, after the finiteness check) into the work dir,
    ``last_checkpoint`` points to it, a log line says so and the process
    exits with 128 + the signal number (143 for SIGTERM, 130 for SIGINT: what
    a shell or scheduler reports for a process killed by that signal, so
    scripts do not mistake it for a finished run). Data loader workers
    ignore the signal (:mod:`uniformer_mm.engine.worker_signals`), so a
    signal to the whole process group is handled the same way.
    ``tools/train.py CONFIG --resume`` then continues from it; the
    pre-emption checkpoint is deleted once a newer checkpoint is saved. A
    second signal more than ``repeat_window`` seconds after the first
    terminates at once (the same signal arriving twice at once, e.g. from
    slurm and from torchrun's agent, counts as one).
    mmengine's epoch-based loop resumes a mid-epoch checkpoint at the start
    of the interrupted epoch; with this hook the batches of that epoch that
    were trained before the interruption are skipped (loaded, not trained:
    the sampler gives the same order for the same seed and epoch), so the
    resumed run does exactly the remaining iterations
    (``skip_trained_batches=False`` repeats them instead; with
    ``ExactResumeHook`` in the config that hook does it).
"""
import os
import os.path as osp
import signal
import time
from collections import deque

from mmengine.dist import (all_reduce, get_world_size, is_main_process)
from mmengine.hooks import CheckpointHook, Hook
from mmengine.registry import HOOKS

from ..atomic_checkpoint import atomic_write_text, remove_stale_temp_files
from ..checkpoint_guard import check_model_finite
from ..worker_signals import shutdown_workers

__all__ = ['AtomicCheckpointHook', 'PreemptionCheckpointHook']

#: message hub key of the pre-emption checkpoint of a run
PREEMPTION_CKPT_KEY = 'preemption_ckpt'


#: meta key keeping the data set's own ``dataset_meta`` when the hook added
#: the config's class names to it
_DATASET_META = 'uniformer_dataset_meta_without_label_map'


def _write_pointer(runner, path):
    atomic_write_text(path, osp.join(runner.work_dir, 'last_checkpoint'))


def _tell_optim_wrappers(runner, dirs):
    """Let the skipping optimizer wrappers know where the checkpoints are
    (for their stop message)."""
    wrapper = getattr(runner, 'optim_wrapper', None)
    wrappers = (list(wrapper.values()) if hasattr(wrapper, 'values') else
                [wrapper])
    for w in wrappers:
        if hasattr(w, 'checkpoint_dirs'):
            w.checkpoint_dirs = list(dict.fromkeys(dirs))


def _ends_epoch(runner, batch_idx):
    from mmengine.runner import EpochBasedTrainLoop
    loop = runner.train_loop
    return isinstance(loop, EpochBasedTrainLoop) and \
        batch_idx + 1 == len(loop.dataloader)


def complete_epoch_on_resume(runner, checkpoint) -> bool:
    """``after_load_checkpoint`` of a resume: an iteration checkpoint saved
    on the last iteration of epoch E by mmengine's hook (meta ``epoch=E``,
    ``iter=(E + 1) * len(train_dataloader)``) is the end of epoch E; make
    the runner resume at epoch E + 1. Returns True if it changed the meta
    (the caller then steps the epoch-based parameter schedulers once, as the
    uninterrupted run did after the epoch). Idempotent."""
    from mmengine.runner import EpochBasedTrainLoop
    if not getattr(runner, '_resume', False):
        return False
    meta = checkpoint.get('meta')
    if not isinstance(meta, dict) or meta.get('epoch_completed_on_resume'):
        return False
    loop = getattr(runner, '_train_loop', None)
    if not isinstance(loop, EpochBasedTrainLoop):
        return False
    n = len(loop.dataloader)
    epoch, it = meta.get('epoch'), meta.get('iter')
    if not (isinstance(epoch, int) and isinstance(it, int) and n
            and it == (epoch + 1) * n):
        return False
    meta['epoch'] = epoch + 1
    meta['epoch_completed_on_resume'] = True
    runner.logger.info(
        f'The checkpoint was saved on the last iteration ({it}) of epoch '
        f'{epoch + 1}: resuming with epoch {epoch + 2}.')
    return True


def _step_epoch_schedulers(runner):
    from mmengine.hooks import ParamSchedulerHook
    ParamSchedulerHook().after_train_epoch(runner)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that saves before it deletes, keeps only
    ``max_keep_ckpts`` checkpoints and never writes non-finite weights (see
    the module documentation)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._save_at_epoch_end = False
        self._step_schedulers_on_resume = False
        #: (epoch, iter, path) of the last checkpoint saved by this hook
        self.last_saved = None

    def before_train(self, runner) -> None:
        # mmengine's retention (a deque with maxlen that deletes before it
        # saves) is replaced by ours: hide max_keep_ckpts from it
        max_keep, self.max_keep_ckpts = self.max_keep_ckpts, -1
        try:
            super().before_train(runner)
        finally:
            self.max_keep_ckpts = max_keep
        ids = runner.message_hub.get_info('keep_ckpt_ids') or []
        self.keep_ckpt_ids = deque(ids if max_keep > 0 else [])
        if self._step_schedulers_on_resume:
            self._step_schedulers_on_resume = False
            _step_epoch_schedulers(runner)
        _tell_optim_wrappers(runner, [runner.work_dir, self.out_dir])
        if is_main_process() and self.out_dir and '://' not in str(
                self.out_dir):
            for d in {self.out_dir, runner.work_dir}:
                removed = remove_stale_temp_files(d)
                if removed:
                    runner.logger.info(
                        f'AtomicCheckpointHook: removed {len(removed)} '
                        'temporary files of an interrupted save: '
                        + ', '.join(osp.basename(p) for p in removed))

    def before_save_checkpoint(self, runner, checkpoint) -> None:
        meta = checkpoint.setdefault('meta', {})
        dataset_meta = meta.get('dataset_meta')
        if isinstance(dataset_meta, dict) and dataset_meta.get('classes'):
            return
        from ...apis.inference import config_class_names
        try:
            names = config_class_names(runner.cfg)
        except Exception as e:  # noqa: BLE001 - a bad map must not stop
            runner.logger.warning(f'class names not stored: {e}')
            return
        if names:
            meta[_DATASET_META] = dataset_meta  # the data set's own
            meta['dataset_meta'] = dict(dataset_meta or {},
                                        classes=list(names))

    def after_load_checkpoint(self, runner, checkpoint) -> None:
        meta = checkpoint.get('meta')
        if isinstance(meta, dict) and _DATASET_META in meta:
            meta['dataset_meta'] = meta.pop(_DATASET_META)
        if complete_epoch_on_resume(runner, checkpoint):
            self._step_schedulers_on_resume = True

    # ------------------------------------------------ iteration checkpoints
    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if not self.by_epoch and _ends_epoch(runner, batch_idx):
            # saved in after_train_epoch, as the end of the epoch
            self._save_at_epoch_end = self.every_n_train_iters(
                runner, self.interval, self.save_begin) or (
                    self.save_last and self.is_last_train_iter(runner))
            return
        super().after_train_iter(runner, batch_idx, data_batch, outputs)

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch:
            return super().after_train_epoch(runner)
        if self._save_at_epoch_end:
            self._save_at_epoch_end = False
            runner.logger.info(
                f'Saving checkpoint at {runner.iter} iterations (the end of '
                f'epoch {runner.epoch + 1})')
            self._save_checkpoint_with_step(
                runner, runner.iter, dict(epoch=runner.epoch + 1,
                                          iter=runner.iter))

    # ------------------------------------------------------------ saving
    def _protected(self, runner):
        """Paths never deleted: the kept checkpoints, the best ones and the
        resume target."""
        keep = {self.file_backend.join_path(self.out_dir,
                                            self.filename_tmpl.format(i))
                for i in self.keep_ckpt_ids}
        if self.last_ckpt:
            keep.add(self.last_ckpt)
        if getattr(self, 'best_ckpt_path', None):
            keep.add(self.best_ckpt_path)
        keep.update(v for v in (getattr(self, 'best_ckpt_path_dict', None)
                                or {}).values() if v)
        pointer = osp.join(runner.work_dir, 'last_checkpoint')
        if osp.isfile(pointer):
            with open(pointer, encoding='utf-8', errors='replace') as f:
                keep.add(f.read().strip())
        return keep

    def _remove(self, runner, path, why):
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed saves directories
            self.file_backend.rmtree(path)
        else:
            return
        runner.logger.info(f'AtomicCheckpointHook: removed {path} ({why})')

    def _save_checkpoint_with_step(self, runner, step, meta):
        ckpt_filename = self.filename_tmpl.format(step)
        check_model_finite(runner, ckpt_filename)
        ids = list(self.keep_ckpt_ids)
        if self.max_keep_ckpts > 0 and not (ids and ids[-1] == step):
            ids.append(step)
        keep = ids[-self.max_keep_ckpts:] if self.max_keep_ckpts > 0 else []
        expired = ids[:len(ids) - len(keep)]
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        if self.max_keep_ckpts > 0:
            runner.message_hub.update_info('keep_ckpt_ids', keep)
        stale = runner.message_hub.get_info(PREEMPTION_CKPT_KEY)
        runner.message_hub.update_info(PREEMPTION_CKPT_KEY, None)

        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        self.keep_ckpt_ids = deque(keep)
        self.last_saved = (meta.get('epoch'), meta.get('iter'),
                           self.last_ckpt)

        if not is_main_process():
            return
        _write_pointer(runner, self.last_ckpt)
        # only now that the new one is in place and pointed to
        protected = self._protected(runner)
        for old in expired:
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(old))
            if path not in protected:
                self._remove(runner, path,
                             f'max_keep_ckpts={self.max_keep_ckpts}')
        if isinstance(stale, str) and stale not in protected:
            self._remove(runner, stale, f'pre-emption checkpoint, replaced '
                         f'by {ckpt_filename}')

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not self.save_best:
            return
        # Let mmengine save the new best without deleting the old one first
        # (it deletes whatever best path it knows), then delete the old.
        check_model_finite(runner, 'the best checkpoint')
        old_single = getattr(self, 'best_ckpt_path', None)
        old_dict = dict(getattr(self, 'best_ckpt_path_dict', None) or {})
        self.best_ckpt_path = None
        if old_dict:
            self.best_ckpt_path_dict = {k: None for k in old_dict}
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            if self.best_ckpt_path is None:
                self.best_ckpt_path = old_single
            for k, v in old_dict.items():
                if self.best_ckpt_path_dict.get(k) is None:
                    self.best_ckpt_path_dict[k] = v
        if not is_main_process():
            return
        pairs = [(old_single, self.best_ckpt_path)] + [
            (v, self.best_ckpt_path_dict.get(k)) for k, v in old_dict.items()
        ]
        for old, new in pairs:
            if old and new and old != new and self.file_backend.isfile(old):
                self.file_backend.remove(old)
                runner.logger.info(
                    f'The previous best checkpoint {old} is removed')


@HOOKS.register_module()
class PreemptionCheckpointHook(Hook):
    """Save a checkpoint and exit cleanly on SIGTERM / SIGINT (see module
    doc).

    Args:
        signals (sequence of str): Signal names to handle. Defaults to
            ``('SIGTERM', 'SIGINT')``.
        exit_code (int, optional): Exit status after saving. Defaults to
            None: 128 + the signal number (143 for SIGTERM, 130 for SIGINT).
        filename_tmpl (str): Checkpoint name, formatted with the number of
            finished iterations. Defaults to ``'iter_{}.pth'``.
        skip_trained_batches (bool): After resuming from a mid-epoch
            checkpoint, skip the batches of the epoch trained before it.
            Defaults to True.
        repeat_window (float): A signal within this many seconds of the
            first is the same request (slurm and torchrun's agent both
            forward it); a later one terminates at once. Defaults to 2.
    """

    # after every other hook of an iteration (the parameter scheduler has
    # stepped, CheckpointHook has saved), so the checkpoint is the state
    # after the iteration
    priority = 'LOWEST'

    def __init__(self, signals=('SIGTERM', 'SIGINT'), exit_code=None,
                 filename_tmpl='iter_{}.pth', skip_trained_batches=True,
                 repeat_window=2.):
        self.skip_trained_batches = skip_trained_batches
        if isinstance(signals, str):
            signals = (signals, )
        self.signals = []
        for name in signals:
            sig = getattr(signal, str(name).upper(), None)
            if not isinstance(sig, signal.Signals):
                raise ValueError(f'unknown signal {name!r}')
            self.signals.append(sig)
        self.exit_code = None if exit_code is None else int(exit_code)
        self.filename_tmpl = filename_tmpl
        self.repeat_window = float(repeat_window)
        self.received = None
        self._received_at = None
        self._previous = {}
        self._pid = None
        self._training = False
        self._step_schedulers_on_resume = False

    # --------------------------------------------------------- handlers
    def _handler(self, signum, frame):
        if os.getpid() != self._pid:
            return  # a forked data loader worker: the main process decides
        now = time.monotonic()
        if self.received is not None:
            if now - self._received_at < self.repeat_window:
                return  # the same request, forwarded twice
            self._restore()  # a second request: stop now
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.received = signal.Signals(signum).name
        self._received_at = now

    def _exit_status(self):
        if self.exit_code is not None:
            return self.exit_code
        sig = getattr(signal, str(self.received), None)
        return 128 + int(sig) if sig is not None else 143

    def _install(self):
        self._pid = os.getpid()
        for sig in self.signals:
            try:
                self._previous[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not the main thread: cannot handle signals
                return False
        return True

    def _restore(self):
        for sig, prev in self._previous.items():
            try:
                signal.signal(sig, prev if prev is not None else
                              signal.SIG_DFL)
            except (ValueError, TypeError):
                pass
        self._previous = {}

    # ------------------------------------------------------------ hooks
    def after_load_checkpoint(self, runner, checkpoint):
        if complete_epoch_on_resume(runner, checkpoint):
            self._step_schedulers_on_resume = True

    def before_train(self, runner):
        if self._step_schedulers_on_resume:
            self._step_schedulers_on_resume = False
            _step_epoch_schedulers(runner)
        if self.skip_trained_batches:
            self._skip_trained_batches(runner)
        _tell_optim_wrappers(runner, [runner.work_dir])
        if self._install():
            self._training = True
            status = (str(self.exit_code) if self.exit_code is not None else
                      '128 + the signal number')
            runner.logger.info(
                'PreemptionCheckpointHook: on '
                + '/'.join(s.name for s in self.signals)
                + ' the current iteration finishes, a checkpoint is saved '
                f'and the process exits with status {status}.')
        else:
            runner.logger.warning(
                'PreemptionCheckpointHook: not in the main thread, signals '
                'cannot be handled; the hook does nothing.')

    def _skip_trained_batches(self, runner):
        from mmengine.runner import EpochBasedTrainLoop
        loop = runner.train_loop
        if not isinstance(loop, EpochBasedTrainLoop):
            return  # IterBasedTrainLoop skips them itself
        if any(type(h).__name__ == 'ExactResumeHook' for h in runner.hooks):
            return  # it skips them (and restores the RNG states)
        n = len(loop.dataloader)
        done = runner.iter - runner.epoch * n
        if not 0 < done < n:
            return
        epoch, run_iter = runner.epoch, loop.run_iter
        left = [done]

        def skipping_run_iter(idx, data_batch, *args, **kwargs):
            if left[0] > 0 and loop.epoch == epoch:
                left[0] -= 1
                return None
            return run_iter(idx, data_batch, *args, **kwargs)

        loop.run_iter = skipping_run_iter
        runner.logger.info(
            f'PreemptionCheckpointHook: resumed in the middle of epoch '
            f'{epoch + 1}: its first {done} of {n} batches were trained '
            'before the interruption and are skipped.')

    def after_train(self, runner):
        self._training = False
        self._restore()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if _ends_epoch(runner, batch_idx):
            return  # the epoch ends: after_train_epoch saves it as finished
        if self._should_stop():
            self._save_and_exit(runner, runner.epoch, runner.iter + 1)

    def after_train_epoch(self, runner):
        if self._should_stop():
            self._save_and_exit(runner, runner.epoch + 1, runner.iter)

    def after_val_epoch(self, runner, metrics=None):
        # validation during training runs after the epoch/iteration counter
        # was advanced
        if self._training and self._should_stop():
            self._save_and_exit(runner, runner.epoch, runner.iter)

    def _should_stop(self):
        flag = self.received is not None
        if get_world_size() > 1:  # every rank stops at the same iteration
            import torch
            t = torch.tensor([1 if flag else 0])
            try:
                from mmengine.device import get_device
                t = t.to(get_device())
            except Exception:  # noqa: BLE001
                pass
            all_reduce(t, op='max')
            flag = bool(t.item())
        return flag

    @staticmethod
    def _just_saved(runner, epoch, it):
        """The checkpoint AtomicCheckpointHook saved of this very state (the
        same epoch and iteration), if any: no need to write it twice."""
        for hook in runner.hooks:
            saved = getattr(hook, 'last_saved', None)
            if isinstance(hook, AtomicCheckpointHook) and saved and \
                    saved[:2] == (epoch, it) and isinstance(saved[2], str) \
                    and '://' not in saved[2] and osp.isfile(saved[2]):
                return saved[2]
        return None

    def _save_and_exit(self, runner, epoch, it):
        name = self.received or 'signal on another rank'
        status = self._exit_status()
        filename = self.filename_tmpl.format(it)
        runner.logger.warning(
            f'PreemptionCheckpointHook: received {name}; saving a checkpoint '
            f'after iteration {it} ({epoch} epochs finished) ...')
        check_model_finite(runner, f'the pre-emption checkpoint {filename}')
        path = self._just_saved(runner, epoch, it)
        if path is None:  # nothing saved this state yet
            path = osp.join(runner.work_dir, filename)
            # deleted by AtomicCheckpointHook once a newer one is saved
            runner.message_hub.update_info(PREEMPTION_CKPT_KEY, path)
            runner.save_checkpoint(
                runner.work_dir, filename, meta=dict(epoch=epoch, iter=it),
                by_epoch=False)
        else:
            runner.logger.info(
                f'PreemptionCheckpointHook: {path} was saved at this '
                'iteration by AtomicCheckpointHook: it is the resume point '
                '(not written twice).')
        if is_main_process():
            _write_pointer(runner, path)
        runner.logger.warning(
            f'PreemptionCheckpointHook: saved {path}; exiting with status '
            f'{status}. Continue with `tools/train.py CONFIG '
            f'--work-dir {runner.work_dir} --resume`.')
        self._restore()
        shutdown_workers(runner)  # cleanly, before the interpreter exits
        for handler in getattr(runner.logger, 'handlers', []):
            try:
                handler.flush()
            except Exception:  # noqa: BLE001
                pass
        raise SystemExit(status)

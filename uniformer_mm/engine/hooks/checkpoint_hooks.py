"""Checkpoint hooks that lose nothing when the process dies.

``AtomicCheckpointHook``
    mmengine's ``CheckpointHook`` (same arguments) in an order that always
    leaves a usable checkpoint behind: the new checkpoint is written
    atomically (see :mod:`uniformer_mm.engine.atomic_checkpoint`), then the
    ``last_checkpoint`` pointer is replaced atomically, and only then are
    the checkpoints beyond ``max_keep_ckpts`` and the previous best
    checkpoint removed. (mmengine removes the old checkpoint *before*
    writing the new one and writes the pointer in place: with
    ``max_keep_ckpts=1`` a kill during the save leaves no checkpoint at
    all.) Temporary files of a killed run are removed when training starts.
    Every checkpoint the runner saves names its classes: when the training
    data set gives none (mmaction2's ``VideoDataset``), the config's label
    map goes into ``meta['dataset_meta']['classes']`` (what inference and
    the model hub read); it is taken out again when a run resumes, so that
    mmengine's data-set check sees what it saved.

``PreemptionCheckpointHook``
    Installs a handler for SIGTERM (what slurm sends before pre-empting or
    cancelling a job; ``signals`` may add e.g. ``'SIGUSR1'`` for
    ``sbatch --signal=USR1@60``). On the signal the current iteration
    finishes, a checkpoint ``iter_<N>.pth`` is saved (atomically) into the
    work dir, ``last_checkpoint`` points to it, a log line says so and the
    process exits with ``exit_code`` (143 = killed by SIGTERM, so scripts
    do not mistake it for a finished run). ``tools/train.py CONFIG
    --resume`` then continues from it. A second signal terminates at once.
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

from mmengine.dist import (all_reduce, get_world_size, is_main_process)
from mmengine.hooks import CheckpointHook, Hook
from mmengine.registry import HOOKS

from ..atomic_checkpoint import atomic_write_text, remove_stale_temp_files

__all__ = ['AtomicCheckpointHook', 'PreemptionCheckpointHook']


#: meta key keeping the data set's own ``dataset_meta`` when the hook added
#: the config's class names to it
_DATASET_META = 'uniformer_dataset_meta_without_label_map'


def _write_pointer(runner, path):
    atomic_write_text(path, osp.join(runner.work_dir, 'last_checkpoint'))


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that saves before it deletes (see module doc)."""

    def before_train(self, runner) -> None:
        super().before_train(runner)
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

    def _save_checkpoint_with_step(self, runner, step, meta):
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        expired = []
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            self.keep_ckpt_ids.append(step)
            while len(self.keep_ckpt_ids) > self.max_keep_ckpts:
                expired.append(self.keep_ckpt_ids.popleft())
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

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

        if not is_main_process():
            return
        _write_pointer(runner, self.last_ckpt)
        for old in expired:  # only now that the new one is in place
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(old))
            if path == self.last_ckpt:
                continue
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        # Let mmengine save the new best without deleting the old one first
        # (it deletes whatever best path it knows), then delete the old.
        if not self.save_best:  # no best_ckpt_path attributes then
            return
        old_single = self.best_ckpt_path
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
    """Save a checkpoint and exit cleanly on SIGTERM (see module doc).

    Args:
        signals (sequence of str): Signal names to handle. Defaults to
            ``('SIGTERM',)``.
        exit_code (int): Exit status after saving. Defaults to 143.
        filename_tmpl (str): Checkpoint name, formatted with the number of
            finished iterations. Defaults to ``'iter_{}.pth'``.
        skip_trained_batches (bool): After resuming from a mid-epoch
            checkpoint, skip the batches of the epoch trained before it.
            Defaults to True.
    """

    # after every other hook of an iteration (the parameter scheduler has
    # stepped, CheckpointHook has saved), so the checkpoint is the state
    # after the iteration
    priority = 'LOWEST'

    def __init__(self, signals=('SIGTERM', ), exit_code=143,
                 filename_tmpl='iter_{}.pth', skip_trained_batches=True):
        self.skip_trained_batches = skip_trained_batches
        if isinstance(signals, str):
            signals = (signals, )
        self.signals = []
        for name in signals:
            sig = getattr(signal, str(name).upper(), None)
            if not isinstance(sig, signal.Signals):
                raise ValueError(f'unknown signal {name!r}')
            self.signals.append(sig)
        self.exit_code = int(exit_code)
        self.filename_tmpl = filename_tmpl
        self.received = None
        self._previous = {}
        self._pid = None
        self._training = False

    # --------------------------------------------------------- handlers
    def _handler(self, signum, frame):
        if os.getpid() != self._pid:
            return  # a forked data loader worker: the main process decides
        if self.received is not None:  # second signal: stop now
            self._restore()
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.received = signal.Signals(signum).name

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
    def before_train(self, runner):
        if self.skip_trained_batches:
            self._skip_trained_batches(runner)
        if self._install():
            self._training = True
            runner.logger.info(
                'PreemptionCheckpointHook: on '
                + '/'.join(s.name for s in self.signals)
                + ' the current iteration finishes, a checkpoint is saved '
                f'and the process exits with status {self.exit_code}.')
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
        from mmengine.runner import EpochBasedTrainLoop
        if isinstance(runner.train_loop, EpochBasedTrainLoop) and \
                batch_idx + 1 == len(runner.train_loop.dataloader):
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

    def _save_and_exit(self, runner, epoch, it):
        name = self.received or 'signal on another rank'
        filename = self.filename_tmpl.format(it)
        runner.logger.warning(
            f'PreemptionCheckpointHook: received {name}; saving a checkpoint '
            f'after iteration {it} ({epoch} epochs finished) ...')
        runner.save_checkpoint(
            runner.work_dir, filename, meta=dict(epoch=epoch, iter=it),
            by_epoch=False)
        path = osp.join(runner.work_dir, filename)
        if is_main_process():
            _write_pointer(runner, path)
        runner.logger.warning(
            f'PreemptionCheckpointHook: saved {path}; exiting with status '
            f'{self.exit_code}. Continue with `tools/train.py CONFIG '
            f'--work-dir {runner.work_dir} --resume`.')
        self._restore()
        for handler in getattr(runner.logger, 'handlers', []):
            try:
                handler.flush()
            except Exception:  # noqa: BLE001
                pass
        raise SystemExit(self.exit_code)

"""Report the bad samples that ``RobustVideoDataset`` replaced or skipped.

Add it to a config that uses ``RobustVideoDataset``::

    custom_hooks = [dict(type='BadSampleHook')]

What it does:

* reads, from each batch, the records of the samples that could not be used
  (``RobustVideoDataset`` puts them into the metainfo of the sample that
  replaced them, or, with ``on_bad='skip'``, :func:`robust_collate` puts
  them into the batch) -- this works with any number of data loader workers,
  persistent or not, fork or spawn, because the records travel with the data;
* logs after each training epoch (every ``len(train_dataloader)``
  iterations for iteration-based loops), each validation and each test how
  many samples were bad and which videos, with line number and reason;
* adds ``bad_samples`` (distinct bad videos), ``bad_loads`` (failed loads,
  a video that fails twice counts twice), ``short_videos`` (short videos used
  with ``accept_short=True``) and ``missing_videos`` (skipped when the list
  was loaded) to the test metrics, and ``val/bad_samples`` to the
  validation log;
* stops training with ``TooManyBadSamplesError`` when more than the data
  set's ``max_bad_fraction`` of its videos were bad in an epoch;
* with ``on_bad='skip'``: wraps the data loader's collate function in
  :func:`robust_collate` (dropping the skipped samples from their batch)
  and skips the iteration of a batch whose samples were all skipped.

With several processes the records of all ranks are gathered before they
are reported.
"""
import functools
from collections import Counter, OrderedDict

from mmengine.dist import all_gather_object, get_world_size
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...datasets.robust_video import (BAD_SAMPLES_KEY, SHORT_VIDEO_KEY,
                                      RobustVideoDataset,
                                      TooManyBadSamplesError, robust_collate)

__all__ = ['BadSampleHook', 'find_robust_datasets']


def find_robust_datasets(dataset):
    """``RobustVideoDataset`` instances in ``dataset`` and its wrappers."""
    found, stack, seen = [], [dataset], set()
    while stack:
        ds = stack.pop()
        if ds is None or id(ds) in seen:
            continue
        seen.add(id(ds))
        if isinstance(ds, RobustVideoDataset):
            found.append(ds)
        stack.extend(getattr(ds, 'datasets', []) or [])
        inner = getattr(ds, 'dataset', None)
        if inner is not None:
            stack.append(inner)
    return found


@HOOKS.register_module()
class BadSampleHook(Hook):
    """Count, log and cap the bad samples of ``RobustVideoDataset``.

    Args:
        max_listed (int): Videos named per report (the rest are counted).
            Defaults to 20.
        interval (int, optional): Report the training data every
            ``interval`` iterations instead of at the end of each epoch.
            Defaults to None (each epoch; ``len(train_dataloader)`` for
            iteration-based loops).
    """

    # before LoggerHook (BELOW_NORMAL), so that the test/val scalars we add
    # are in its epoch line
    priority = 'ABOVE_NORMAL'

    def __init__(self, max_listed: int = 20, interval: int = None):
        self.max_listed = max_listed
        self.interval = interval
        self._records = {'train': [], 'val': [], 'test': []}
        #: The last report of each mode (a dict, see :meth:`summary`).
        self.last_report = {}

    # ------------------------------------------------------------ set up
    def before_train(self, runner):
        self._prepare(runner, 'train')

    def before_val(self, runner):
        self._prepare(runner, 'val')

    def before_test(self, runner):
        self._prepare(runner, 'test')

    def _prepare(self, runner, mode):
        loop = getattr(runner, f'{mode}_loop', None)
        loader = getattr(loop, 'dataloader', None)
        if loader is None:
            return
        datasets = find_robust_datasets(loader.dataset)
        if any(ds.on_bad == 'skip' for ds in datasets):
            collate = loader.collate_fn
            if not (isinstance(collate, functools.partial)
                    and collate.func is robust_collate):
                loader.collate_fn = functools.partial(robust_collate,
                                                      inner=collate)
            if not getattr(loop, '_bad_sample_hook_wrapped', False):
                loop.run_iter = self._skipping_run_iter(loop.run_iter, mode)
                loop._bad_sample_hook_wrapped = True

    def _skipping_run_iter(self, run_iter, mode):

        @functools.wraps(run_iter)
        def wrapped(idx, data_batch, *args, **kwargs):
            if isinstance(data_batch, dict) and data_batch and \
                    set(data_batch) <= {BAD_SAMPLES_KEY}:
                self._collect(data_batch, mode)  # nothing left to run
                return None
            return run_iter(idx, data_batch, *args, **kwargs)

        return wrapped

    # ------------------------------------------------------------ collect
    def before_train_epoch(self, runner):
        self._records['train'] = []

    def before_val_epoch(self, runner):
        self._records['val'] = []

    def before_test_epoch(self, runner):
        self._records['test'] = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._collect(data_batch, 'train')

    def before_val_iter(self, runner, batch_idx, data_batch=None):
        self._collect(data_batch, 'val')

    def before_test_iter(self, runner, batch_idx, data_batch=None):
        self._collect(data_batch, 'test')

    def _collect(self, data_batch, mode):
        if not isinstance(data_batch, dict):
            return
        records = self._records[mode]
        for p in data_batch.pop(BAD_SAMPLES_KEY, None) or []:
            records.append(dict(p, status='skipped'))
        for sample in data_batch.get('data_samples') or []:
            meta = getattr(sample, 'metainfo', None) or {}
            for p in meta.get(BAD_SAMPLES_KEY) or []:
                records.append(dict(p, status='replaced'))
            short = meta.get(SHORT_VIDEO_KEY)
            if short:
                records.append(dict(short, status='used'))

    # ------------------------------------------------------------ report
    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        interval = self.interval
        if interval is None and not self._epoch_based(runner):
            interval = len(runner.train_dataloader)
        if interval and (runner.iter + 1) % interval == 0:
            self._report(runner, 'train',
                         f'Iter(train) [{runner.iter + 1}]')
            self._records['train'] = []

    def after_train_epoch(self, runner):
        if self.interval is not None:
            return
        if self._epoch_based(runner):
            self._report(runner, 'train', f'Epoch(train) [{runner.epoch + 1}]')
        elif self._records['train']:  # the rest of an iteration-based run
            self._report(runner, 'train', f'Iter(train) [{runner.iter}]')

    def after_val_epoch(self, runner, metrics=None):
        # runner.epoch would build the train loop of a val-only run
        loop = runner._train_loop
        title = ('Validation' if loop is None or isinstance(loop, dict) else
                 f'Epoch(val) [{runner.epoch}]')
        report = self._report(runner, 'val', title)
        runner.message_hub.update_scalar('val/bad_samples',
                                         report['bad_samples'])

    def after_test_epoch(self, runner, metrics=None):
        report = self._report(runner, 'test', 'Test')
        for key in ('bad_samples', 'bad_loads', 'short_videos',
                    'missing_videos'):
            if metrics is not None:
                metrics[key] = report[key]
            runner.message_hub.update_scalar(f'test/{key}', report[key])

    @staticmethod
    def _epoch_based(runner):
        from mmengine.runner import EpochBasedTrainLoop
        return isinstance(runner.train_loop, EpochBasedTrainLoop)

    def _report(self, runner, mode, title):
        records = self._records[mode]
        if get_world_size() > 1:
            records = [r for part in all_gather_object(records) for r in part]
        loop = getattr(runner, f'{mode}_loop')
        datasets = find_robust_datasets(loop.dataloader.dataset)
        report = self.summary(records, datasets)
        self.last_report[mode] = report
        logger = runner.logger
        bad = report['bad']
        line = (f'{title}: {report["bad_samples"]} bad videos '
                f'({report["bad_loads"]} failed loads)')
        if report['missing_videos']:
            line += (f', {report["missing_videos"]} missing videos skipped '
                     'when the list was loaded')
        if report['short_videos']:
            line += (f', {report["short_videos"]} short videos used '
                     '(accept_short=True)')
        if not bad and not report['short_list']:
            if datasets:
                logger.info(line)
            return report
        # one message: mmengine's logger drops a WARNING identical to an
        # earlier one, so per-video lines would vanish from later epochs
        lines = [line + ':']
        listed = list(bad.items()) + list(report['short_list'].items())
        for (path, where, reason, status), count in listed[:self.max_listed]:
            times = f' [x{count}]' if count > 1 else ''
            lines.append(f'  {path}{where}: {reason} ({status}){times}')
        if len(listed) > self.max_listed:
            lines.append(f'  ... and {len(listed) - self.max_listed} more')
        logger.warning('\n'.join(lines))
        if mode == 'train' and datasets:
            size = sum(len(ds) for ds in datasets)
            cap = min(ds.max_bad_fraction for ds in datasets)
            if size and report['bad_samples'] / size > cap:
                raise TooManyBadSamplesError(
                    f'{report["bad_samples"]} of {size} training videos were '
                    f'bad in this epoch (> max_bad_fraction={cap:g}); first: '
                    + '; '.join(f'{p}{w}: {r}' for (p, w, r, _), _n in
                                list(bad.items())[:3]))
        return report

    @staticmethod
    def summary(records, datasets=()):
        """Count ``records``: dict with ``bad_samples`` (distinct videos),
        ``bad_loads``, ``short_videos``, ``missing_videos`` and the
        ``bad`` / ``short_list`` counters keyed by (path, where, reason,
        status)."""
        bad, short = Counter(), Counter()
        for r in records:
            line = r.get('line')
            where = (f' (line {line} of {r.get("ann_file")})'
                     if line else '')
            key = (r.get('path'), where, r.get('reason'), r.get('status'))
            if r.get('status') == 'used':
                short[key] += 1
            else:
                bad[key] += 1
        missing = sum(len((ds.load_report or {}).get('missing', []))
                      for ds in datasets
                      if getattr(ds, 'on_missing', None) == 'skip')
        return dict(
            bad_samples=len({k[0] for k in bad}),
            bad_loads=sum(bad.values()),
            short_videos=len({k[0] for k in short}),
            missing_videos=missing,
            bad=OrderedDict(bad.most_common()),
            short_list=OrderedDict(short.most_common()))


"""Report the bad samples that ``RobustVideoDataset`` replaced or skipped.

Add it to a config that uses ``RobustVideoDataset`` (the zoo's default
runtime and the demo configs have it)::

    custom_hooks = [dict(type='BadSampleHook')]

What it does:

* reads, from each batch, the records of the samples that could not be used
  (``RobustVideoDataset`` puts them into the metainfo of the sample that
  replaced them, or, with ``on_bad='skip'``, :func:`robust_collate` puts
  them into the batch) -- this works with any number of data loader workers,
  persistent or not, fork or spawn, because the records travel with the data
  and everything is counted here, in the main process; with several
  processes the records of all ranks are gathered before they are reported;
* logs after each training epoch (every ``len(train_dataloader)``
  iterations for iteration-based loops), each validation and each test how
  many samples were bad and which videos, with line number and reason;
* adds ``bad_samples`` (distinct bad videos), ``bad_loads`` (samples drawn
  that could not be used: a video drawn twice counts twice),
  ``short_videos`` (short videos used with ``accept_short=True``) and
  ``missing_videos`` (left out when the list was loaded) to the test
  metrics (plain ints, also in the json log), and ``val/bad_samples`` to
  the validation log;
* writes ``bad_samples.json`` into the work dir (see :meth:`write_json`):
  every bad video with its list, line, reason, how often it failed and in
  which epochs, merged over workers and ranks, updated after each epoch,
  validation and test and at the end of training (a resumed run adds to
  it);
* stops with ``TooManyBadSamplesError`` when more than the data set's
  ``max_bad_fraction`` of the samples drawn were bad (checked after each
  batch once ``min(50, samples per epoch)`` were drawn; per rank) or of its
  videos were bad in a training epoch (at its end, over all ranks). These
  counts do not depend on ``num_workers``;
* with ``on_bad='skip'``: wraps the data loader's collate function in
  :func:`robust_collate` (dropping the skipped samples from their batch)
  and skips the iteration of a batch whose samples were all skipped.
"""
import functools
import json
import os.path as osp
from collections import Counter, OrderedDict

from mmengine.dist import all_gather_object, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...datasets.robust_video import (BAD_SAMPLES_KEY, SHORT_VIDEO_KEY,
                                      RobustVideoDataset,
                                      TooManyBadSamplesError, robust_collate)
from ..atomic_checkpoint import atomic_write_text

__all__ = ['BadSampleHook', 'find_robust_datasets']

#: The file written into the work dir.
JSON_NAME = 'bad_samples.json'
#: Samples drawn before the fraction of bad ones is checked (at most).
MIN_DRAWN = 50


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


def _where(path, line, ann_file):
    return f'{path} (line {line} of {ann_file})' if line else f'{path}'


@HOOKS.register_module()
class BadSampleHook(Hook):
    """Count, log, cap and list the bad samples of ``RobustVideoDataset``.

    Args:
        max_listed (int): Videos named per report (the rest are counted).
            Defaults to 20.
        interval (int, optional): Report the training data every
            ``interval`` iterations instead of at the end of each epoch.
            Defaults to None (each epoch; ``len(train_dataloader)`` for
            iteration-based loops).
        out_file (str): Name of the list of bad videos in the work dir;
            None: not written. Defaults to ``'bad_samples.json'``.
    """

    # before LoggerHook (BELOW_NORMAL), so that the test/val scalars we add
    # are in its epoch line
    priority = 'ABOVE_NORMAL'

    def __init__(self, max_listed: int = 20, interval: int = None,
                 out_file: str = JSON_NAME):
        self.max_listed = max_listed
        self.interval = interval
        self.out_file = out_file
        self._records = {'train': [], 'val': [], 'test': []}
        self._drawn = {'train': 0, 'val': 0, 'test': 0}
        self._datasets = {}
        self._epoch_size = {}
        #: The last report of each mode (a dict, see :meth:`summary`).
        self.last_report = {}
        #: (split, path) -> entry of bad_samples.json
        self._registry = None

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
        self._datasets[mode] = datasets
        self._epoch_size[mode] = len(loader) * (loader.batch_size or 1)
        self._load_registry(runner, mode)
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
        self._reset('train')

    def before_val_epoch(self, runner):
        self._reset('val')

    def before_test_epoch(self, runner):
        self._reset('test')

    def _reset(self, mode):
        self._records[mode] = []
        self._drawn[mode] = 0

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
        skipped = data_batch.pop(BAD_SAMPLES_KEY, None) or []
        for p in skipped:
            records.append(dict(p, status='skipped'))
        samples = data_batch.get('data_samples') or []
        for sample in samples:
            meta = getattr(sample, 'metainfo', None) or {}
            for p in meta.get(BAD_SAMPLES_KEY) or []:
                records.append(dict(p, status='replaced'))
            short = meta.get(SHORT_VIDEO_KEY)
            if short:
                records.append(dict(short, status='used'))
        # one slot per sample of the batch and per skipped sample
        self._drawn[mode] += len(samples) + sum(
            1 for p in skipped if not p.get('attempt'))
        self._check_drawn(mode)

    def _check_drawn(self, mode):
        """Stop early when too many of the samples drawn so far were bad
        (this rank; deterministic: the sampler order, not the workers)."""
        datasets = self._datasets.get(mode)
        drawn = self._drawn[mode]
        if not datasets or not drawn:
            return
        need = min(MIN_DRAWN, self._epoch_size.get(mode) or MIN_DRAWN)
        if drawn < need:
            return
        failed = [r for r in self._records[mode]
                  if r.get('status') != 'used' and not r.get('attempt')]
        cap = min(ds.max_bad_fraction for ds in datasets)
        if len(failed) / drawn > cap:
            last = '; '.join(
                _where(r.get('path'), r.get('line'), r.get('ann_file'))
                + f': {r.get("reason")}' for r in failed[-3:])
            raise TooManyBadSamplesError(
                f'{len(failed)} of the {drawn} samples drawn so far from '
                f'{_lists(datasets)} were bad '
                f'({100. * len(failed) / drawn:.0f}% > max_bad_fraction='
                f'{cap:g}); last: {last}')

    # ------------------------------------------------------------ report
    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        interval = self.interval
        if interval is None and not self._epoch_based(runner):
            interval = len(runner.train_dataloader)
        if interval and (runner.iter + 1) % interval == 0:
            self._report(runner, 'train',
                         f'Iter(train) [{runner.iter + 1}]')
            self._reset('train')

    def after_train_epoch(self, runner):
        if self.interval is not None:
            return
        if self._epoch_based(runner):
            self._report(runner, 'train', f'Epoch(train) [{runner.epoch + 1}]')
        elif self._records['train']:  # the rest of an iteration-based run
            self._report(runner, 'train', f'Iter(train) [{runner.iter}]')

    def after_train(self, runner):
        self.write_json(runner)

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
            value = int(report[key])
            if metrics is not None:
                metrics[key] = value
            # as runtime info, not as a scalar: mmengine's history buffers
            # hold numpy integers, which the json log of a test writes as
            # null
            runner.message_hub.update_info(f'test/{key}', value)

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
        self._register(runner, mode, records)
        self.write_json(runner)
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
        if self.out_file and self._json_path(runner):
            lines.append(f'  (all of them: {self._json_path(runner)})')
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
        ``bad_loads`` (samples drawn that could not be used),
        ``short_videos``, ``missing_videos`` (plain ints) and the ``bad`` /
        ``short_list`` counters keyed by (path, where, reason, status)."""
        bad, short = Counter(), Counter()
        failed_draws = 0
        for r in records:
            line = r.get('line')
            where = (f' (line {line} of {r.get("ann_file")})'
                     if line else '')
            key = (r.get('path'), where, r.get('reason'), r.get('status'))
            if r.get('status') == 'used':
                short[key] += 1
            else:
                bad[key] += 1
                failed_draws += not r.get('attempt')
        missing = sum(len((ds.load_report or {}).get('missing', []))
                      for ds in datasets
                      if getattr(ds, 'on_missing', None) == 'skip')
        return dict(
            bad_samples=len({k[0] for k in bad}),
            bad_loads=int(failed_draws),
            short_videos=len({k[0] for k in short}),
            missing_videos=int(missing),
            bad=OrderedDict(bad.most_common()),
            short_list=OrderedDict(short.most_common()))

    # ------------------------------------------------------ the json file
    def _json_path(self, runner):
        work_dir = getattr(runner, 'work_dir', None)
        if not self.out_file or not work_dir:
            return None
        return osp.join(work_dir, self.out_file)

    def _load_registry(self, runner, mode):
        """Start from the file of an earlier (resumed) run; a test replaces
        the test entries, missing videos are listed from the data sets."""
        if self._registry is None:
            self._registry = OrderedDict()
            path = self._json_path(runner)
            if path and osp.isfile(path):
                try:
                    with open(path, encoding='utf-8') as f:
                        for entry in json.load(f).get('videos', []):
                            key = (entry['split'], entry['path'])
                            self._registry[key] = entry
                except (OSError, ValueError, KeyError, TypeError,
                        AttributeError) as e:
                    runner.logger.warning(
                        f'BadSampleHook: {path} cannot be read ({e}); it is '
                        'written anew')
        if mode == 'test':
            for key in [k for k in self._registry if k[0] == 'test']:
                del self._registry[key]
        for ds in self._datasets.get(mode, []):
            report = ds.load_report or {}
            for m in report.get('missing', []):
                self._registry.setdefault((mode, m['path']), dict(
                    split=mode, path=m['path'],
                    list=osp.basename(str(report.get('ann_file'))),
                    line=int(m['line']), kind='missing',
                    reason='file not found when the list was loaded',
                    status=('left out' if ds.on_missing == 'skip' else
                            'kept'), count=0, epochs=[]))

    def _register(self, runner, mode, records):
        if self._registry is None:
            self._registry = OrderedDict()
        epoch = None
        if mode == 'train' and self._epoch_based(runner):
            epoch = runner.epoch + 1
        elif mode == 'val':
            loop = runner._train_loop
            epoch = (None if loop is None or isinstance(loop, dict) else
                     runner.epoch)
        for r in records:
            key = (mode, r.get('path'))
            entry = self._registry.get(key)
            if entry is None:
                line = r.get('line')
                entry = self._registry[key] = dict(
                    split=mode, path=r.get('path'),
                    list=r.get('ann_file'),
                    line=int(line) if line is not None else None,
                    kind=r.get('kind'), reason=r.get('reason'),
                    status=r.get('status'), count=0, epochs=[])
            entry['count'] = int(entry.get('count', 0)) + 1
            entry['reason'] = r.get('reason')
            if epoch is not None and epoch not in entry['epochs']:
                entry['epochs'].append(int(epoch))

    def write_json(self, runner):
        """Write ``bad_samples.json`` (main process): ``{"videos": [...]}``,
        one entry per split and video: ``split``, ``path``, ``list`` (the
        annotation file), ``line``, ``kind``, ``reason``, ``status``
        (``replaced``, ``skipped``, ``used`` for an accepted short video,
        ``left out`` for a video missing when the list was loaded),
        ``count`` (failed loads, replacements tried included) and
        ``epochs`` (the training epochs, or the epochs after which the
        validation ran)."""
        path = self._json_path(runner)
        if path is None or self._registry is None or not is_main_process():
            return
        videos = sorted(self._registry.values(),
                        key=lambda e: (e['split'], str(e['path'])))
        atomic_write_text(
            json.dumps(dict(videos=videos), indent=1) + '\n', path)


def _lists(datasets):
    return ', '.join(dict.fromkeys(str(ds.ann_file) for ds in datasets))

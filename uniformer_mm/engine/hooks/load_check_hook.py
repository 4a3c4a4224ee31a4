"""Refuse a ``load_from`` / ``--resume`` checkpoint that fills too little of
the model (:mod:`uniformer_mm.checkpoint.coverage`).

``tools/train.py`` and ``tools/test.py`` register it; with your own
``Runner`` add it to the config::

    custom_hooks = [dict(type='LoadCheckHook')]

* ``before_run``: makes the config's ``min_loaded_fraction`` (if set) the
  minimum for the whole run, so that the backbone ``init_cfg`` /
  ``clip_pretrained`` loads of ``init_weights`` (which run after it and do
  not see the config) use it too; ``after_run`` restores the previous one.
* ``after_load_checkpoint``: the checkpoint mmengine is about to load into
  the model (``load_from``, ``tools/test.py CHECKPOINT``, ``resume``) must
  fill at least that fraction of the model's parameters, else
  :class:`~uniformer_mm.checkpoint.coverage.PartialLoadError` (one line:
  tensors matched / total, what the checkpoint looks like it fits).
"""
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...checkpoint.coverage import (CONFIG_KEY, check_checkpoint_for_model,
                                    loading_policy)

__all__ = ['LoadCheckHook']


@HOOKS.register_module()
class LoadCheckHook(Hook):
    """Check that a loaded checkpoint fills the model.

    Args:
        min_fraction (float, optional): Minimum filled fraction of the
            model's parameters; None: the config's ``min_loaded_fraction``,
            else ``$UNIFORMER_MM_MIN_LOADED``, else 0.5. 0 switches the check
            off.
    """

    priority = 'VERY_HIGH'

    def __init__(self, min_fraction=None):
        self.min_fraction = min_fraction
        self._policy = None

    def _configured(self, runner):
        if self.min_fraction is not None:
            return self.min_fraction
        cfg = getattr(runner, 'cfg', None)
        return cfg.get(CONFIG_KEY) if cfg is not None else None

    def before_run(self, runner) -> None:
        if self._policy is None:
            self._policy = loading_policy(self._configured(runner))
            self._policy.__enter__()

    def after_run(self, runner) -> None:
        if self._policy is not None:
            policy, self._policy = self._policy, None
            policy.__exit__(None, None, None)

    def after_load_checkpoint(self, runner, checkpoint) -> None:
        source = getattr(runner, '_load_from', None)
        if source is None and getattr(runner, '_resume', False):
            from mmengine.runner import find_latest_checkpoint
            source = find_latest_checkpoint(runner.work_dir)
        check_checkpoint_for_model(
            runner.model, checkpoint, str(source or 'the checkpoint'),
            min_fraction=self._configured(runner), logger=runner.logger)

"""Helpers for config files: change the pipeline steps of a base config.

mmengine evaluates a base config before the child config, so a child that
sets ``clip_len = 32`` does not change the pipelines that the base built
from its own ``clip_len``. :func:`update_transforms` updates the transform
dicts of a whole data loader (nested pipelines of ``RepeatClips`` and the
sub data sets of a ``ConcatDataset`` included) in one call::

    _base_ = ['../_base_/datasets/kinetics400.py']
    from uniformer_mm.datasets.config_utils import update_transforms  # noqa

    num_frames = 16
    train_dataloader = update_transforms(
        _base_.train_dataloader, UniformSample=dict(clip_len=num_frames))
    val_dataloader = update_transforms(
        _base_.val_dataloader, UniformSample=dict(clip_len=num_frames))
    test_dataloader = update_transforms(
        _base_.test_dataloader, UniformSample=dict(clip_len=num_frames))

(The ``import`` must come after ``_base_ = ...``: mmengine reads a config
whose first statement is a non-builtin import as a "new style" config.)
"""
import copy
from typing import Any, Dict


def update_transforms(node: Any, **updates: Dict[str, Any]) -> Any:
    """A deep copy of ``node`` with every transform dict updated.

    Args:
        node: a config value (dict / list / data loader config / pipeline).
        **updates: ``TransformType=dict(arg=value, ...)``: every dict with
            ``type == TransformType`` gets these arguments (merged); if the
            update itself has a ``type``, the transform is replaced by it.
            The value ``None`` removes the transform from its list.

    Returns:
        The updated copy (dicts become plain ``dict``; mmengine converts them
        back to ``ConfigDict``).
    """

    def visit(value):
        if isinstance(value, dict):
            kind = value.get('type')
            if isinstance(kind, str) and kind in updates:
                update = updates[kind]
                if update is None:
                    return _REMOVE
                if 'type' in update:
                    return copy.deepcopy(dict(update))
                value = {**value, **copy.deepcopy(dict(update))}
            return {k: visit(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = [visit(v) for v in value]
            items = [v for v in items if v is not _REMOVE]
            return type(value)(items) if isinstance(value, tuple) else items
        return copy.deepcopy(value)

    return visit(node)


class _Remove:
    pass


_REMOVE = _Remove()

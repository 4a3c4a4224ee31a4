"""Learning-rate schedules of the UniFormer / UniFormerV2 recipes, for config
files.

The official code bases (SlowFast fork for video, DeiT / timm for images)
warm up *linearly from an absolute learning rate* (``1e-6``) and then follow
a cosine down to an absolute minimum, updated every iteration. mmengine's
``LinearLR`` takes a *factor* of the base learning rate, so the factor
depends on the recipe's learning rate; :func:`warmup_cosine` computes it::

    _base_ = ['../_base_/recipes/uniformer_k400.py']
    from uniformer_mm.engine.schedules import warmup_cosine  # noqa

    optim_wrapper = dict(optimizer=dict(lr=4e-4))
    param_scheduler = warmup_cosine(lr=4e-4, max_epochs=100, warmup_epochs=10)
    train_cfg = dict(max_epochs=100)

(As for ``update_transforms``: put the import after ``_base_ = ...``, since
mmengine reads a config whose first statement is an import as a "new style"
config; functions are dropped from the loaded config.)
"""
from typing import List

__all__ = ['warmup_cosine']


def warmup_cosine(lr: float,
                  max_epochs: int,
                  warmup_epochs: int,
                  warmup_start_lr: float = 1e-6,
                  min_lr: float = 1e-6) -> List[dict]:
    """``param_scheduler`` of a linear warmup + cosine recipe.

    Both phases are epoch-based in the config and converted to per-iteration
    updates (``convert_to_iter_based=True``), as the official schedules.

    Args:
        lr (float): The peak learning rate (``optim_wrapper.optimizer.lr``).
        max_epochs (int): Total epochs (``train_cfg.max_epochs``).
        warmup_epochs (int): Epochs of linear warmup (0: none).
        warmup_start_lr (float): Learning rate at the first iteration
            (official ``WARMUP_START_LR`` / DeiT ``warmup_lr``: 1e-6).
        min_lr (float): Learning rate at the end of the cosine (official
            ``COSINE_END_LR`` 1e-6 for video; DeiT ``min_lr`` 1e-5).

    Returns:
        list[dict]: ``[LinearLR, CosineAnnealingLR]`` (only the cosine when
        ``warmup_epochs`` is 0; a ``ConstantLR`` with factor 1 when the
        learning rate does not decay, i.e. ``min_lr >= lr``).
    """
    if lr <= 0 or max_epochs <= 0 or not 0 <= warmup_epochs < max_epochs:
        raise ValueError(
            f'need lr > 0 and 0 <= warmup_epochs < max_epochs, got lr={lr}, '
            f'max_epochs={max_epochs}, warmup_epochs={warmup_epochs}')
    schedulers = []
    if warmup_epochs:
        schedulers.append(
            dict(
                type='LinearLR',
                start_factor=float(f'{min(1., warmup_start_lr / lr):.10g}'),
                end_factor=1.,
                by_epoch=True,
                begin=0,
                end=warmup_epochs,
                convert_to_iter_based=True))
    if min_lr >= lr:  # constant learning rate (e.g. 384 px fine-tuning)
        schedulers.append(
            dict(
                type='ConstantLR',
                factor=1.,
                by_epoch=True,
                begin=warmup_epochs,
                end=max_epochs,
                convert_to_iter_based=True))
    else:
        schedulers.append(
            dict(
                type='CosineAnnealingLR',
                T_max=max_epochs - warmup_epochs,
                eta_min=min_lr,
                by_epoch=True,
                begin=warmup_epochs,
                end=max_epochs,
                convert_to_iter_based=True))
    return schedulers

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
from typing import List, Optional

__all__ = ['warmup_cosine', 'video_schedule']


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


def video_schedule(batch_size: int,
                   lr: float,
                   max_epochs: int,
                   warmup_epochs: int,
                   num_gpus: int = 8,
                   weight_decay: Optional[float] = None,
                   val_interval: Optional[int] = None) -> tuple:
    """The schedule of a video row (UniFormer or UniFormerV2) from its
    official recipe numbers, each stated once: the videos per GPU, the
    learning rate, the epochs and warmup epochs. The learning rate goes into
    the optimizer and the warmup + cosine scheduler, the epochs into the
    scheduler and the training loop, and the global batch (``batch_size x
    num_gpus``, the batch the learning rate is given for) into
    ``auto_scale_lr``::

        _base_ = ['./uniformer-small_in1k-pre_16x4x1_kinetics400-rgb.py']
        from uniformer_mm.engine.schedules import video_schedule  # noqa

        clip_len = 8
        (train_dataloader, optim_wrapper, param_scheduler, train_cfg,
         auto_scale_lr) = video_schedule(
             batch_size=16, lr=4e-4, max_epochs=100, warmup_epochs=10)

    Each returned dict is merged into the base's by mmengine (the data
    loader keeps its data set, the optimizer its type and betas, ...);
    the scheduler list replaces the base's.

    Args:
        batch_size (int): Training videos per GPU.
        lr (float): The peak learning rate for ``batch_size x num_gpus``
            videos.
        max_epochs (int): Training epochs.
        warmup_epochs (int): Epochs of linear warmup (from 1e-6, see
            :func:`warmup_cosine`).
        num_gpus (int): GPUs of the official recipe. Defaults to 8.
        weight_decay (float, optional): The optimizer's weight decay, where
            the recipe changes its base's.
        val_interval (int, optional): Epochs between validations, where the
            recipe changes its base's.

    Returns:
        tuple: ``(train_dataloader, optim_wrapper, param_scheduler,
        train_cfg, auto_scale_lr)``, in this order.
    """
    if batch_size < 1 or num_gpus < 1:
        raise ValueError(f'video_schedule: need batch_size >= 1 and '
                         f'num_gpus >= 1, got batch_size={batch_size}, '
                         f'num_gpus={num_gpus}')
    optimizer = dict(lr=lr)
    if weight_decay is not None:
        optimizer['weight_decay'] = weight_decay
    train_cfg = dict(max_epochs=max_epochs)
    if val_interval is not None:
        train_cfg['val_interval'] = val_interval
    return (dict(batch_size=batch_size), dict(optimizer=optimizer),
            warmup_cosine(
                lr=lr, max_epochs=max_epochs, warmup_epochs=warmup_epochs),
            train_cfg, dict(base_batch_size=batch_size * num_gpus))

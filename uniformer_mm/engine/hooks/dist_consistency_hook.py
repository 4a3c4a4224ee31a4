"""``DistConsistencyHook``: check that all ranks hold the same model.

Data-parallel training keeps one copy of the model per process and relies on
identical updates to keep them equal. They drift apart when something is
rank-local: BatchNorm running statistics without SyncBN (DDP broadcasts
rank 0's buffers only at the start of each forward), a parameter that does
not get a gradient on every rank, a custom ``train_step`` that steps
differently per rank, non-deterministic kernels. This hook compares every
rank's parameters and buffers with rank 0's (broadcast tensor by tensor, so
no rank holds more than one extra tensor) and logs the largest difference.

Args:
    interval (int): Also check every ``interval`` training iterations;
        0 (default) checks only at the end of training.
    buffers (bool): Compare buffers (BN statistics) too. Defaults to True.
    tol (float): Largest difference that counts as equal. Defaults to 0
        (bitwise: parameters under DDP are).
    on_mismatch (str): ``'warn'`` (default) or ``'raise'``.
    dump (bool): At the end of training every rank saves its
        ``state_dict`` as ``work_dir/rank{r}_state_dict.pth`` (to compare
        offline). Defaults to False.

Config::

    custom_hooks = [dict(type='DistConsistencyHook', interval=1000)]
"""
import os.path as osp

import torch
from mmengine.dist import all_reduce, broadcast, get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

__all__ = ['DistConsistencyHook', 'rank_differences']


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


def rank_differences(model, buffers=True):
    """``{name: max |tensor - rank 0's tensor|}`` on this rank (all ranks
    must call it; collective)."""
    state = _unwrap(model).state_dict(keep_vars=False)
    names = {n for n, _ in _unwrap(model).named_parameters()}
    diffs = {}
    for name, tensor in state.items():
        if not buffers and name not in names:
            continue
        if not torch.is_tensor(tensor):
            continue
        ref = tensor.detach().clone()
        broadcast(ref, src=0)
        if tensor.is_floating_point() or tensor.is_complex():
            diffs[name] = (tensor.detach().double() -
                           ref.double()).abs().max().item() \
                if tensor.numel() else 0.
        else:
            diffs[name] = float(not torch.equal(tensor.detach(), ref))
    return diffs


@HOOKS.register_module()
class DistConsistencyHook(Hook):
    """Compare the model of every rank with rank 0's (see module doc)."""

    priority = 'LOW'

    def __init__(self, interval=0, buffers=True, tol=0., on_mismatch='warn',
                 dump=False):
        if on_mismatch not in ('warn', 'raise'):
            raise ValueError("on_mismatch must be 'warn' or 'raise'")
        self.interval = int(interval)
        self.buffers = buffers
        self.tol = float(tol)
        self.on_mismatch = on_mismatch
        self.dump = dump

    def check(self, runner, where):
        rank, world_size = get_dist_info()
        if world_size == 1:
            return 0.
        diffs = rank_differences(runner.model, self.buffers)
        worst_name = max(diffs, key=diffs.get) if diffs else None
        worst = torch.tensor([diffs[worst_name] if diffs else 0.],
                             dtype=torch.float64)
        local = worst.clone()
        all_reduce(worst, op='max')
        value = worst.item()
        if value <= self.tol:
            runner.logger.info(
                f'DistConsistencyHook ({where}): the {world_size} ranks hold '
                f'identical weights{" and buffers" if self.buffers else ""} '
                f'(max difference {value:.3g}).')
        else:
            message = (
                f'DistConsistencyHook ({where}): the ranks differ: max '
                f'difference {value:.3g} > tol {self.tol:g}'
                + (f'; on rank {rank}: {worst_name} differs by '
                   f'{local.item():.3g}' if local.item() > self.tol else ''))
            if self.on_mismatch == 'raise':
                raise RuntimeError(message)
            runner.logger.warning(message)
        return value

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self.interval > 0 and self.every_n_train_iters(
                runner, self.interval):
            self.check(runner, f'iteration {runner.iter + 1}')

    def after_train(self, runner):
        self.check(runner, 'end of training')
        if self.dump:
            rank, _ = get_dist_info()
            path = osp.join(runner.work_dir, f'rank{rank}_state_dict.pth')
            torch.save(_unwrap(runner.model).state_dict(), path)
            runner.logger.info(f'DistConsistencyHook: saved {path}')

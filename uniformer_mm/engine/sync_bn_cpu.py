"""``torch.nn.SyncBatchNorm`` on CPU (gloo), for ``sync_bn='torch'``.

torch's ``SyncBatchNorm`` raises ``ValueError: SyncBatchNorm expected input
tensor to be on GPU or XPU ...`` for CPU tensors in a distributed run, so a
config with ``sync_bn='torch'`` (what mmengine's runner converts with
``convert_sync_batchnorm``) cannot train on CPU processes, e.g. in CI or in
``tools/dist_train.sh CONFIG 2`` on a machine without GPUs.

:func:`patch_sync_batchnorm_cpu` makes ``SyncBatchNorm.forward`` handle CPU
inputs itself: the batch mean and variance over all ranks are computed with
two differentiable all-reduces (sum and count, then the sum of squared
deviations), in float32 whatever the input dtype, and the running
statistics are updated like ``nn.BatchNorm`` (unbiased variance).
Gradients flow through the all-reduces, so a DDP run with per-rank batch
``b`` on ``n`` ranks computes the same outputs and gradients as one process
with batch ``n * b`` (tested in ``tests/test_scale.py``). GPU inputs and non-distributed runs use torch's
implementation unchanged. ``DistributedDataParallel``'s check that rejects
CPU modules with ``SyncBatchNorm`` layers (``ValueError: SyncBatchNorm
layers only work with GPU modules``) is skipped for CPU modules.
"""
import functools

import torch
import torch.distributed as dist
from torch.nn.modules.batchnorm import SyncBatchNorm

__all__ = ['patch_sync_batchnorm_cpu', 'sync_batch_norm_cpu']


class _AllReduceSum(torch.autograd.Function):
    """Differentiable sum over the ranks: the gradient of every rank's
    input is the sum of the output gradients of all ranks."""

    @staticmethod
    def forward(ctx, tensor, group):
        ctx.group = group
        out = tensor.clone()
        dist.all_reduce(out, op=dist.ReduceOp.SUM, group=group)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM, group=ctx.group)
        return grad, None


def _all_reduce(tensor, group):
    return _AllReduceSum.apply(tensor, group)


def sync_batch_norm_cpu(bn: SyncBatchNorm, input: torch.Tensor,
                        momentum: float) -> torch.Tensor:
    """Training-mode batch norm of ``input`` with statistics over all
    ranks of ``bn.process_group``; updates ``bn``'s running statistics."""
    group = bn.process_group or dist.group.WORLD
    c = input.shape[1]
    dims = [0] + list(range(2, input.dim()))
    shape = [1, c] + [1] * (input.dim() - 2)
    x = input.float()
    count = torch.full((1, ), x.numel() // c, dtype=torch.float32)
    total = _all_reduce(torch.cat([x.sum(dims), count]), group)
    n = total[-1]
    mean = total[:-1] / n
    centred = x - mean.view(shape)
    var = _all_reduce((centred * centred).sum(dims), group) / n
    out = centred * torch.rsqrt(var + bn.eps).view(shape)
    if bn.affine:
        out = out * bn.weight.float().view(shape) + bn.bias.float().view(shape)
    if bn.track_running_stats and bn.running_mean is not None:
        with torch.no_grad():
            unbiased = var.detach() * (n / (n - 1).clamp(min=1))
            bn.running_mean.mul_(1 - momentum).add_(
                mean.detach().to(bn.running_mean.dtype), alpha=momentum)
            bn.running_var.mul_(1 - momentum).add_(
                unbiased.to(bn.running_var.dtype), alpha=momentum)
    return out.to(input.dtype)


def patch_sync_batchnorm_cpu() -> bool:
    """Let ``SyncBatchNorm`` train on CPU tensors (idempotent)."""
    if getattr(SyncBatchNorm.forward, '_uniformer_mm_cpu', False):
        return False
    original = SyncBatchNorm.forward

    @functools.wraps(original)
    def forward(self, input):
        if not (input.device.type == 'cpu' and self.training
                and dist.is_available() and dist.is_initialized()
                and dist.get_world_size(self.process_group
                                        or dist.group.WORLD) > 1):
            return original(self, input)
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked)
        from ..compat import _note
        _note('sync_bn_cpu', 'SyncBatchNorm on CPU tensors: batch '
              'statistics all-reduced over the gloo group (torch '
              'supports GPU tensors only).')
        return sync_batch_norm_cpu(self, input, momentum)

    forward._uniformer_mm_cpu = True
    SyncBatchNorm.forward = forward

    # DDP refuses to wrap CPU modules with SyncBatchNorm layers
    # ("SyncBatchNorm layers only work with GPU modules"): they work now.
    from torch.nn.parallel import DistributedDataParallel as DDP
    check = getattr(DDP, '_passing_sync_batchnorm_handle', None)
    if check is not None:

        @functools.wraps(check)
        def passing_sync_batchnorm_handle(self, module):
            if getattr(self, 'device_type', None) == 'cpu':
                return None
            return check(self, module)

        DDP._passing_sync_batchnorm_handle = passing_sync_batchnorm_handle
    return True

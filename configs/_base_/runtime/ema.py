# Exponential moving average of the weights (mmengine's EMAHook with
# ExponentialMovingAverage): validation and the saved `state_dict` use the
# EMA weights, the live weights are kept in `ema_state_dict` and restored on
# --resume.
#
#   _base_ = ['../uniformerv2/<config>.py', '../_base_/runtime/ema.py']
#
# update_buffers=True: BatchNorm running statistics (UniFormer V1, the LMHRA
# of UniFormerV2) are averaged like the weights, so that they match the EMA
# weights (False copies the live model's statistics); integer buffers
# (num_batches_tracked) are copied, not averaged. momentum is the weight of
# the new value per iteration: 1e-4 ~ an average over the last 10k
# iterations (DeiT/UniFormer image recipes: decay 0.99996 -> 4e-5).
#
# Another custom hook in the same config: list both, e.g.
#   custom_hooks = [_base_.ema_hook, dict(type='ExactResumeHook')]
# (not two runtime/*.py bases: both set custom_hooks, which mmengine does
# not allow)
ema_hook = dict(
    type='EMAHook',
    momentum=1e-4,
    update_buffers=True,
    priority='ABOVE_NORMAL')
custom_hooks = [ema_hook]

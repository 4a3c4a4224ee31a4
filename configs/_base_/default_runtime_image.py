# Runtime of the image (mmpretrain) configs: the shared runtime
# (default_runtime_common.py: checkpoints, pre-emption, logging,
# environment) plus mmpretrain's scope and UniversalVisualizer (its
# VisualizationHook off) and a log line every 100 iterations.
#
# The official DeiT-based training also keeps an EMA copy of the weights
# (decay 0.99996) but reports the accuracy of the plain model; mmengine's
# EMAHook would validate the EMA weights, so it is not enabled here (add
# ``custom_hooks = [dict(type='EMAHook', momentum=4e-5,
# priority='ABOVE_NORMAL')]`` to train and evaluate an EMA model).
_base_ = ['./default_runtime_common.py']

default_scope = 'mmpretrain'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    logger=dict(interval=100, ignore_last=False),
    visualization=dict(type='VisualizationHook', enable=False))

log_processor = dict(type='LogProcessor', window_size=100, by_epoch=True)

visualizer = dict(
    type='UniversalVisualizer', vis_backends=_base_.vis_backends)

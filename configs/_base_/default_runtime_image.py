# Runtime of the image (mmpretrain) configs: hooks, logging, environment.
#
# Checkpoints: one per epoch, the last 3 kept, plus the best one by the
# first validation metric (``save_best='auto'``: accuracy/top1).
# The visualizer is mmpretrain's UniversalVisualizer with a local backend
# only (no TensorBoard / torchvision needed).
#
# The official DeiT-based training also keeps an EMA copy of the weights
# (decay 0.99996) but reports the accuracy of the plain model; mmengine's
# EMAHook would validate the EMA weights, so it is not enabled here (add
# ``custom_hooks = [dict(type='EMAHook', momentum=4e-5,
# priority='ABOVE_NORMAL')]`` to train and evaluate an EMA model).
default_scope = 'mmpretrain'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3,
        save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
    # save on SIGTERM / SIGINT and exit; --resume continues (docs/faults.md)
    preemption=dict(type='PreemptionCheckpointHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

log_processor = dict(type='LogProcessor', window_size=100, by_epoch=True)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False

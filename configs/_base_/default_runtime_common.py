# What the runtimes of the zoo share (default_runtime.py: mmaction2,
# default_runtime_image.py: mmpretrain; the demos): hooks, logging,
# environment. Each of them states its scope, visualizer and the hooks of
# its own.
#
# Checkpoints: one per epoch, the last 3 kept, plus the best one by the
# first validation metric (``save_best='auto'``: acc/top1 for AccMetric,
# accuracy/top1 for Accuracy), written atomically, never with NaN/inf
# weights, and deleted only after the new one is safe
# (AtomicCheckpointHook); on SIGTERM / SIGINT to the job (slurm pre-emption,
# scancel, Ctrl-C; data loader workers leave it to the main process) the
# current iteration finishes, a checkpoint is saved, the process exits with
# 143 / 130 and ``--resume`` continues from it (PreemptionCheckpointHook).
# See docs/faults.md. Switch one off with e.g.
# ``default_hooks = dict(preemption=None)`` (tools/train.py, test.py).
# The visualizers write with a local backend only (no TensorBoard /
# torchvision needed).
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook'),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3,
        save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    preemption=dict(type='PreemptionCheckpointHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]

log_level = 'INFO'
load_from = None
resume = False

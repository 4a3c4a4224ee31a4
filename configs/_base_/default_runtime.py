# Runtime of the video (mmaction2) configs: hooks, logging, environment.
#
# Checkpoints: one per epoch, the last 3 kept, plus the best one by the
# first validation metric (``save_best='auto'``: acc/top1 for AccMetric),
# written atomically, never with NaN/inf weights, and deleted only after
# the new one is safe (AtomicCheckpointHook); on SIGTERM / SIGINT to the job
# (slurm pre-emption, scancel, Ctrl-C; data loader workers leave it to the
# main process) the current iteration finishes, a checkpoint is saved, the
# process exits with 143 / 130 and ``--resume`` continues from it
# (PreemptionCheckpointHook); the videos that RobustVideoDataset replaced
# or skipped are counted per epoch and in the test metrics and listed in
# the work dir's bad_samples.json (BadSampleHook). See docs/faults.md.
# Switch one off with
# e.g. ``default_hooks = dict(preemption=None)`` (tools/train.py, test.py).
# The visualizer is mmaction2's ActionVisualizer with a local backend only
# (no TensorBoard / torchvision needed).
default_scope = 'mmaction'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3,
        save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'),
    preemption=dict(type='PreemptionCheckpointHook'),
    bad_samples=dict(type='BadSampleHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False

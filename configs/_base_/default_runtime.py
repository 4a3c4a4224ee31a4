# Runtime of the video (mmaction2) configs: the shared runtime
# (default_runtime_common.py: checkpoints, pre-emption, logging,
# environment) plus mmaction2's scope and ActionVisualizer, a log line every
# 20 iterations, buffers synchronised across processes, and the count of the
# videos that RobustVideoDataset replaced or skipped, per epoch and in the
# test metrics, listed in the work dir's bad_samples.json (BadSampleHook).
# See docs/faults.md.
_base_ = ['./default_runtime_common.py']

default_scope = 'mmaction'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    logger=dict(interval=20, ignore_last=False),
    sync_buffers=dict(type='SyncBuffersHook'),
    bad_samples=dict(type='BadSampleHook'))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)

visualizer = dict(type='ActionVisualizer', vis_backends=_base_.vis_backends)

# Resume exactly where a run stopped (uniformer_mm ExactResumeHook, see
# docs/distributed.md): RNG states of every rank saved in the checkpoints
# and restored, the batches of an interrupted epoch skipped, validation not
# consuming the training random numbers; plus iteration checkpoints so that
# little is lost, deterministic kernels and a fixed seed.
#
#   _base_ = ['../uniformer/<config>.py', '../_base_/runtime/exact_resume.py']
#   default_hooks = dict(checkpoint=_base_.iter_checkpoint)
#   python tools/train.py CONFIG --resume          # after an interruption
#
# (default_hooks cannot be set here: the runtime base of the config sets
# it, and mmengine does not allow one key in two bases.)
#
# With data loader workers: persistent_workers=False (the workers' random
# states cannot be saved; mmengine re-seeds non-persistent workers every
# epoch from the seed). With EMA too: mmengine allows a key in one base only,
# so take one of the two files as a base and list both hooks:
#   _base_ = ['../uniformer/<config>.py', '../_base_/runtime/ema.py']
#   custom_hooks = [_base_.ema_hook, dict(type='ExactResumeHook')]
exact_resume_hook = dict(type='ExactResumeHook')
custom_hooks = [exact_resume_hook]
# every 2000 iterations, mid-epoch included
iter_checkpoint = dict(type='AtomicCheckpointHook', by_epoch=False,
                       interval=2000,
                       max_keep_ckpts=3, save_best='auto')
randomness = dict(seed=0, deterministic=True)

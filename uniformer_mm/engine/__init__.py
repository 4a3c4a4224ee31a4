"""Training-loop components: hooks, optimizer wrappers, config checks.

Importing it registers into mmengine's root registries (so that mmaction2
and mmpretrain configs both find them):

* hooks: ``BadSampleHook``, ``AtomicCheckpointHook``,
  ``PreemptionCheckpointHook``;
* optimizer wrappers: ``SkipNonFiniteOptimWrapper``,
  ``SkipNonFiniteAmpOptimWrapper``;

and makes mmengine write checkpoints atomically and never with non-finite
weights
(:func:`~uniformer_mm.engine.atomic_checkpoint.patch_mmengine_save_checkpoint`)
and its data loader workers leave SIGTERM / SIGINT to the main process
(:func:`~uniformer_mm.engine.worker_signals.patch_mmengine_build_dataloader`).
:func:`~uniformer_mm.engine.config_checks.check_config` is called by the
tools. See docs/faults.md.
"""
from . import hooks, optimizers  # noqa: F401
from .atomic_checkpoint import patch_mmengine_save_checkpoint
from .checkpoint_guard import ResumeError, resolve_resume
from .config_checks import ConfigCheckError, check_config
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .worker_signals import patch_mmengine_build_dataloader

patch_mmengine_save_checkpoint()
patch_mmengine_build_dataloader()

__all__ = [
    'check_config', 'ConfigCheckError', 'patch_mmengine_save_checkpoint',
    'patch_mmengine_build_dataloader', 'resolve_resume', 'ResumeError',
    *hooks.__all__, *optimizers.__all__
]

# --- BEGIN scale-out / efficient training (docs/distributed.md) ---------
# UniFormerOptimWrapperConstructor (layer-wise lr decay), ExactResumeHook,
# DistConsistencyHook, FSDP uniformer_block_wrap_policy, RepeatAugSampler
# in mmaction2's registry. (SyncBatchNorm on CPU and the bf16 loss of
# mmaction2's heads are stack fixes: uniformer_mm.compat.)
from . import fsdp, optim_constructor, samplers  # noqa: E402,F401
from .hooks.dist_consistency_hook import DistConsistencyHook  # noqa: E402
from .hooks.exact_resume_hook import ExactResumeHook  # noqa: E402
from .optim_constructor import UniFormerOptimWrapperConstructor  # noqa: E402

samplers.register_repeat_aug_sampler()
__all__ += ['UniFormerOptimWrapperConstructor', 'ExactResumeHook',
            'DistConsistencyHook']
# --- END scale-out / efficient training ---------------------------------

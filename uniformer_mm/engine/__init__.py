"""Training-loop components: hooks, optimizer wrappers, config checks.

Importing it registers into mmengine's root registries (so that mmaction2
and mmpretrain configs both find them):

* hooks: ``BadSampleHook``, ``AtomicCheckpointHook``,
  ``PreemptionCheckpointHook``;
* optimizer wrappers: ``SkipNonFiniteOptimWrapper``,
  ``SkipNonFiniteAmpOptimWrapper``;

and makes mmengine write checkpoints atomically
(:func:`~uniformer_mm.engine.atomic_checkpoint.patch_mmengine_save_checkpoint`).
:func:`~uniformer_mm.engine.config_checks.check_config` is called by the
tools. See docs/faults.md.
"""
from . import hooks, optimizers  # noqa: F401
from .atomic_checkpoint import patch_mmengine_save_checkpoint
from .config_checks import ConfigCheckError, check_config
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403

patch_mmengine_save_checkpoint()

__all__ = [
    'check_config', 'ConfigCheckError', 'patch_mmengine_save_checkpoint',
    *hooks.__all__, *optimizers.__all__
]

# --- scale-out / efficient training (optimizer constructor, exact resume,
# --- CPU SyncBN, DDP consistency checks); see docs/distributed.md
from . import optim_constructor  # noqa: E402,F401
from .optim_constructor import UniFormerOptimWrapperConstructor  # noqa: E402,F401,E501
from .hooks.exact_resume_hook import ExactResumeHook  # noqa: E402,F401
from . import amp_fixes  # noqa: E402
amp_fixes.apply()
from .hooks.dist_consistency_hook import DistConsistencyHook  # noqa: E402,F401,E501
from .sync_bn_cpu import patch_sync_batchnorm_cpu  # noqa: E402
patch_sync_batchnorm_cpu()

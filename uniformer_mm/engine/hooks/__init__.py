from .bad_sample_hook import BadSampleHook
from .checkpoint_hooks import AtomicCheckpointHook, PreemptionCheckpointHook

__all__ = ['BadSampleHook', 'AtomicCheckpointHook', 'PreemptionCheckpointHook']

from .bad_sample_hook import BadSampleHook
from .checkpoint_hooks import AtomicCheckpointHook, PreemptionCheckpointHook
from .load_check_hook import LoadCheckHook

__all__ = ['BadSampleHook', 'AtomicCheckpointHook', 'PreemptionCheckpointHook',
           'LoadCheckHook']

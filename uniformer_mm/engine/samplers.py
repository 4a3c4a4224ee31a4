"""mmpretrain's ``RepeatAugSampler`` for video (mmaction2) configs.

mmpretrain registers ``RepeatAugSampler`` (DeiT's repeated augmentation:
every index of an epoch appears ``num_repeats`` times, the copies spread
over the ranks, and an epoch keeps ``len(dataset)`` samples) only in its own
``DATA_SAMPLERS``, so an mmaction2 config (``default_scope='mmaction'``)
finds it only as ``type='mmpretrain.RepeatAugSampler'``. Importing
``uniformer_mm`` registers the same class in mmaction2's registry too, so
``sampler=dict(type='RepeatAugSampler', num_repeats=2, shuffle=True)``
works in both scopes. It samples indices only, so it works for any data set;
every copy of a video is loaded and decoded again (``RepeatClips`` in the
pipeline instead decodes once and augments ``num_repeats`` times, the
official UniFormer ``AUG.NUM_SAMPLE``; see configs/_base_/datasets).
"""

__all__ = ['register_repeat_aug_sampler']


def register_repeat_aug_sampler() -> bool:
    try:
        from mmaction.registry import DATA_SAMPLERS
        from mmpretrain.datasets.samplers import RepeatAugSampler
    except ImportError:  # pragma: no cover - both are dependencies
        return False
    if 'RepeatAugSampler' in DATA_SAMPLERS.module_dict:
        return False
    DATA_SAMPLERS.register_module(name='RepeatAugSampler',
                                  module=RepeatAugSampler)
    return True

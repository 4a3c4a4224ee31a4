from .device_augment import (DEFERRED_KEY, DeviceAugmentPreprocessor,
                             apply_deferred)

__all__ = ['DeviceAugmentPreprocessor', 'apply_deferred', 'DEFERRED_KEY']

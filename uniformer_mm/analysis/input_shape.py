"""The input of one view, and the number of views, read from a config's test
pipeline (used by ``tools/analysis/get_flops.py``, ``benchmark.py`` and
``tools/export_onnx.py``)."""
from typing import Optional, Tuple

from mmengine.config import Config

__all__ = ['ViewSpec', 'infer_view_spec']

_SAMPLERS = ('SampleFrames', 'UniformSample', 'DenseSampleFrames',
             'UniformSampleFrames', 'OfficialDenseSample',
             'OfficialSparseSample')


class ViewSpec:
    """One view's input shape (without batch) and the views per sample.

    Attributes:
        shape (tuple): ``(3, T, H, W)`` (video) or ``(3, H, W)`` (image).
        clips (int): temporal views per sample.
        crops (int): spatial views per clip.
        guessed (list[str]): what had to be assumed (not in the config).
    """

    def __init__(self, shape, clips=1, crops=1, guessed=None):
        self.shape = tuple(int(s) for s in shape)
        self.clips = int(clips)
        self.crops = int(crops)
        self.guessed = list(guessed or [])

    @property
    def views(self) -> int:
        return self.clips * self.crops

    def __repr__(self):
        return (f'ViewSpec(shape={self.shape}, clips={self.clips}, '
                f'crops={self.crops})')


def _hw(size) -> Optional[Tuple[int, int]]:
    """``(H, W)`` from an OpenMMLab size: int, or ``(w, h)``."""
    if size is None:
        return None
    if isinstance(size, (int, float)):
        return int(size), int(size)
    w, h = size
    if w is None or w < 0:
        w = h
    if h is None or h < 0:
        h = w
    return int(h), int(w)


def _from_steps(steps):
    clip_len = clips = None
    crops = 1
    hw = None
    resize_hw = None
    for step in steps:
        kind = str(step.get('type')).split('.')[-1]  # no scope prefix
        if kind in _SAMPLERS:
            clip_len = step.get('clip_len', clip_len)
            clips = step.get('num_clips', 1)
            if step.get('twice_sample'):
                clips *= 2
        elif kind in ('CenterCrop', 'ThreeCrop', 'TenCrop', 'RandomCrop',
                      'RandomResizedCrop', 'MultiScaleCrop',
                      'OfficialCenterCrop', 'OfficialThreeCrop'):
            size = step.get('crop_size', step.get('size', step.get('scale')))
            if size is not None:
                hw = _hw(size)
            if kind in ('ThreeCrop', 'OfficialThreeCrop'):
                crops = 3
            elif kind == 'TenCrop':
                crops = 10
        elif kind == 'OfficialShortSideResize':
            resize_hw = _hw(step.get('short_side'))  # assume square input
            hw = None
        elif kind in ('Resize', 'ResizeEdge', 'RandomResize'):
            scale = step.get('scale')
            if kind == 'Resize' and isinstance(scale, (list, tuple)) and \
                    not step.get('keep_ratio', False) and \
                    all(s is not None and s > 0 for s in scale):
                resize_hw = _hw(scale)  # exact size
            elif isinstance(scale, (int, float)):
                resize_hw = _hw(scale)  # short edge: assume square input
            elif isinstance(scale, (list, tuple)):
                resize_hw = _hw(max(s for s in scale if s is not None))
            hw = None  # a crop after the resize decides
    return clip_len, clips, crops, hw or resize_hw


def infer_view_spec(cfg: Config, task: Optional[str] = None) -> ViewSpec:
    """Shape of one view of ``cfg``'s test pipeline (default 16 frames at
    224, or the backbone's ``t_size`` / ``input_resolution``, when the
    config has no test pipeline)."""
    from uniformer_mm.apis.inference import get_task, test_pipeline_cfg
    task = task or get_task(cfg)
    steps, from_config = test_pipeline_cfg(cfg, task)
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    guessed = []
    clip_len, clips, crops, hw = _from_steps(steps if from_config else [])
    if hw is None:
        res = backbone.get('input_resolution')
        if res is None and isinstance(backbone.get('arch'), dict):
            res = backbone['arch'].get('input_resolution')
        hw = _hw(res) if res else (224, 224)
        guessed.append(f'input size {hw[0]}x{hw[1]}')
    if task == 'image':
        return ViewSpec((3, ) + hw, 1, crops if from_config else 1, guessed)
    if clip_len is None:
        clip_len = backbone.get('t_size') or 16
        guessed.append(f'{clip_len} frames')
    return ViewSpec((3, clip_len) + hw, clips or 1, crops, guessed)

"""UniFormer (V1) backbone for dense prediction: detection, segmentation, pose.

:class:`UniFormerDense` is the image :class:`~.uniformer.UniFormerNet` as the
official dense-prediction code builds it (the backbones of Sense-X/UniFormer's
``object_detection``, ``semantic_segmentation`` and ``pose_estimation``
forks of mmdet 2 / mmseg 0.x / mmpose 0.x):

* every stage's output is normalised by its own LayerNorm (``norm1`` ..
  ``norm4``, eps 1e-6) instead of the classifier's final BatchNorm ``norm``;
* stage 3 attends globally (``'global'``), within 14x14 windows
  (``'window'``; maps that are not a multiple of the window are zero-padded
  at the bottom/right) or both (``'hybrid'``: every 4th block -- blocks 4,
  8, ... -- global, the others windowed; the detection models and the
  ``h14`` segmentation models are trained so). The window and global blocks
  have the same parameters, so a model trained with global attention can be
  run with windows (the ``w32`` / ``h32`` rows of the segmentation tables use
  window 32 at test time only): set ``stage3_attn`` / ``window_size`` in the
  test config or call :meth:`UniFormerDense.set_stage3_attention`;
* ImageNet weights of the image classifier load as they are (the window of
  14 is the 14x14 stage-3 map of a 224 image; ``norm``/``head`` are dropped,
  ``norm1..4`` start from 1/0).

It is registered in the ``MODELS`` registries of mmdet, mmseg and mmpose (as
``UniFormerDense``), for whichever of them is installed.

Papers: UniFormer (ICLR 2022, arXiv:2201.04676) and its TPAMI extension
(arXiv:2201.09450), tables of COCO detection / instance segmentation, ADE20K
semantic segmentation and COCO pose estimation.
"""
from typing import Sequence, Union

import torch.nn as nn

from ..layers.uniformer_blocks import SALayerNorm, SABlock
from .uniformer import UniFormerNet

#: Stage-3 attention modes.
STAGE3_ATTN = ('global', 'window', 'hybrid')
#: In hybrid mode block ``i`` of stage 3 is global when ``(i + 1) %
#: HYBRID_PERIOD == 0`` (official ``hybrid=True``).
HYBRID_PERIOD = 4


class UniFormerDense(UniFormerNet):
    """UniFormer image backbone for dense prediction (mmdet, mmseg, mmpose).

    Args:
        arch (str | dict): A name of
            :data:`~uniformer_mm.models.backbones.uniformer.ARCH_ZOO` (the
            dense models use ``'small'`` and ``'base'``) or a dict. The light
            (hourglass) archs are not supported here.
        out_indices (Sequence[int]): Stages (0-3) whose normalised outputs
            are returned; stages after the last of them are not run.
            ``(0, 1, 2, 3)`` for FPN / UperNet necks, ``(3, )`` for top-down
            pose heads. A LayerNorm ``norm{i+1}`` is built for each.
        stage3_attn (str): ``'global'``, ``'window'`` or ``'hybrid'``.
        window_size (int): Window of the windowed stage-3 blocks (official
            14 for training, 32 for the ``w32``/``h32`` test settings).
        frozen_stages (int): Freeze the stem, the first ``n`` stages and their
            output norms (-1: nothing).
        with_cp (bool | int | Sequence): Activation checkpointing per stage
            (official ``checkpoint_num`` is a list of counts, e.g.
            ``[0, 0, 8, 0]``).
        **kwargs: The other arguments of
            :class:`~uniformer_mm.models.backbones.uniformer.UniFormerNet`
            (``drop_path_rate``, ``head_dim``, ``init_cfg``, ...).

    Outputs:
        A tuple of ``(B, C_i, H / s_i, W / s_i)`` maps, ``s = 4, 8, 16, 32``,
        one per index of ``out_indices``. Any input size works (stage 3 pads
        to whole windows internally); sizes that are not multiples of 32 lose
        their last rows/columns in the strided embeddings, as in the
        official code.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'small',
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 stage3_attn: str = 'global',
                 window_size: int = 14,
                 frozen_stages: int = -1,
                 **kwargs):
        if 'dims' in kwargs:
            raise TypeError('UniFormerDense is an image (2D) backbone')
        super().__init__(arch=arch, dims=2, out_indices=out_indices,
                         frozen_stages=-1, **kwargs)
        if self.light:
            raise ValueError(
                'UniFormerDense does not support the light (hourglass) archs '
                '(xxs, xs); use small or base')
        del self.norm  # the classifier's BatchNorm: not part of this model
        for i in self.out_indices:
            setattr(self, f'norm{i + 1}', SALayerNorm(self.embed_dims[i]))
        self.set_stage3_attention(stage3_attn, window_size)
        self.frozen_stages = frozen_stages
        self._freeze_stages()

    # ------------------------------------------------------------------
    def set_stage3_attention(self, mode: str, window_size: int = None):
        """Switch stage 3 between ``'global'``, ``'window'`` and ``'hybrid'``
        attention (and the window size), e.g. to test a model trained with
        global attention the way the ``w32``/``h32`` results were obtained.
        No parameter changes."""
        if mode not in STAGE3_ATTN:
            raise ValueError(f'stage3_attn must be one of {STAGE3_ATTN}, got '
                             f'{mode!r}')
        if window_size is None:
            window_size = getattr(self, 'window_size', 14)
        if int(window_size) < 1:
            raise ValueError(f'window_size must be positive, got '
                             f'{window_size}')
        self.stage3_attn, self.window_size = mode, int(window_size)
        for i, blk in enumerate(self.blocks3):
            assert isinstance(blk, SABlock)
            windowed = mode == 'window' or (
                mode == 'hybrid' and (i + 1) % HYBRID_PERIOD != 0)
            blk.window_size = self.window_size if windowed else None

    def stage3_block_modes(self):
        """``['window' | 'global', ...]``, one per stage-3 block."""
        return ['window' if blk.window_size else 'global'
                for blk in self.blocks3]

    def _freeze_stages(self):
        super()._freeze_stages()
        for s in range(max(self.frozen_stages, 0)):
            norm = getattr(self, f'norm{s + 1}', None)
            if norm is not None:
                norm.eval()
                for p in norm.parameters():
                    p.requires_grad = False

    def forward(self, x):
        outs = []
        x = x.contiguous(memory_format=self.memory_format)
        x = self.pos_drop(self.patch_embed1(x))
        for s in range(self.out_indices[-1] + 1):
            if s > 0:
                x = getattr(self, f'patch_embed{s + 1}')(x)
            x = self._stage(s, x)
            if s in self.out_indices:
                norm = getattr(self, f'norm{s + 1}')
                out = norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
                outs.append(out.contiguous())
        return tuple(outs)


def _register():
    """Register :class:`UniFormerDense` in the installed dense frameworks."""
    done = []
    for package in ('mmdet', 'mmseg', 'mmpose'):
        try:
            registry = __import__(f'{package}.registry',
                                  fromlist=['MODELS']).MODELS
        except ImportError:
            continue
        if registry.module_dict.get('UniFormerDense') is not UniFormerDense:
            registry.register_module(module=UniFormerDense, force=True)
        done.append(package)
    return done


#: Frameworks whose MODELS registry holds UniFormerDense.
REGISTERED_IN = _register()

__all__ = ['UniFormerDense', 'STAGE3_ATTN', 'HYBRID_PERIOD', 'REGISTERED_IN']

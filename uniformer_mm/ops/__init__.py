"""Plain-PyTorch versions of the compiled mmcv operators that the dense
prediction models (mmdet, mmseg, mmpose) call on CPU.

mmcv-lite ships without ``mmcv._ext`` (the compiled operators); importing
``mmcv.ops`` -- and with it ``mmdet.models`` / ``mmseg.models`` /
``mmpose.models`` -- then fails. :mod:`uniformer_mm.compat` puts
:class:`~.mmcv_ext.MMCVExtStandIn` in its place when (and only when) the
compiled module is missing; see :mod:`.mmcv_ext` for what it provides.
"""
from .mmcv_ext import (MMCVExtStandIn, nms, roi_align_backward,
                       roi_align_forward)

__all__ = ['MMCVExtStandIn', 'nms', 'roi_align_forward', 'roi_align_backward']

"""Classifier of UniFormerV2 (``type='UniFormerV2Head'`` in mmaction2's MODELS).

The official model ends in ``transformer.proj = Seq(LayerNorm, Dropout,
Linear)``; the LayerNorm stays in the backbone (``transformer.norm``), the
dropout and the linear layer (official ``proj.2`` -> ``fc_cls``) are here.

``channel_map`` lets a Kinetics-710 classifier initialise a Kinetics-400/600/
700 one: a JSON list with, for each class of the target dataset, its row in
the K710 classifier (``k710_channel_map_k{400,600,700}.json``, shipped as
``uniformer_mm::label_maps/k710_channel_map_k*.json``). Whenever a
state dict whose ``fc_cls`` has a different number of rows is loaded into the
head (``load_state_dict``, mmengine's ``load_checkpoint``, an init_cfg of type
``Pretrained`` with ``prefix='cls_head.'``, ...), the mapped rows are picked
before loading.
"""
from typing import Optional

import torch
from mmengine.logging import print_log
from torch import Tensor, nn

from mmaction.models.heads.base import BaseHead
from mmaction.registry import MODELS

from ...label_maps import read_channel_map


@MODELS.register_module()
class UniFormerV2Head(BaseHead):
    """Dropout + linear classifier on the ``[N, C]`` UniFormerV2 feature.

    Args:
        num_classes (int): number of classes.
        in_channels (int): feature width (backbone ``n_dim``).
        loss_cls (dict): loss config. Defaults to ``CrossEntropyLoss``.
        dropout_ratio (float): dropout before ``fc_cls`` (official
            ``cls_dropout``). Defaults to 0.5.
        channel_map (str, optional): JSON list of source rows (one per class)
            used when a checkpoint's ``fc_cls`` has a different class count;
            a file path or a shipped map such as
            ``'uniformer_mm::label_maps/k710_channel_map_k400.json'`` (see
            :mod:`uniformer_mm.label_maps`).
        init_cfg (dict, optional): Defaults to truncated normal (std 0.02)
            for ``fc_cls``.
        kwargs: other :class:`BaseHead` arguments (``average_clips``, ...).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss_cls: dict = dict(type='CrossEntropyLoss'),
                 dropout_ratio: float = 0.5,
                 channel_map: Optional[str] = None,
                 init_cfg: Optional[dict] = dict(
                     type='TruncNormal', layer='Linear', std=0.02, bias=0.),
                 **kwargs) -> None:
        super().__init__(
            num_classes, in_channels, loss_cls, init_cfg=init_cfg, **kwargs)
        self.dropout_ratio = dropout_ratio
        self.dropout = nn.Dropout(
            p=dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self.channel_map = channel_map
        self._channel_indices = None
        if channel_map is not None:
            self._channel_indices = read_channel_map(channel_map,
                                                     num_classes)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        if self._channel_indices is not None:
            for name in ('fc_cls.weight', 'fc_cls.bias'):
                key = prefix + name
                value = state_dict.get(key)
                if value is None or value.shape[0] == self.num_classes:
                    continue
                if max(self._channel_indices) >= value.shape[0]:
                    error_msgs.append(
                        f'{key}: channel map {self.channel_map} indexes row '
                        f'{max(self._channel_indices)} but the checkpoint has '
                        f'{value.shape[0]} rows')
                    continue
                index = torch.as_tensor(
                    self._channel_indices, device=value.device)
                state_dict[key] = value.index_select(0, index)
                print_log(
                    f'UniFormerV2Head: {key} {tuple(value.shape)} -> '
                    f'{tuple(state_dict[key].shape)} with channel map '
                    f'{self.channel_map}',
                    logger='current')
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def forward(self, x: Tensor, **kwargs) -> Tensor:
        """``[N, in_channels]`` -> class scores ``[N, num_classes]``."""
        return self.fc_cls(self.dropout(x))

"""Classification heads of the UniFormer (V1) releases that plain mmaction2 /
mmpretrain heads cannot express.

* Light ("hourglass") models have two classifiers: ``head`` on the pooled
  feature map and ``head_cls`` on the LayerNorm-ed class token. Training uses
  ``0.5 * CE(head) + 0.5 * CE(head_cls)``; inference uses ``head`` only.
  :class:`UniFormerLightHead` (mmaction2, video) and
  :class:`UniFormerLightClsHead` (mmpretrain, image).
* Token-labeling models add ``aux_head`` applied to every final token;
  inference returns ``head(mean) + 0.5 * max_tokens(aux_head(tokens))``.
  :class:`UniFormerTokenLabelHead` (mmpretrain).

Official key -> ours: ``head`` -> ``fc`` (mmpretrain) / ``fc_cls``
(mmaction2); ``head_cls`` -> ``fc_cls_token``; ``norm_cls`` ->
``norm_cls_token``; ``aux_head`` -> ``fc_aux``.
"""
from typing import Tuple

import torch
import torch.nn as nn
from mmaction.models.heads.base import BaseHead
from mmaction.registry import MODELS as ACTION_MODELS
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS as PRETRAIN_MODELS


def _split_light_feats(feats):
    """Return ``(feature_map, cls_token)`` from a light backbone output."""
    if isinstance(feats, (tuple, list)) and len(feats) == 2 and \
            torch.is_tensor(feats[0]) and feats[1].dim() == 2 and \
            feats[0].dim() >= 4:
        return feats[0], feats[1]
    if isinstance(feats, (tuple, list)) and len(feats) > 0:
        return _split_light_feats(feats[-1])
    raise TypeError(
        'a light UniFormer head needs the (feature_map, cls_token) output of '
        "a light backbone (arch='xxs'/'xs' or light=True)")


class _LightHeadMixin:
    """Two classifiers of the light models, shared by image and video."""

    def _init_light(self, in_channels, num_classes, dropout_ratio,
                    token_loss_weight):
        self.norm_cls_token = nn.LayerNorm(in_channels)
        self.fc_cls_token = nn.Linear(in_channels, num_classes)
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio else None
        assert 0 <= token_loss_weight <= 1
        self.token_loss_weight = token_loss_weight

    def _pooled(self, feat_map):
        x = feat_map.flatten(2).mean(-1)
        return self.dropout(x) if self.dropout is not None else x

    def _token_logits(self, cls_token):
        return self.fc_cls_token(self.norm_cls_token(cls_token))

    def _init_linear_layers(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=.02)
                nn.init.constant_(m.bias, 0)


@ACTION_MODELS.register_module()
class UniFormerLightHead(_LightHeadMixin, BaseHead):
    """Video head of the light UniFormer (XXS/XS) models.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Width of the last stage.
        dropout_ratio (float): Dropout before the classifiers (official: 0).
        token_loss_weight (float): Weight of the class-token classifier's
            loss; the pooled classifier gets ``1 - token_loss_weight``.
        **kwargs: ``loss_cls``, ``average_clips``, ``label_smooth_eps``, ...
            of mmaction2's ``BaseHead``.
    """

    def __init__(self, num_classes, in_channels, dropout_ratio=0.,
                 token_loss_weight=0.5, **kwargs):
        super().__init__(num_classes, in_channels, **kwargs)
        self.fc_cls = nn.Linear(in_channels, num_classes)
        self._init_light(in_channels, num_classes, dropout_ratio,
                         token_loss_weight)

    def init_weights(self):
        self._init_linear_layers()

    def forward(self, feats, **kwargs):
        feat_map, _ = _split_light_feats(feats)
        return self.fc_cls(self._pooled(feat_map))

    def loss(self, feats, data_samples, **kwargs):
        feat_map, cls_token = _split_light_feats(feats)
        w = self.token_loss_weight
        main = self.loss_by_feat(self.fc_cls(self._pooled(feat_map)),
                                 data_samples)
        token = self.loss_by_feat(self._token_logits(cls_token), data_samples)
        losses = {k: v for k, v in main.items() if not k.startswith('loss')}
        losses['loss_cls'] = (1 - w) * main['loss_cls']
        losses['loss_cls_token'] = w * token['loss_cls']
        return losses


@PRETRAIN_MODELS.register_module()
class UniFormerLightClsHead(_LightHeadMixin, ClsHead):
    """Image head of the light UniFormer (XXS/XS) models; see
    :class:`UniFormerLightHead`. Use without a neck."""

    def __init__(self, num_classes, in_channels, dropout_ratio=0.,
                 token_loss_weight=0.5, init_cfg=None, **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        self.num_classes = num_classes
        self.fc = nn.Linear(in_channels, num_classes)
        self._init_light(in_channels, num_classes, dropout_ratio,
                         token_loss_weight)

    def init_weights(self):
        if self.init_cfg is None:
            self._init_linear_layers()
        else:
            super().init_weights()

    def forward(self, feats):
        feat_map, _ = _split_light_feats(feats)
        return self.fc(self._pooled(feat_map))

    def loss(self, feats, data_samples, **kwargs):
        feat_map, cls_token = _split_light_feats(feats)
        w = self.token_loss_weight
        main = self._get_loss(self.fc(self._pooled(feat_map)), data_samples,
                              **kwargs)
        token = self._get_loss(self._token_logits(cls_token), data_samples,
                               **kwargs)
        losses = {k: v for k, v in main.items() if k != 'loss'}
        losses['loss'] = (1 - w) * main['loss']
        losses['loss_cls_token'] = w * token['loss']
        return losses


@PRETRAIN_MODELS.register_module()
class UniFormerTokenLabelHead(ClsHead):
    """Head of the token-labeling UniFormer releases (``*_tl`` archs).

    ``fc`` classifies the mean of the final tokens and ``fc_aux`` every
    token. Inference returns ``fc(mean) + aux_weight * max_n fc_aux(token_n)``
    like the official model. Training without dense token labels uses
    ``CE(fc(mean)) + aux_weight * CE(max_n fc_aux(token_n))``; dense
    (NFNet-F6) token-label targets and MixToken are not supported.

    Args:
        num_classes (int), in_channels (int): Sizes.
        aux_weight (float): Weight of the token branch (official: 0.5).
    """

    def __init__(self, num_classes, in_channels, aux_weight=0.5,
                 init_cfg=None, **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        self.num_classes = num_classes
        self.fc = nn.Linear(in_channels, num_classes)
        self.fc_aux = nn.Linear(in_channels, num_classes)
        self.aux_weight = aux_weight

    def init_weights(self):
        if self.init_cfg is None:
            for m in (self.fc, self.fc_aux):
                trunc_normal_(m.weight, std=.02)
                nn.init.constant_(m.bias, 0)
        else:
            super().init_weights()

    def _logits(self, feats) -> Tuple[torch.Tensor, torch.Tensor]:
        x = feats[-1] if isinstance(feats, (tuple, list)) else feats
        tokens = x.flatten(2).transpose(1, 2)
        return self.fc(tokens.mean(1)), self.fc_aux(tokens).max(1)[0]

    def forward(self, feats):
        main, aux = self._logits(feats)
        return main + self.aux_weight * aux

    def loss(self, feats, data_samples, **kwargs):
        main, aux = self._logits(feats)
        losses = self._get_loss(main, data_samples, **kwargs)
        aux_loss = self._get_loss(aux, data_samples, **kwargs)['loss']
        losses['loss_aux'] = self.aux_weight * aux_loss
        return losses


__all__ = ['UniFormerLightHead', 'UniFormerLightClsHead',
           'UniFormerTokenLabelHead']

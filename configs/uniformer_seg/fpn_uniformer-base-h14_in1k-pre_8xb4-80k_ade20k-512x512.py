# paper: mIoU 47.0, params 54M, FLOPs 328G
# UniFormer-B h14, Semantic FPN, ADE20K 80k, ImageNet-1k init. Official
# fpn_seg/exp/fpn_hybrid_base: drop path 0.2, batch 32 (4 x 8 GPUs), AdamW lr
# 2e-4.
_base_ = ['./_base_/fpn_uniformer_8xb4-80k_ade20k-512x512.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('base', 0.2, stage3_attn='hybrid'))

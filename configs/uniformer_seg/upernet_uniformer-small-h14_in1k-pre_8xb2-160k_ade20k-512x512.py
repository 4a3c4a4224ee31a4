# paper: mIoU 46.9 (MS 48.0), params 52M, FLOPs 947G (512x2048)
# UniFormer-S h14 (stage 3 hybrid: window 14, every 4th block global), UperNet,
# ADE20K 160k, ImageNet-1k init. Official exp/upernet_hybrid_small: drop path
# 0.25, batch 16 (2 x 8 GPUs), AdamW lr 6e-5.
_base_ = ['./_base_/upernet_uniformer_8xb2-160k_ade20k-512x512.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('small', 0.25, stage3_attn='hybrid'))

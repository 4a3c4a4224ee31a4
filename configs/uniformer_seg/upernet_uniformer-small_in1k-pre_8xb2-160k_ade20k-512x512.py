# paper: mIoU 47.6 (MS 48.5), params 52M, FLOPs 1004G (512x2048)
# UniFormer-S (global attention), UperNet, ADE20K 160k, ImageNet-1k init.
# Official exp/upernet_global_small (test_config_g): drop path 0.25, batch 16
# (2 x 8 GPUs), AdamW lr 6e-5. The -w32 / -h32 configs test this model.
_base_ = ['./_base_/upernet_uniformer_8xb2-160k_ade20k-512x512.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('small', 0.25, stage3_attn='global'))

# paper: mIoU 50.0 (MS 50.8), params 80M, FLOPs 1227G (512x2048)
# UniFormer-B (global attention), UperNet, ADE20K 160k, ImageNet-1k init.
# Official exp/upernet_global_base (test_config_g): drop path 0.4,
# checkpoint_num [0, 0, 2, 0], batch 16 (2 x 8 GPUs), AdamW lr 6e-5. The -w32 /
# -h32 configs test this model.
_base_ = ['./_base_/upernet_uniformer_8xb2-160k_ade20k-512x512.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone(
    'base', 0.4, stage3_attn='global', with_cp=[0, 0, 2, 0]))

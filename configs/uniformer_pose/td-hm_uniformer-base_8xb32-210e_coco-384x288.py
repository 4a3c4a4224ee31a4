# paper: AP 76.7 (AP50 90.8, AP75 84.0, AR 81.4), FLOPs 14.8G
# UniFormer-B, top-down heatmaps, COCO 384x288, ImageNet-1k init. Official
# exp/top_down_384x288_global_base: drop path 0.5, AdamW lr 5e-4, batch 256
# (32 x 8 GPUs), heatmap sigma 3.
_base_ = ['./_base_/td-hm_uniformer_8xb128-210e_coco-384x288.py']
from uniformer_mm.models.config_utils import dense_backbone  # noqa: E402

model = dict(backbone=dense_backbone('base', 0.5))
optim_wrapper = dict(optimizer=dict(lr=5e-4))
train_dataloader = dict(batch_size=32)
auto_scale_lr = dict(base_batch_size=256)

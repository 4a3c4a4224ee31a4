# paper: top-1 71.2, params 49.7M, FLOPs 777G (1 clip x 3 crops)
# UniFormer-B, 32 frames (segment sampling), Something-Something V2, from the
# Kinetics-600 16x4 model. Official exp/uniformer_b32_sthv2_prek600: batch 32
# (4 per GPU x 8 GPUs), lr 2e-4, 50 epochs (5 warmup), drop path 0.5; test
# 32x3x1 (frames x crops x clips).
_base_ = ['../_base_/recipes/uniformer_sthv2.py']
from uniformer_mm.datasets.config_utils import update_transforms  # noqa: E402

model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.5,
        init_cfg=dict(checkpoint='checkpoints/uniformer_base_k600_16x4.pth')))

sampling = dict(OfficialSparseSample=dict(clip_len=32))
train_dataloader = update_transforms(_base_.train_dataloader, **sampling)
val_dataloader = update_transforms(_base_.val_dataloader, **sampling)
test_dataloader = update_transforms(_base_.test_dataloader, **sampling)

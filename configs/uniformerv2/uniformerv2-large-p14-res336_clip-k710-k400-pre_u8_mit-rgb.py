# paper: top-1 47.8 (mmaction2 47.7/76.8), params 354M, FLOPs 1567G x 4 clips x
# 3 crops
# UniFormerV2-L/14@336, CLIP-400M -> K710 -> K400 -> Moments in Time V1, 8
# frames. Official exp/mit/mit_l14_f8x336: batch 512 (64 per GPU x 8 GPUs), lr
# 1e-5, 18 epochs (5 warmup), new classifier, activation checkpointing of 21
# ViT blocks; test 8x3x4, softmax averaged.
_base_ = ['./uniformerv2-large-p14-res224_clip-k710-k400-pre_u8_mit-rgb.py']
from uniformer_mm.models.config_utils import uniformerv2_model  # noqa: E402

model = uniformerv2_model(
    'vit-l14-336',
    with_cp=True,
    checkpoint_num=21,
    checkpoint='k400+k710_uniformerv2_l14_8x336.pyth')
crop_size = 336
train_short_side = 384

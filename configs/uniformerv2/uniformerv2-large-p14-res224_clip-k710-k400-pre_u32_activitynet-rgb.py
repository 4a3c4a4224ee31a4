# paper: top-1 94.7, params 354M, FLOPs 2662G (estimated) x 10 clips x 3 crops
# UniFormerV2-L/14, CLIP-400M -> K710 -> K400 -> ActivityNet, 32 frames at 224.
# Official exp/anet/anet_l14_f32x224: batch 64 (8 per GPU x 8 GPUs), lr 5e-6,
# 20 epochs (5 warmup), drop path 0.2 / 0.4, new classifier; test 32x3x10,
# softmax averaged.
_base_ = ['./uniformerv2-large-p14-res224_clip-k710-k400-pre_u16_activitynet-rgb.py']
from uniformer_mm.models.config_utils import uniformerv2_model  # noqa: E402

model = uniformerv2_model(
    t_size=32, checkpoint='k400+k710_uniformerv2_l14_32x224.pyth')
clip_len = 32

# paper: top-1 89.7 (mmaction2 89.5/98.4), params 354M, FLOPs 6268G x 2 clips x
# 3 crops
# UniFormerV2-L/14@336, CLIP-400M -> K710 -> Kinetics-400, 32 frames at 336.
# Official exp/k400/k400+k710_l14_f32x336: batch 128 (16 per GPU x 8 GPUs), lr
# 1.5e-6, 5 epochs (1 warmup), from the 8-frame K710 model, activation
# checkpointing of all 24 ViT blocks, new classifier (official
# DELETE_SPECIAL_HEAD for K400); test 32x3x2, softmax averaged. The model zoo
# reports 2 clips x 3 crops (run.sh: 4 x 3).
_base_ = ['./uniformerv2-large-p14-res224_clip-k710-pre_u32_kinetics400-rgb.py']
from uniformer_mm.models.config_utils import uniformerv2_model  # noqa: E402

model = uniformerv2_model(
    'vit-l14-336',
    with_cp=True,
    checkpoint_num=24,
    checkpoint='k710_uniformerv2_l14_8x336.pyth')
crop_size = 336
train_short_side = 384

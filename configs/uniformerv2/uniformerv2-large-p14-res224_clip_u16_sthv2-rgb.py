# paper: top-1 72.1, params 574M, FLOPs 858G (estimated) x 1 clip x 3 crops
# UniFormerV2-L/14 with local and global UniBlocks from CLIP-400M, 16 frames at
# 224, Something-Something V2. Official exp/sthv2/ssv2_l14_f16x224: batch 128
# (16 per GPU x 8 GPUs), lr 2e-5, 22 epochs (5 warmup), activation
# checkpointing of 15 ViT blocks; test 16x3x1, softmax averaged.
_base_ = ['./uniformerv2-base-p16-res224_clip_u16_sthv2-rgb.py']
from uniformer_mm.datasets.config_utils import uniformerv2_model  # noqa: E402
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = uniformerv2_model(
    'vit-l14',
    clip='vit_l14.pth',
    return_list=list(range(8, 24)),
    n_layers=16,
    with_cp=True,
    checkpoint_num=15)
optim_wrapper = dict(optimizer=dict(lr=2e-5))
param_scheduler = warmup_cosine(lr=2e-5, max_epochs=22, warmup_epochs=5)

# The model and schedule half of the UniFormerV2-L/14 Something-Something
# recipes (official exp/sthv1/ssv1_l14_*, exp/sthv2/ssv2_l14_*), without a
# data set (a row lists it with ./uniformerv2_sthv1.py or
# ./uniformerv2_sthv2.py): ./uniformerv2_ss.py with CLIP ViT-L/14, 16 global
# UniBlocks on ViT blocks 8..23, activation checkpointing of 15 ViT blocks;
# AdamW lr 2e-5 for 128 videos, 22 epochs (5 warmup).
_base_ = ['./uniformerv2_ss.py']
from uniformer_mm.models.config_utils import uniformerv2_model  # noqa: E402
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

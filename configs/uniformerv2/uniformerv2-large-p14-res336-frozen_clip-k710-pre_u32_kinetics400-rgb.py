# paper: top-1 88.9, params 354M, FLOPs 6268G (estimated) x 4 clips x 3 crops
# UniFormerV2-L/14@336 with a frozen CLIP backbone, CLIP-400M -> K710 ->
# Kinetics-400, 32 frames. Official exp/k400/frozen_k400+k710_l14_f32x336:
# batch 256 (32 per GPU x 8 GPUs), lr 5e-5, 5 epochs (1 warmup), from the
# frozen K710 model, new classifier (official DELETE_SPECIAL_HEAD for K400);
# test 32x3x4, softmax averaged. The model zoo reports 4 clips x 3 crops
# (run.sh: 3 x 1).
_base_ = ['../_base_/recipes/uniformerv2_k400.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(
        arch='vit-l14-336',
        t_size=32,
        frozen=True,  # only the global UniBlocks and the head train
        clip_pretrained=None,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/uniformerv2/'
            'frozen_k710_uniformerv2_l14_8x336.pyth',
            prefix='backbone.')),
    cls_head=dict(
        in_channels=1024))

clip_len = 32
crop_size = 336
train_short_side = 384
train_dataloader = dict(batch_size=32)  # x 8 GPUs = the official 256

optim_wrapper = dict(optimizer=dict(lr=5e-5))
param_scheduler = warmup_cosine(lr=5e-5, max_epochs=5, warmup_epochs=1)
train_cfg = dict(max_epochs=5)
auto_scale_lr = dict(base_batch_size=256)

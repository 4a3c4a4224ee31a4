# paper: top-1 87.8, params 354M, FLOPs 1567G (estimated) x 3 clips x 1 crop
# UniFormerV2-L/14@336 with a frozen CLIP backbone, CLIP-400M -> K710 ->
# Kinetics-400, 8 frames. Official exp/k400/frozen_k400+k710_l14_f8x336: batch
# 512 (64 per GPU x 8 GPUs), lr 5e-5, 5 epochs (1 warmup), from the frozen K710
# model, new classifier (official DELETE_SPECIAL_HEAD for K400); test 8x1x3,
# softmax averaged.
_base_ = ['../_base_/recipes/uniformerv2_k400.py']
from uniformer_mm.datasets.config_utils import update_transforms  # noqa: E402
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(
        arch='vit-l14-336',
        t_size=8,
        frozen=True,  # only the global UniBlocks and the head train
        clip_pretrained=None,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/uniformerv2/'
            'frozen_k710_uniformerv2_l14_8x336.pyth',
            prefix='backbone.')),
    cls_head=dict(
        in_channels=1024))

train_dataloader = dict(
    update_transforms(
        _base_.train_dataloader,
        Resize=dict(scale=(-1, 384)),
        FusedRandomResizedCropFlip=dict(scale=336)),
    batch_size=64)  # x 8 GPUs = the official 512
val_dataloader = update_transforms(
    _base_.val_dataloader,
    OfficialShortSideResize=dict(short_side=336),
    OfficialCenterCrop=dict(crop_size=336))
test_dataloader = update_transforms(
    _base_.test_dataloader,
    UniformSample=dict(num_clips=3),
    OfficialShortSideResize=dict(short_side=336),
    OfficialThreeCrop=dict(type='OfficialCenterCrop', crop_size=336))

optim_wrapper = dict(optimizer=dict(lr=5e-5))
param_scheduler = warmup_cosine(lr=5e-5, max_epochs=5, warmup_epochs=1)
train_cfg = dict(max_epochs=5)
auto_scale_lr = dict(base_batch_size=512)

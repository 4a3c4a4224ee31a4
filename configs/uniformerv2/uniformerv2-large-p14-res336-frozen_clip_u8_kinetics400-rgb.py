# paper: top-1 86.7, params 354M, FLOPs 1567G (estimated) x 3 clips x 1 crop
# UniFormerV2-L/14@336 with a frozen CLIP backbone (only the global UniBlocks
# and the head train), 8 frames, Kinetics-400. Official
# exp/k400/frozen_k400_l14_f8x336: batch 512 (64 per GPU x 8 GPUs), lr 8e-4, 50
# epochs, no warmup; test 8x1x3 (frames x crops x clips), softmax averaged.
_base_ = ['../_base_/recipes/uniformerv2_k400.py']
from uniformer_mm.models.config_utils import uniformerv2_model  # noqa: E402
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

model = uniformerv2_model(
    'vit-l14-336',
    frozen=True,  # only the global UniBlocks and the head train
    clip='vit_l14_336.pth')

num_test_clips = 3
crop_size = 336
train_short_side = 384
test_crop = dict(type='OfficialCenterCrop')

(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=64, lr=8e-4, max_epochs=50, warmup_epochs=0)

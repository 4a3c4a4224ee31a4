# paper: no accuracy reported, params 354M, FLOPs 1567G (estimated) x 4 clips x
# 3 crops
# UniFormerV2-L/14@336 post-pretraining on Kinetics-710 from CLIP-400M, 8
# frames. Official exp/k710/k710_l14_f8x336: batch 256 (32 per GPU x 8 GPUs),
# lr 5e-6, 40 epochs (5 warmup); test 8x3x4, softmax averaged.
_base_ = ['../_base_/recipes/uniformerv2_k710.py']
from uniformer_mm.models.config_utils import uniformerv2_model  # noqa: E402
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

model = uniformerv2_model('vit-l14-336', clip='vit_l14_336.pth')

crop_size = 336
train_short_side = 384

(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=32, lr=5e-6, max_epochs=40, warmup_epochs=5)

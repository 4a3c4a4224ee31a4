# paper: top-1 87.8, params 354M, FLOPs 1567G (estimated) x 3 clips x 1 crop
# UniFormerV2-L/14@336 with a frozen CLIP backbone, CLIP-400M -> K710 ->
# Kinetics-400, 8 frames. Official exp/k400/frozen_k400+k710_l14_f8x336: batch
# 512 (64 per GPU x 8 GPUs), lr 5e-5, 5 epochs (1 warmup), from the frozen K710
# model, new classifier (official DELETE_SPECIAL_HEAD for K400); test 8x1x3,
# softmax averaged.
_base_ = ['./uniformerv2-large-p14-res336-frozen_clip_u8_kinetics400-rgb.py']
from uniformer_mm.models.config_utils import uniformerv2_model  # noqa: E402
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

model = uniformerv2_model(checkpoint='frozen_k710_uniformerv2_l14_8x336.pyth')

(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=64, lr=5e-5, max_epochs=5, warmup_epochs=1)

# paper: top-1 47.0 (mmaction2 47.0/76.1), params 354M, FLOPs 666G x 4 clips x
# 3 crops
# UniFormerV2-L/14, CLIP-400M -> K710 -> K400 -> Moments in Time V1, 8 frames.
# Official exp/mit/mit_l14_f8x224: batch 512 (64 per GPU x 8 GPUs), lr 1e-5, 18
# epochs (5 warmup), new classifier; test 8x3x4, softmax averaged.
_base_ = ['../_base_/recipes/uniformerv2_mit.py']
from uniformer_mm.models.config_utils import uniformerv2_model  # noqa: E402
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

model = uniformerv2_model(
    'vit-l14', checkpoint='k400+k710_uniformerv2_l14_8x224.pyth')

(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=64, lr=1e-5, max_epochs=18, warmup_epochs=5)

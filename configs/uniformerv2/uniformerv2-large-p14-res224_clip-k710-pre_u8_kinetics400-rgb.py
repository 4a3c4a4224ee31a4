# paper: top-1 88.8 (mmaction2 88.7/98.1), params 354M, FLOPs 666G x 4 clips x
# 3 crops
# UniFormerV2-L/14, CLIP-400M -> K710 -> Kinetics-400, 8 frames at 224.
# Official exp/k400/k400+k710_l14_f8x224: batch 256 (32 per GPU x 8 GPUs), lr
# 1.5e-6, 5 epochs (1 warmup), from the 8-frame K710 model, new classifier
# (official DELETE_SPECIAL_HEAD for K400); test 8x3x4, softmax averaged.
_base_ = ['../_base_/recipes/uniformerv2_k400.py']
from uniformer_mm.models.config_utils import uniformerv2_model  # noqa: E402
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

model = uniformerv2_model(
    'vit-l14', checkpoint='k710_uniformerv2_l14_8x224.pyth')

(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=32, lr=1.5e-6, max_epochs=5, warmup_epochs=1)

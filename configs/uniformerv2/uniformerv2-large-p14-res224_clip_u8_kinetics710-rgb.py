# paper: no accuracy reported, params 354M, FLOPs 666G x 4 clips x 3 crops
# UniFormerV2-L/14 post-pretraining on Kinetics-710 from CLIP-400M, 8 frames at
# 224. Official exp/k710/k710_l14_f8x224: batch 512 (64 per GPU x 8 GPUs), lr
# 1e-5, 40 epochs (5 warmup); test 8x3x4, softmax averaged.
_base_ = ['../_base_/recipes/uniformerv2_k710.py']
from uniformer_mm.models.config_utils import uniformerv2_model  # noqa: E402
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

model = uniformerv2_model('vit-l14', clip='vit_l14.pth')


(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=64, lr=1e-5, max_epochs=40, warmup_epochs=5)

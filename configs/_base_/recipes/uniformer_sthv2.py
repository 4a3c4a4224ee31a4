# UniFormer (V1) video recipe on Something-Something V2 (official
# video_classification/exp/uniformer_{s,b}{16,32}_sthv2_prek{400,600}),
# defaults = S, 16 frames, Kinetics-400 pre-trained:
#
# * model: UniFormer-S video backbone (drop path 0.3) initialised from the
#   Kinetics-400 16x4 video checkpoint (its classifier is dropped); I3DHead;
# * data (JPEG frames at 30 fps, BGR): segment sampling of 16 frames,
#   RandAugment m7-n4, random-resized crop without flip, random erasing 0.25, 2
#   repeated augmentations, mixup 0.8 / cutmix 1.0 + label smoothing 0.1
#   (configs/_base_/datasets/sthv2.py); test 1 clip x 3 crops, logits summed
#   (averaged) over the views (average_clips='score');
# * schedule: AdamW lr 2e-4 for 32 videos (4 per GPU x 8 GPUs), wd 0.05
#   (none for norms / biases / 1-D), clip 20, warmup 5 + cosine, 50 epochs.
_base_ = ['./uniformer_video_prek400.py', '../datasets/sthv2.py']
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

# BGR input, as the official frame loader (cv2): our decoders give RGB and
# to_rgb=True reverses the channels
model = dict(
    backbone=dict(drop_path_rate=0.3),
    data_preprocessor=dict(to_rgb='${bgr_input}'))
# 4 videos per GPU x 8 GPUs = the official 32
(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=4, lr=2e-4, max_epochs=50, warmup_epochs=5, val_interval=1)

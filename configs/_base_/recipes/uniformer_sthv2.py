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
_base_ = [
    '../models/uniformer_video.py', '../datasets/sthv2.py',
    '../schedules/adamw_cosine_uniformer_video.py', '../default_runtime.py'
]
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(
        arch='small',
        drop_path_rate=0.3,
        # official Kinetics video weights; where to get them:
        # docs/checkpoints.md
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/uniformer_small_k400_16x4.pth')),
    cls_head=dict(
        num_classes='${num_classes}',
        label_smooth_eps='${label_smooth_eps}',
        average_clips='score'),
    # BGR input, as the official frame loader (cv2): our decoders give RGB
    # and to_rgb=True reverses the channels
    data_preprocessor=dict(
        blending='${blending}', to_rgb='${bgr_input}'))

train_dataloader = dict(batch_size=4)  # x 8 GPUs = the official 32
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = warmup_cosine(lr=2e-4, max_epochs=50, warmup_epochs=5)
train_cfg = dict(max_epochs=50, val_interval=1)
auto_scale_lr = dict(base_batch_size=32)

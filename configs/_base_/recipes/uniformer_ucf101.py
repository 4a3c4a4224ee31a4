# UniFormer (V1) video recipe on UCF101 split 1 (official video_classification/
# exp/uniformer_s16x4_ucf101_prek400):
#
# * model: UniFormer-S video backbone (drop path 0.2) initialised from the
#   Kinetics-400 16x4 video checkpoint (its classifier is dropped); I3DHead;
# * data: dense 16x4 sampling (the official rule), RandAugment m5-n2-mstd0.25,
#   random-resized crop + flip, random erasing 0.25, 2 repeated augmentations,
#   mixup 0.8 / cutmix 1.0 + label smoothing 0.1
#   (configs/_base_/datasets/ucf101.py); test 5 clips x 3 crops, logits summed
#   (averaged) over the views;
# * schedule: AdamW lr 5e-5 for 128 videos (16 per GPU x 8 GPUs; not scaled
#   by the number of machines), wd 0.05 (none for norms / biases / 1-D),
#   clip 20, warmup 5 + cosine, 25 epochs.
_base_ = [
    '../models/uniformer_video.py', '../datasets/ucf101.py',
    '../schedules/adamw_cosine_uniformer_video.py', '../default_runtime.py'
]
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(
        arch='small',
        drop_path_rate=0.2,
        # official Kinetics-400 video weights; where to get them:
        # docs/checkpoints.md
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/uniformer_small_k400_16x4.pth')),
    cls_head=dict(
        num_classes='${num_classes}',
        label_smooth_eps='${label_smooth_eps}',
        average_clips='score'),
    data_preprocessor=dict(blending='${blending}'))

train_dataloader = dict(batch_size=16)  # x 8 GPUs = the official 128
optim_wrapper = dict(optimizer=dict(lr=5e-5))
param_scheduler = warmup_cosine(lr=5e-5, max_epochs=25, warmup_epochs=5)
train_cfg = dict(max_epochs=25, val_interval=1)
auto_scale_lr = dict(base_batch_size=128)

# Light ("hourglass") UniFormer video recipe on Kinetics-400 (official
# video_classification/exp_light/uniformer_xxs*_k400, xs32_192), defaults =
# XXS, 16 frames at 160 px (uniformer_xxs16_160_k400):
#
# * model: UniFormer-XXS video backbone (drop path 0.05, attention in FP32,
#   first 4 stage-3 blocks with activation checkpointing as the official
#   CHECKPOINT_NUM [0, 0, 4, 0]) initialised from the 160-px ImageNet-1k
#   image checkpoint, inflated to 3D; two classifiers (0.5 x CE(pooled) +
#   0.5 x CE(class token));
# * data: sparse sampling (one frame per segment), RandAugment
#   m5-n2-mstd0.25, random-resized crop 160 + flip, random erasing 0.25, 2
#   repeated augmentations, mixup 0.8 / cutmix 1.0 + label smoothing 0.1
#   (configs/_base_/datasets/kinetics400_light.py; short side before the
#   crop = the lower end of the official jitter, 192 for 160 px); test 1 clip
#   x 1 centre crop at the training resolution;
# * schedule: AdamW lr 8e-4 for 256 videos (32 per GPU x 8 GPUs), wd 0.1
#   (none for norms / biases / 1-D / the class token), clip 20, warmup 10 +
#   cosine, 110 epochs.
_base_ = [
    '../models/uniformer_light_video.py', '../datasets/kinetics400_light.py',
    '../schedules/adamw_cosine_uniformer_video.py', '../default_runtime.py'
]
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(
        arch='xxs',
        drop_path_rate=0.05,
        fp32_attention=True,
        with_cp=[0, 0, 4, 0],
        # official ImageNet-1k weights of the light image model of the
        # backbone's size at the training resolution (2D -> 3D inflation on
        # load); where to get them: docs/checkpoints.md
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/uniformer_${model.backbone.arch}_'
            '${crop_size}_in1k.pth')),
    cls_head=dict(
        num_classes='${num_classes}',
        in_channels=448,
        label_smooth_eps='${label_smooth_eps}',
        average_clips='score'),
    data_preprocessor=dict(blending='${blending}'))

train_short_side = 192
train_dataloader = dict(batch_size=32)  # x 8 GPUs = the official 256
optim_wrapper = dict(optimizer=dict(lr=8e-4, weight_decay=0.1))
param_scheduler = warmup_cosine(lr=8e-4, max_epochs=110, warmup_epochs=10)
auto_scale_lr = dict(base_batch_size=256)

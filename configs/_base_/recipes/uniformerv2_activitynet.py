# UniFormerV2 recipe on ActivityNet (official exp/anet/*), defaults = L/14, 16
# frames at 224 (anet_l14_f16x224), from the K710 -> K400 model:
#
# * model: CLIP ViT-L/14 + 4 global UniBlocks, drop path 0.2 (ViT) / 0.4
#   (global blocks), 200 classes, activation checkpointing of the first ViT
#   block (official CHECKPOINT_NUM [1]); initialised from the official
#   CLIP -> K710 -> K400 L/14 checkpoint of the same number of frames
#   without its classifier (DELETE_SPECIAL_HEAD);
# * data: trimmed action segments for training, whole videos for
#   validation; sparse 16 frames, RandAugment m7-n4, random-resized crop +
#   flip, plain cross-entropy (configs/_base_/datasets/activitynet.py); test 10
#   clips x 3 crops, softmax averaged;
# * schedule: AdamW lr 5e-6 for 64 videos (8 per GPU x 8 GPUs), wd 0.05,
#   clip 20, warmup 5 + cosine, 20 epochs.
_base_ = [
    '../models/uniformerv2_b16.py', '../datasets/activitynet.py',
    '../schedules/adamw_cosine_uniformerv2.py', '../default_runtime.py'
]
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

model = dict(
    backbone=dict(
        arch='vit-l14',
        t_size=16,
        backbone_drop_path_rate=0.2,
        drop_path_rate=0.4,
        with_cp=True,
        checkpoint_num=1,
        # official K710 -> K400 weights (backbone only); where to get them:
        # docs/checkpoints.md
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/uniformerv2/'
            'k400+k710_uniformerv2_l14_16x224.pyth',
            prefix='backbone.')),
    cls_head=dict(num_classes='${num_classes}', in_channels=1024))

(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=8, lr=5e-6, max_epochs=20, warmup_epochs=5)

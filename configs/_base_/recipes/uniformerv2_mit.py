# UniFormerV2 recipe on Moments in Time V1 (official exp/mit/*), defaults =
# B/16, 8 frames at 224 (mit_b16_f8x224), from the K710 -> K400 model:
#
# * model: ViT-B/16 + 4 global UniBlocks, 339 classes, initialised from the
#   official CLIP -> K710 -> K400 B/16 checkpoint without its classifier
#   (official DELETE_SPECIAL_HEAD);
# * data: sparse 8 frames, RandAugment m7-n4, random-resized crop + flip,
#   plain cross-entropy (configs/_base_/datasets/mit.py); test 4 clips x 3
#   crops, softmax averaged;
# * schedule: AdamW lr 2e-5 for 512 videos (64 per GPU x 8 GPUs), wd 0.05,
#   clip 20, warmup 5 + cosine, 24 epochs.
_base_ = [
    '../models/uniformerv2_b16.py', '../datasets/mit.py',
    '../schedules/adamw_cosine_uniformerv2.py', '../default_runtime.py'
]
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

model = dict(
    backbone=dict(
        t_size=8,
        # official K710 -> K400 weights (backbone only); where to get them:
        # docs/checkpoints.md
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/uniformerv2/'
            'k400+k710_uniformerv2_b16_8x224.pyth',
            prefix='backbone.')),
    cls_head=dict(num_classes='${num_classes}'))

(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=64, lr=2e-5, max_epochs=24, warmup_epochs=5)

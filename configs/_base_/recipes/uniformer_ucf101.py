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
_base_ = ['./uniformer_video_prek400.py', '../datasets/ucf101.py']
from uniformer_mm.engine.schedules import video_schedule  # noqa: E402

# 16 videos per GPU x 8 GPUs = the official 128
(train_dataloader, optim_wrapper, param_scheduler, train_cfg,
 auto_scale_lr) = video_schedule(
     batch_size=16, lr=5e-5, max_epochs=25, warmup_epochs=5, val_interval=1)

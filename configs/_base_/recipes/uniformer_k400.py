# UniFormer (V1) video recipe on Kinetics-400 (official video_classification/
# exp/uniformer_{s,b}*_k400), defaults = S 16x4:
#
# * model (./uniformer_video.py): UniFormer-S video backbone (drop path 0.1)
#   initialised from the ImageNet-1k image checkpoint, inflated to 3D;
#   I3DHead;
# * data: dense 16x4 sampling (the official rule), RandAugment m7-n4,
#   random-resized crop + flip, random erasing 0.25, 2 repeated augmentations,
#   mixup 0.8 / cutmix 1.0 + label smoothing 0.1
#   (configs/_base_/datasets/kinetics400_dense.py); test 4 clips x 1 crop
#   (short side 224), logits summed (averaged) over the views (official
#   ENSEMBLE_METHOD sum: average_clips='score');
# * schedule: AdamW lr 1e-4 for 32 videos (4 per GPU x 8 GPUs), wd 0.05 (none
#   for norms / biases / 1-D), clip 20, warmup 10 + cosine, 110 epochs.
_base_ = ['./uniformer_video.py', '../datasets/kinetics400_dense.py']

train_dataloader = dict(batch_size=4)  # x 8 GPUs = the official 32

# UniFormerV2 recipe on Kinetics-400 (official exp/k400/*, run.sh), defaults
# = B/16 from CLIP, 8 frames at 224 (k400_b16_f8x224):
#
# * model: CLIP ViT-B/16 + 4 global UniBlocks (no local MHRA, no temporal
#   downsampling), head dropout 0.5; the ViT initialised from the CLIP
#   weights (clip_pretrained);
# * data: sparse sampling of 8 frames, RandAugment m7-n4, random-resized
#   crop + flip, no random erasing / repeated augmentation / mixup, plain
#   cross-entropy (configs/_base_/datasets/kinetics400.py); test 4 clips x 3
#   crops, softmax averaged over the views (TEST.ADD_SOFTMAX:
#   average_clips='prob');
# * schedule: AdamW lr 1e-5 for 256 videos (32 per GPU x 8 GPUs), wd 0.05
#   (none for norms / biases / 1-D), clip 20, warmup 5 + cosine, 55 epochs.
_base_ = ['./uniformerv2_clip_b16.py', '../datasets/kinetics400.py']

train_dataloader = dict(batch_size=32)  # x 8 GPUs = the official 256

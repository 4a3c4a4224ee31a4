# UniFormerV2 recipe on Kinetics-600 (official exp/k600/*, run.sh), defaults
# = B/16 from CLIP, 8 frames at 224 (k600_b16_f8x224):
#
# * model: CLIP ViT-B/16 + 4 global UniBlocks (no local MHRA, no temporal
#   downsampling), head dropout 0.5; the ViT initialised from the CLIP
#   weights (clip_pretrained);
# * data: sparse sampling of 8 frames, RandAugment m7-n4, random-resized
#   crop + flip, no random erasing / repeated augmentation / mixup, plain
#   cross-entropy (configs/_base_/datasets/kinetics600.py); test 4 clips x 3
#   crops, softmax averaged over the views (TEST.ADD_SOFTMAX:
#   average_clips='prob');
# * schedule: AdamW lr 1e-5 for 256 videos (32 per GPU x 8 GPUs), wd 0.05
#   (none for norms / biases / 1-D), clip 20, warmup 5 + cosine, 55 epochs.
_base_ = ['./uniformerv2_k400.py']

# the data of ../datasets/kinetics600.py
dataset_name = 'kinetics600'
num_classes = 600

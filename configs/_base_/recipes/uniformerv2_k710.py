# UniFormerV2 post-pretraining on Kinetics-710 (official exp/k710/*),
# defaults = B/16 from CLIP, 8 frames at 224 (k710_b16_f8x224):
#
# * model: CLIP ViT-B/16 + 4 global UniBlocks, 710 classes;
# * data: K400 + K600 + K700 training videos with labels mapped to K710,
#   de-duplicated, validation videos removed (configs/_base_/datasets/
#   kinetics710.py); sparse 8 frames, RandAugment m7-n4, random-resized
#   crop + flip, plain cross-entropy; test 4 clips x 3 crops, softmax
#   averaged;
# * schedule: AdamW lr 1e-5 for 256 videos (32 per GPU x 8 GPUs), wd 0.05,
#   clip 20, warmup 5 + cosine, 55 epochs.
_base_ = ['./uniformerv2_clip_b16.py', '../datasets/kinetics710.py']

train_dataloader = dict(batch_size=32)  # x 8 GPUs = the official 256

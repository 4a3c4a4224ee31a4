# UniFormerV2 recipe on HACS (official exp/hacs/*), defaults = L/14, 16
# frames at 224 (hacs_l14_f16x224), from the K710 -> K400 model:
#
# * model: CLIP ViT-L/14 + 4 global UniBlocks, drop path 0.2 (ViT) / 0.4
#   (global blocks), 200 classes, activation checkpointing of the first ViT
#   block (official CHECKPOINT_NUM [1]); initialised from the official
#   CLIP -> K710 -> K400 L/14 checkpoint of the same number of frames
#   without its classifier (DELETE_SPECIAL_HEAD);
# * data: trimmed action segments for training, whole videos for
#   validation; sparse 16 frames, RandAugment m7-n4, random-resized crop +
#   flip, plain cross-entropy (configs/_base_/datasets/hacs.py); test 10
#   clips x 3 crops, softmax averaged;
# * schedule: AdamW lr 5e-6 for 64 videos (8 per GPU x 8 GPUs), wd 0.05,
#   clip 20, warmup 5 + cosine, 20 epochs.
_base_ = ['./uniformerv2_activitynet.py']

# the data of ../datasets/hacs.py
dataset_name = 'hacs'
ann_file_train = 'data/hacs/hacs_train_list_videos.txt'
ann_file_val = 'data/hacs/hacs_val_list_videos.txt'
label_map = 'uniformer_mm::label_maps/activitynet.txt'

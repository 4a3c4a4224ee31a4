# paper: top-1 95.4, params 354M, FLOPs 2662G (estimated) x 10 clips x 3 crops
# UniFormerV2-L/14, CLIP-400M -> K710 -> K400 -> HACS, 32 frames at 224.
# Official exp/hacs/hacs_l14_f32x224: batch 64 (8 per GPU x 8 GPUs), lr 5e-6,
# 20 epochs (5 warmup), drop path 0.2 / 0.4, new classifier; test 32x3x10,
# softmax averaged.
_base_ = ['./uniformerv2-large-p14-res224_clip-k710-k400-pre_u32_activitynet-rgb.py']

dataset_name = 'hacs'
ann_file_train = 'data/hacs/hacs_train_list_videos.txt'
ann_file_val = 'data/hacs/hacs_val_list_videos.txt'
label_map = 'uniformer_mm::label_maps/activitynet.txt'

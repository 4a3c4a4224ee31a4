# paper: top-1 90.0, params 354M, FLOPs 12536G (estimated) x 2 clips x 3 crops
# UniFormerV2-L/14@336, CLIP-400M -> K710 -> Kinetics-400, 64 frames at 336.
# Official exp/k400/k400+k710_l14_f64x336: batch 128 (16 per GPU x 8 GPUs), lr
# 1.5e-6, 5 epochs (1 warmup), from the 8-frame K710 model, activation
# checkpointing of all 24 ViT blocks, new classifier (official
# DELETE_SPECIAL_HEAD for K400); test 64x3x2, softmax averaged. The model zoo
# reports 2 clips x 3 crops (run.sh: 4 x 3).
_base_ = ['./uniformerv2-large-p14-res336_clip-k710-pre_u32_kinetics400-rgb.py']

model = dict(backbone=dict(t_size=64))
clip_len = 64

# paper: top-1 90.0, params 354M, FLOPs 12536G (estimated) x 2 clips x 3 crops
# UniFormerV2-L/14@336, CLIP-400M -> K710 -> Kinetics-400, 64 frames at 336.
# Official exp/k400/k400+k710_l14_f64x336: batch 128 (16 per GPU x 8 GPUs), lr
# 1.5e-6, 5 epochs (1 warmup), from the 8-frame K710 model, activation
# checkpointing of all 24 ViT blocks, new classifier (official
# DELETE_SPECIAL_HEAD for K400); test 64x3x2, softmax averaged. The model zoo
# reports 2 clips x 3 crops (run.sh: 4 x 3).
_base_ = ['./uniformerv2-large-p14-res224_clip-k710-pre_u8_kinetics400-rgb.py']

model = dict(
    backbone=dict(
        arch='vit-l14-336',
        t_size=64,
        with_cp=True,
        checkpoint_num=24,
        clip_pretrained=None,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/uniformerv2/'
            'k710_uniformerv2_l14_8x336.pyth',
            prefix='backbone.')),
    cls_head=dict(
        in_channels=1024))
clip_len = 64
num_test_clips = 2
crop_size = 336
train_short_side = 384
train_dataloader = dict(batch_size=16)  # x 8 GPUs = the official 128
auto_scale_lr = dict(base_batch_size=128)

# paper: AP 76.2 (AP50 90.6, AP75 83.2, AR 81.4), FLOPs 14.8G
# UniFormer-S, top-down heatmaps, COCO 448x320, ImageNet-1k init. Official
# exp/top_down_448x320_global_small: drop path 0.2, AdamW lr 1e-3, batch 512
# (64 x 8 GPUs), heatmap sigma 3.
_base_ = ['./_base_/td-hm_uniformer_8xb64-210e_coco-448x320.py']

model = dict(
    backbone=dict(
        arch='small',
        drop_path_rate=0.2,
        init_cfg=dict(checkpoint='checkpoints/uniformer_small_in1k.pth')))
optim_wrapper = dict(optimizer=dict(lr=1e-3))

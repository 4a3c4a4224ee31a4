# UniFormer (V1) video recipe fine-tuned from the Kinetics-400 16x4 video
# model, without its data (./uniformer_ucf101.py, ./uniformer_sthv1.py,
# ./uniformer_sthv2.py add their data set and schedule): ./uniformer_video.py
# with drop path 0.2 and the Kinetics-400 16x4 checkpoint of the backbone's
# size (its classifier is dropped).
_base_ = ['./uniformer_video.py']

model = dict(
    backbone=dict(
        drop_path_rate=0.2,
        # official Kinetics video weights; where to get them:
        # docs/checkpoints.md
        init_cfg=dict(
            checkpoint='checkpoints/uniformer_${model.backbone.arch}_k400_16x4'
            '.pth')))

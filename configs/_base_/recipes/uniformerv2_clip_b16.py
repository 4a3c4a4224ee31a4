# The model and schedule half of the UniFormerV2 recipes that start from
# CLIP ViT-B/16, without a data set: a recipe lists it with its data set file
# and adds what it changes in the data (./uniformerv2_k400.py:
#   _base_ = ['./uniformerv2_clip_b16.py', '../datasets/kinetics400.py']
# and ./uniformerv2_k710.py; ./uniformerv2_ss.py for Something-Something).
#
# * model: ../models/uniformerv2_b16.py, 8 frames, the ViT initialised from
#   the CLIP weights (clip_pretrained), the data set's number of classes;
# * schedule: ../schedules/adamw_cosine_uniformerv2.py (AdamW lr 1e-5 for 256
#   videos, wd 0.05, clip 20, warmup 5 + cosine, 55 epochs).
_base_ = [
    '../models/uniformerv2_b16.py', '../schedules/adamw_cosine_uniformerv2.py',
    '../default_runtime.py'
]

model = dict(
    backbone=dict(
        t_size=8,
        # OpenAI CLIP ViT-B/16 (the .pt release or the extracted visual
        # encoder); where to get it: docs/checkpoints.md
        clip_pretrained='checkpoints/clip/vit_b16.pth'),
    cls_head=dict(num_classes='${num_classes}'))

# paper: top-1 80.8 (mmaction2 80.8/95.2), params 354M, FLOPs 666G x 4 clips x
# 3 crops
# UniFormerV2-L/14, CLIP-400M -> K710 -> Kinetics-700, 8 frames at 224.
# Official exp/k700/k700+k710_l14_f8x224: batch 256 (32 per GPU x 8 GPUs), lr
# 1.5e-6, 5 epochs (1 warmup), from the 8-frame K710 model, classifier
# initialised from the K710 rows of the K700 classes; test 8x3x4, softmax
# averaged.
_base_ = ['../_base_/recipes/uniformerv2_k700.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(
        arch='vit-l14',
        t_size=8,
        clip_pretrained=None,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/uniformerv2/'
            'k710_uniformerv2_l14_8x224.pyth',
            prefix='backbone.')),
    # K710 classifier rows of the K700 classes (official label_mixto700.json;
    # channel map: docs/datasets/kinetics.md)
    cls_head=dict(
        in_channels=1024,
        channel_map='uniformer_mm::label_maps/k710_channel_map_k700.json',
        init_cfg=dict(
            _delete_=True,
            type='Pretrained',
            checkpoint='checkpoints/uniformerv2/'
            'k710_uniformerv2_l14_8x224.pyth',
            prefix='cls_head.')))

train_dataloader = dict(batch_size=32)  # x 8 GPUs = the official 256

optim_wrapper = dict(optimizer=dict(lr=1.5e-6))
param_scheduler = warmup_cosine(lr=1.5e-6, max_epochs=5, warmup_epochs=1)
train_cfg = dict(max_epochs=5)
auto_scale_lr = dict(base_batch_size=256)

# paper: top-1 86.1 (mmaction2 86.1/97.2), params 115M, FLOPs 148G x 4 clips x
# 3 crops
# UniFormerV2-B/16, CLIP-400M -> K710 -> Kinetics-600, 8 frames at 224.
# Official exp/k600/k600+k710_b16_f8x224: batch 256 (32 per GPU x 8 GPUs), lr
# 2e-6, 5 epochs (1 warmup), from the K710 model, classifier initialised from
# the K710 rows of the K600 classes; test 8x3x4, softmax averaged.
_base_ = ['../_base_/recipes/uniformerv2_k600.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(
        clip_pretrained=None,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/uniformerv2/'
            'k710_uniformerv2_b16_8x224.pyth',
            prefix='backbone.')),
    # K710 classifier rows of the K600 classes (official label_mixto600.json;
    # channel map: docs/datasets/kinetics.md)
    cls_head=dict(
        channel_map='uniformer_mm::label_maps/k710_channel_map_k600.json',
        init_cfg=dict(
            _delete_=True,
            type='Pretrained',
            checkpoint='checkpoints/uniformerv2/'
            'k710_uniformerv2_b16_8x224.pyth',
            prefix='cls_head.')))

optim_wrapper = dict(optimizer=dict(lr=2e-6))
param_scheduler = warmup_cosine(lr=2e-6, max_epochs=5, warmup_epochs=1)
train_cfg = dict(max_epochs=5)
auto_scale_lr = dict(base_batch_size=256)

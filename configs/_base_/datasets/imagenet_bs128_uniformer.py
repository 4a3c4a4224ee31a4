# ImageNet-1k for the UniFormer (V1) image models (mmpretrain), 128 per GPU
#
# The DeiT recipe of the official image_classification/main.py:
# RandomResizedCrop 224 (area 0.08-1, aspect 3/4-4/3, bicubic) + flip ->
# RandAugment rand-m9-mstd0.5-inc1 (mmpretrain's cv2-based ``RandAugment``
# with timm's increasing op set: 2 ops, magnitude 9, std 0.5, fill = the
# ImageNet mean) -> random erasing 0.25 (per-pixel normal noise) ->
# repeated augmentation (``RepeatAugSampler``, 3 repeats spread over the
# GPUs, as DeiT's RASampler; the light XXS/XS runs do not use it: set
# ``sampler=dict(type='DefaultSampler', shuffle=True)``); mixup 0.8 /
# cutmix 1.0 (switch 0.5) and label smoothing 0.1 in the model (below).
# Colour jitter 0.4 is not applied: timm only uses it without RandAugment.
# Test: resize the short side to int(256 / 224 * 224) = 256 (long side
# int(256 * L / S), PIL bicubic) -> centre crop 224 (offsets round((L - 224)
# / 2)): the arithmetic and kernel of the official eval transform
# (torchvision Resize(256, bicubic) + CenterCrop(224) on PIL images).
#
# mmpretrain data layout: data/imagenet/{train,val}/ + meta/{train,val}.txt.
#
# Batch augmentation and the loss live in the model: wire them in with
#   model = dict(train_cfg=_base_.model_train_cfg,
#                head=dict(loss=_base_.train_loss))
# Knobs: the "settings" block; a child config that changes the image size
# updates the built pipelines with ``uniformer_mm.datasets.config_utils.
# image_resolution`` (train crop, test short side floor(size / 0.875),
# centre crop; configs/README.md "Config helpers"), e.g. 192 px:
#   train_dataloader = image_resolution(_base_.train_dataloader, 192)
#   val_dataloader = image_resolution(_base_.val_dataloader, 192)  # 219
dataset_type = 'ImageNet'
data_root = 'data/imagenet'
num_classes = 1000

# ---------------------------------------------------------------- settings
img_size = 224
test_resize = int(256 / 224 * img_size)
rand_augment_magnitude = 9
rand_augment_std = 0.5
random_erasing_prob = 0.25
batch_size = 128
num_workers = 8

# mmpretrain's LoadImageFromFile gives BGR images
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]

# mixup / cutmix (mmpretrain's ImageClassifier train_cfg -> batch_augments;
# one of the two per batch with equal probability = timm's switch prob 0.5)
model_train_cfg = dict(
    augments=[dict(type='Mixup', alpha=0.8),
              dict(type='CutMix', alpha=1.0)])
train_loss = dict(
    type='LabelSmoothLoss',
    label_smooth_val=0.1,
    mode='original',
    loss_weight=1.0)

# ---------------------------------------------------------------- pipelines
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=img_size,
        crop_ratio_range=(0.08, 1.0),
        aspect_ratio_range=(3. / 4., 4. / 3.),
        backend='cv2',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=rand_augment_magnitude,
        magnitude_std=rand_augment_std,
        hparams=dict(
            pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=random_erasing_prob,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=bgr_std),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=test_resize,
        edge='short',
        backend='pillow',  # PIL's bicubic, as torchvision's Resize in DeiT
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='PackInputs'),
]

# ---------------------------------------------------------------- loaders
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=num_workers,
    persistent_workers=True,
    sampler=dict(type='RepeatAugSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
# the train loader with the val split and pipeline, without repeats
val_dataloader = dict(
    train_dataloader,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        train_dataloader['dataset'], split='val', pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator

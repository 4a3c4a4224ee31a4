# UniFormer (V1) ImageNet-1k recipe (official image_classification/exp/
# uniformer_*, DeiT-based main.py), defaults = UniFormer-S at 224:
#
# * model: UniFormer-S (drop path 0.1), global average pooling, linear head;
#   mixup 0.8 / cutmix 1.0 (one per batch) + label smoothing 0.1;
# * data: random-resized crop 224 (bicubic) + flip, RandAugment
#   rand-m9-mstd0.5-inc1, random erasing 0.25, repeated augmentation
#   (configs/_base_/datasets/imagenet_bs128_uniformer.py); test: short side
#   256 (bicubic) + centre crop 224;
# * schedule: AdamW lr 5e-4 x 1024 / 512 = 1e-3 for 1024 images (128 per
#   GPU x 8 GPUs), wd 0.05 (none for norms / biases / 1-D), warmup 5 from
#   1e-6 + cosine to 1e-5, 300 epochs.
_base_ = [
    '../models/uniformer_image.py', '../datasets/imagenet_bs128_uniformer.py',
    '../schedules/adamw_cosine_imagenet.py', '../default_runtime_image.py'
]

model = dict(
    backbone=dict(arch='small', drop_path_rate=0.1),
    head=dict(num_classes='${num_classes}', loss=_base_.train_loss),
    train_cfg=_base_.model_train_cfg)

# Light ("hourglass") UniFormer ImageNet-1k recipe (official
# image_classification/exp_light/uniformer_{xs,xxs}_*, main_light.py),
# defaults = UniFormer-XS at 224:
#
# * model: UniFormer-XS (drop path 0.1), class token + token pruning, two
#   classifiers (0.5 x CE(pooled) + 0.5 x CE(class token)); mixup 0.8 /
#   cutmix 1.0 + label smoothing 0.1;
# * data: random-resized crop 224 (bicubic) + flip, RandAugment
#   rand-m9-mstd0.5-inc1 (XXS: AutoAugment, see its rows), random erasing
#   0.25, NO repeated augmentation (configs/_base_/datasets/
#   imagenet_bs128_uniformer.py); test: short side int(256 / 224 x size) +
#   centre crop;
# * schedule: AdamW lr 5e-4 x 4096 / 512 = 4e-3 for 4096 images (512 per
#   GPU x 8 GPUs), wd 0.05 (XXS: 0.1; none for norms / biases / 1-D / the
#   class token), warmup 30 from 1e-6 + cosine to 1e-5, 600 epochs, FP32.
_base_ = [
    '../models/uniformer_light_image.py',
    '../datasets/imagenet_bs128_uniformer.py',
    '../schedules/adamw_cosine_imagenet.py', '../default_runtime_image.py'
]
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(arch='xs', drop_path_rate=0.1),
    head=dict(
        num_classes='${num_classes}', in_channels=512,
        loss=_base_.train_loss),
    train_cfg=_base_.model_train_cfg)

train_dataloader = dict(
    batch_size=512,  # x 8 GPUs = the official 4096
    sampler=dict(type='DefaultSampler', shuffle=True))
optim_wrapper = dict(optimizer=dict(lr=4e-3))
param_scheduler = warmup_cosine(
    lr=4e-3, max_epochs=600, warmup_epochs=30, min_lr=1e-5)
train_cfg = dict(max_epochs=600)
auto_scale_lr = dict(base_batch_size=4096)

# Token-labeling UniFormer ImageNet-1k recipe (official
# image_classification/token_labeling, LV-ViT-based main.py), defaults =
# UniFormer-S (head_dim 32) at 224:
#
# * model: UniFormer-S token-labeling variant (drop path 0.1): `fc` on the
#   pooled tokens + `fc_aux` on every token (inference adds 0.5 x the token
#   maximum); label smoothing 0.1, no mixup / cutmix. NOT reproduced: the
#   dense NFNet-F6 token labels and MixToken of the official training (not
#   supported by UniFormerTokenLabelHead): the token branch is trained with
#   the image label (CE of its token maximum, weight 0.5);
# * data: random-resized crop 224 (bicubic) + flip, RandAugment
#   rand-m9-mstd0.5-inc1, random erasing 0.25, no repeated augmentation
#   (timm-based training; configs/_base_/datasets/
#   imagenet_bs128_uniformer.py); test as the official validate.py (timm
#   0.4.5, the model's default crop_pct 0.9): short side floor(224 / 0.9) =
#   248 (PIL bicubic) + centre crop 224;
# * schedule: AdamW lr 1.6e-3 for 1024 images (128 per GPU x 8 GPUs), wd
#   0.05 (none for norms / biases / 1-D), warmup 5 from 1e-6 + cosine to
#   1e-5, 300 epochs.
_base_ = [
    '../models/uniformer_tl_image.py',
    '../datasets/imagenet_bs128_uniformer.py',
    '../schedules/adamw_cosine_imagenet.py', '../default_runtime_image.py'
]
from uniformer_mm.datasets.config_utils import \
    image_resolution  # noqa: E402
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(arch='small_tl', drop_path_rate=0.1),
    head=dict(num_classes='${num_classes}', loss=_base_.train_loss))

train_dataloader = dict(sampler=dict(type='DefaultSampler', shuffle=True))
# timm eval transform: Resize(floor(size / crop_pct)) + CenterCrop(size)
val_dataloader = image_resolution(_base_.val_dataloader, 224, crop_pct=0.9)
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1.6e-3))
param_scheduler = warmup_cosine(
    lr=1.6e-3, max_epochs=300, warmup_epochs=5, min_lr=1e-5)
auto_scale_lr = dict(base_batch_size=1024)

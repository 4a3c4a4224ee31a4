# paper: top-1 84.9, params 24M, FLOPs 13.7G (384 px)
# UniFormer small_plus_tl with token labeling, fine-tuned at 384 px from the
# 224-px model (official token_labeling 384 run, --finetune): batch 512 (64 per
# GPU x 8 GPUs), constant lr 5e-6, wd 1e-8, 50 epochs, no warmup; test short
# side floor(384 / 0.9) = 426 (official validate.py, crop_pct 0.9) + centre
# crop 384.
_base_ = ['../_base_/recipes/uniformer_tl_imagenet.py']
from uniformer_mm.datasets.config_utils import update_transforms  # noqa: E402
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(arch='small_plus_tl'))

# the 224-px token-labeling model (official file; converted on load):
# docs/checkpoints.md
load_from = 'checkpoints/uniformer_small_plus_tl_224.pth'

train_dataloader = dict(
    update_transforms(
        _base_.train_dataloader, RandomResizedCrop=dict(scale=384)),
    batch_size=64)  # x 8 GPUs = the official 512
val_dataloader = update_transforms(
    _base_.val_dataloader,
    ResizeEdge=dict(scale=426),
    CenterCrop=dict(crop_size=384))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=5e-6, weight_decay=1e-8))
param_scheduler = warmup_cosine(
    lr=5e-6, max_epochs=50, warmup_epochs=0, min_lr=5e-6)
train_cfg = dict(max_epochs=50)
auto_scale_lr = dict(base_batch_size=512)

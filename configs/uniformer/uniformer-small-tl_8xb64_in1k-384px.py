# paper: top-1 84.6, params 22M, FLOPs 11.9G (384 px)
# UniFormer small_tl with token labeling, fine-tuned at 384 px from the 224-px
# model (official token_labeling 384 run, --finetune): batch 512 (64 per GPU x
# 8 GPUs), constant lr 5e-6, wd 1e-8, 50 epochs, no warmup; test short side
# floor(384 / 0.9) = 426 + centre crop 384 (official validate.py, crop_pct
# 0.9).
_base_ = ['../_base_/recipes/uniformer_tl_imagenet.py']
from uniformer_mm.datasets.config_utils import image_resolution  # noqa: E402
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

# the 224-px token-labeling model (official file; converted on load):
# docs/checkpoints.md
load_from = 'checkpoints/uniformer_small_tl_224.pth'

train_dataloader = dict(
    image_resolution(_base_.train_dataloader, 384),
    batch_size=64)  # x 8 GPUs = the official 512
val_dataloader = image_resolution(_base_.val_dataloader, 384, crop_pct=0.9)
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=5e-6, weight_decay=1e-8))
param_scheduler = warmup_cosine(
    lr=5e-6, max_epochs=50, warmup_epochs=0, min_lr=5e-6)
train_cfg = dict(max_epochs=50)
auto_scale_lr = dict(base_batch_size=512)

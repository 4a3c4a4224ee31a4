# UniFormer (V1) ImageNet-1k recipe (official DeiT-based main.py): the
# shared AdamW + warmup + cosine (adamw_cosine.py) with no decay on the
# class token either and no gradient clipping; 300 epochs, linear warmup
# from 1e-6 for 5 epochs, cosine down to 1e-5.
#
# The official lr is 5e-4 x global batch / 512: 1e-3 for 8 GPUs x 128.
_base_ = ['./adamw_cosine.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

optim_wrapper = dict(
    optimizer=dict(lr=1e-3),
    paramwise_cfg=dict(custom_keys={'cls_token': dict(decay_mult=0.)}))

train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# linear warmup from 1e-06 (= 0.001 x lr) to 0.001 in 5 epochs, then
# cosine to 1e-05, per iteration
param_scheduler = warmup_cosine(
    lr=1e-3, max_epochs=300, warmup_epochs=5, min_lr=1e-5)

# 5e-4 per 512 images
auto_scale_lr = dict(base_batch_size=1024)

# UniFormer (V1) video recipe (official SlowFast fork, exp/*/run.sh): the
# solver of the same code base as UniFormerV2's (adamw_cosine_uniformerv2.py:
# AdamW, gradient clipping at norm 20, warmup from 1e-6 and cosine down to
# 1e-6, per iteration) with no weight decay on the class token of the light
# models either, and its own numbers.
#
# Defaults = UniFormer-S 16x4 on Kinetics-400: lr 1e-4 for a global batch of
# 32 videos (x 2 repeated augmentations), 110 epochs, 10 warmup epochs,
# validation every 5 epochs.
_base_ = ['./adamw_cosine_uniformerv2.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

optim_wrapper = dict(
    optimizer=dict(lr=1e-4),
    paramwise_cfg=dict(custom_keys={'cls_token': dict(decay_mult=0.)}))

train_cfg = dict(max_epochs=110, val_interval=5)

# linear warmup from 1e-06 (= 0.01 x lr) to 0.0001 in 10 epochs, then
# cosine to 1e-06, per iteration
param_scheduler = warmup_cosine(lr=1e-4, max_epochs=110, warmup_epochs=10)

auto_scale_lr = dict(base_batch_size=32)

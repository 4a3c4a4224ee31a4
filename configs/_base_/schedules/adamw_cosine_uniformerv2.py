# UniFormerV2 recipe (official SlowFast fork, exp/*/run.sh; the learning rate
# is absolute: SOLVER.BASE_LR_SCALE_NUM_SHARDS False): the shared AdamW +
# warmup + cosine (adamw_cosine.py) with gradient clipping at norm 20;
# linear warmup from 1e-6 and cosine down to 1e-6. Plain cross-entropy (no
# mixup / label smoothing).
#
# Defaults = B/16 from CLIP on Kinetics: lr 1e-5 for a global batch of 256,
# 55 epochs, 5 warmup epochs.
_base_ = ['./adamw_cosine.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

optim_wrapper = dict(
    optimizer=dict(lr=1e-5), clip_grad=dict(max_norm=20, norm_type=2))

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=55, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# linear warmup from 1e-06 (= 0.1 x lr) to 1e-05 in 5 epochs, then
# cosine to 1e-06, per iteration
param_scheduler = warmup_cosine(lr=1e-5, max_epochs=55, warmup_epochs=5)

auto_scale_lr = dict(base_batch_size=256)

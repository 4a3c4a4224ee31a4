# UniFormer (V1) video recipe (official SlowFast fork, exp/*/run.sh):
# AdamW (betas 0.9/0.999, eps 1e-8), weight decay 0.05 except BatchNorm /
# LayerNorm, biases, 1-D parameters (ZERO_WD_1D_PARAM) and the class token of
# the light models; gradient clipping at norm 20; linear warmup from 1e-6
# and cosine down to 1e-6, updated every iteration.
#
# Defaults = UniFormer-S 16x4 on Kinetics-400: lr 1e-4 for a global batch of
# 32 videos (x 2 repeated augmentations), 110 epochs, 10 warmup epochs. Rows
# with another recipe override ``optim_wrapper.optimizer.lr``,
# ``train_cfg.max_epochs``, ``param_scheduler`` (see
# ``uniformer_mm.engine.schedules.warmup_cosine``) and
# ``auto_scale_lr.base_batch_size``. The official runs use mixed precision:
# add ``--amp`` to tools/train.py.
#
# SkipNonFiniteOptimWrapper (uniformer_mm, docs/faults.md): a step whose
# loss or gradients are NaN/inf is skipped and logged, 5 in a row stop the
# run naming the newest intact checkpoint (``--amp`` makes it
# SkipNonFiniteAmpOptimWrapper).
optim_wrapper = dict(
    type='SkipNonFiniteOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        flat_decay_mult=0.,
        custom_keys={'cls_token': dict(decay_mult=0.)}),
    clip_grad=dict(max_norm=20, norm_type=2))

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=110, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# linear warmup from 1e-06 (= 0.01 x lr) to 0.0001 in 10 epochs, then
# cosine to 1e-06, per iteration (= uniformer_mm.engine.schedules.
# warmup_cosine(lr=0.0001, max_epochs=110, warmup_epochs=10))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        end_factor=1.,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=100,
        eta_min=1e-06,
        by_epoch=True,
        begin=10,
        end=110,
        convert_to_iter_based=True)
]

# the global batch (videos) the learning rate is given for; tools/train.py
# --auto-scale-lr rescales the lr to the actual global batch
auto_scale_lr = dict(enable=False, base_batch_size=32)

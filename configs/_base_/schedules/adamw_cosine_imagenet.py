# UniFormer (V1) ImageNet-1k recipe (official DeiT-based main.py): AdamW
# (eps 1e-8), weight decay 0.05 except norms, biases and 1-D parameters
# (timm's filter_bias_and_bn) and the class token; no gradient clipping;
# 300 epochs, linear warmup from 1e-6 for 5 epochs, cosine down to 1e-5,
# updated every iteration.
#
# The official lr is 5e-4 x global batch / 512: 1e-3 for 8 GPUs x 128.
# Rows with another recipe override ``optim_wrapper.optimizer.lr``,
# ``train_cfg.max_epochs``, ``param_scheduler``
# (``uniformer_mm.engine.schedules.warmup_cosine``) and
# ``auto_scale_lr.base_batch_size``. The official runs use mixed precision
# (light XXS/XS: FP32): add ``--amp`` to tools/train.py.
#
# SkipNonFiniteOptimWrapper (uniformer_mm, docs/faults.md): a step whose
# loss or gradients are NaN/inf is skipped and logged, 5 in a row stop the
# run naming the newest intact checkpoint (``--amp`` makes it
# SkipNonFiniteAmpOptimWrapper).
optim_wrapper = dict(
    type='SkipNonFiniteOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.,
        bias_decay_mult=0.,
        flat_decay_mult=0.,
        custom_keys={'cls_token': dict(decay_mult=0.)}))

train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# linear warmup from 1e-06 (= 0.001 x lr) to 0.001 in 5 epochs, then
# cosine to 1e-05, per iteration (= uniformer_mm.engine.schedules.
# warmup_cosine(lr=0.001, max_epochs=300, warmup_epochs=5, min_lr=1e-05))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.001,
        end_factor=1.,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=295,
        eta_min=1e-05,
        by_epoch=True,
        begin=5,
        end=300,
        convert_to_iter_based=True)
]

# the global batch the learning rate is given for (5e-4 per 512 images);
# tools/train.py --auto-scale-lr rescales the lr to the actual global batch
auto_scale_lr = dict(enable=False, base_batch_size=1024)

# What the schedules of the three recipes share (adamw_cosine_imagenet.py:
# the official DeiT-based image training; adamw_cosine_uniformerv2.py and
# adamw_cosine_uniformer_video.py: the official SlowFast fork): AdamW (betas
# 0.9/0.999, eps 1e-8), weight decay 0.05 except norms, biases and 1-D
# parameters (timm's filter_bias_and_bn / ZERO_WD_1D_PARAM), a linear warmup
# from an absolute learning rate and a cosine down to an absolute minimum,
# updated every iteration (``uniformer_mm.engine.schedules.warmup_cosine``).
# Each schedule file states its numbers: ``optim_wrapper.optimizer.lr``,
# ``train_cfg``, ``param_scheduler`` and ``auto_scale_lr.base_batch_size``
# (the global batch its learning rate is given for; tools/train.py
# --auto-scale-lr rescales the lr to the actual global batch). Rows with
# another recipe override the same keys. The official runs use mixed
# precision (light XXS/XS images: FP32): add ``--amp`` to tools/train.py.
#
# SkipNonFiniteOptimWrapper (uniformer_mm, docs/faults.md): a step whose
# loss or gradients are NaN/inf is skipped and logged, 5 in a row stop the
# run naming the newest intact checkpoint (``--amp`` makes it
# SkipNonFiniteAmpOptimWrapper).
optim_wrapper = dict(
    type='SkipNonFiniteOptimWrapper',
    optimizer=dict(
        type='AdamW', betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0., bias_decay_mult=0., flat_decay_mult=0.))

auto_scale_lr = dict(enable=False)

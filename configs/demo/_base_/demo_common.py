# What the demos share (uniformer_demo_image.py, uniformer_demo_video.py;
# each states its data set, batch sizes, learning rate and loops): training
# and validation loaders with one persistent worker (training: shuffled),
# and the schedule: 20 epochs of AdamW (lr 1e-3, weight decay 0.05 except
# norms and biases, gradients clipped at norm 5), 1 epoch of linear warmup
# from 0.1 x lr, then a cosine down to 1e-5, updated every iteration.
#
# A step with a NaN/inf loss or gradient is skipped and logged, 5 in a row
# stop the run naming the newest intact checkpoint (docs/faults.md; --amp
# turns it into SkipNonFiniteAmpOptimWrapper).
train_dataloader = dict(
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    train_dataloader, sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader

max_epochs = 20
optim_wrapper = dict(
    type='SkipNonFiniteOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
    # no weight decay on norms and biases
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
    clip_grad=dict(max_norm=5.))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-5,
         by_epoch=True, begin=1, end=max_epochs, convert_to_iter_based=True)
]
# scaled to the actual global batch when --auto-scale-lr is given
auto_scale_lr = dict(enable=False)

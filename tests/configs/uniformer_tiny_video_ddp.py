# tests/test_scale.py: a DDP run (2 CPU processes, per-rank batch 2) against
# one process with batch 4. Everything random is off (deterministic
# sampling, no crop/flip, no dropout / drop path, no shuffling), SGD (linear
# in the gradients, so rounding differences are not amplified), and the
# BatchNorm layers of UniFormer V1 are synchronised over the ranks
# (sync_bn='torch'; on CPU through uniformer_mm.compat's sync_bn_cpu fix), so
# both runs see the same global batches and compute the same updates.
_base_ = ['./uniformer_tiny_video_scale.py']

model = dict(
    backbone=dict(drop_rate=0., drop_path_rate=0.),
    cls_head=dict(dropout_ratio=0.))
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='UniformSample', clip_len=4, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(
    batch_size=2,  # per process; the single-process run uses 4
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
param_scheduler = []
sync_bn = 'torch'
# both ranks' weights saved at the end; RNG states of both ranks in the
# checkpoints (iteration 3 is in the middle of epoch 2: a resume from it
# skips one batch)
custom_hooks = [
    dict(type='DistConsistencyHook', dump=True),
    dict(type='ExactResumeHook'),
]

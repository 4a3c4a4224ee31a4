# tests/test_scale.py: a tiny UniFormerV2 (Kinetics style: no LMHRA, so no
# BatchNorm) with everything random off, for FSDP (2 CPU processes, per-rank
# batch 2) against one process with batch 4. See uniformer_tiny_video_ddp.py.
_base_ = ['./uniformer_tiny_video_ddp.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='UniFormerV2Video',
        arch=dict(input_resolution=32, patch_size=16, width=32, layers=3,
                  heads=2),
        return_list=[1, 2],
        t_size=4,
        mlp_dropout=0.,
        no_lmhra=True),
    cls_head=dict(
        _delete_=True,
        type='UniFormerV2Head',
        num_classes=4,
        in_channels=32,
        dropout_ratio=0.,
        average_clips='prob'))
# layer-wise lr decay also with FSDP's flattened parameters
optim_wrapper = dict(
    constructor='UniFormerOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.8, new_param_lr_mult=2.))
sync_bn = None
custom_hooks = []

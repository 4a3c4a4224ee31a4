# DeepSpeed (ZeRO stage 2, fp16) through mmengine's FlexibleRunner +
# DeepSpeedStrategy (docs/distributed.md). Needs `pip install deepspeed` and
# GPUs. NOT verified here: deepspeed is not installed in this environment
# and no GPU was available.
#
#   _base_ = ['../uniformerv2/<row>.py', '../_base_/strategies/deepspeed.py']
#   # DeepSpeedOptimWrapper takes only the optimizer: gradient clipping and
#   # loss scaling move into the strategy (below)
#   optim_wrapper = dict(
#       _delete_=True,
#       type='DeepSpeedOptimWrapper',
#       constructor='UniFormerOptimWrapperConstructor',
#       optimizer=dict(type='AdamW', lr=1e-5, betas=(0.9, 0.999),
#                      weight_decay=0.05))
#   bash tools/dist_train.sh CONFIG 8
runner_type = 'FlexibleRunner'
strategy = dict(
    type='DeepSpeedStrategy',
    fp16=dict(
        enabled=True,
        fp16_master_weights_and_grads=False,
        loss_scale=0,  # dynamic
        loss_scale_window=500,
        hysteresis=2,
        min_loss_scale=1,
        initial_scale_power=15),
    # bf16=dict(enabled=True),  # instead of fp16 on Ampere or newer
    inputs_to_half=['inputs'],
    gradient_clipping=20.,  # the UniFormerV2 recipe's clip_grad max_norm
    zero_optimization=dict(
        stage=2,
        allgather_partitions=True,
        reduce_scatter=True,
        allgather_bucket_size=int(5e7),
        reduce_bucket_size=int(5e7),
        overlap_comm=True,
        contiguous_gradients=True,
        cpu_offload=False))

# Fully Sharded Data Parallel through mmengine's FlexibleRunner + FSDPStrategy
# (docs/distributed.md):
#
#   _base_ = ['../uniformerv2/<row>.py', '../_base_/strategies/fsdp.py']
#   bash tools/dist_train.sh CONFIG 8
#
# Parameters, gradients and AdamW states are sharded over the ranks; each
# FSDP unit (one per block: uniformer_block_wrap_policy, registered by
# uniformer_mm) is gathered for its forward/backward only.
# use_orig_params=True keeps the original parameters visible, which
# UniFormerOptimWrapperConstructor and mmengine's paramwise_cfg need
# (per-parameter lr / weight decay groups).
#
# Verified here: only on CPU (2 processes, gloo), with the tiny model of
# tests/configs/uniformerv2_tiny_video_fsdp.py, which adds
# model_wrapper.device_id='cpu' (mmengine passes device_id=LOCAL_RANK, a
# CUDA device) and a full state dict without CPU offload (offloading CPU
# tensors crashes torch 2.13). Not run on GPUs.
runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    model_wrapper=dict(
        use_orig_params=True,
        sharding_strategy='FULL_SHARD',  # or SHARD_GRAD_OP (ZeRO-2 like)
        # every UniFormer(V2) block its own unit; the stem, embeddings and
        # head stay in the root unit (a size-based policy, e.g.
        # dict(type='torch.distributed.fsdp.wrap.size_based_auto_wrap_policy',
        # min_num_params=int(1e7)), also works if it leaves conv1 there)
        auto_wrap_policy=dict(type='uniformer_block_wrap_policy'),
        # bf16 compute with fp32 gradient reduction (instead of --amp):
        # mixed_precision=dict(param_dtype='bfloat16',
        #                      reduce_dtype='float32',
        #                      buffer_dtype='float32'),
    ),
    # one ordinary checkpoint on rank 0 ('local': one shard file per rank)
    state_dict_cfg='full')

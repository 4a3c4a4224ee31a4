# FSDP through mmengine's FlexibleRunner (tests/test_scale.py runs it with
# 2 CPU processes and gloo: `bash tools/dist_train.sh THIS_CONFIG 2`).
_base_ = ['./uniformerv2_tiny_video_scale.py']
runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    # mmengine passes device_id=LOCAL_RANK (a CUDA device); on CPU-only
    # machines FSDP needs device_id='cpu'. On GPUs leave it out.
    model_wrapper=dict(
        use_orig_params=True,
        device_id='cpu',
        # one FSDP unit per ViT / global block (nested units)
        auto_wrap_policy=dict(type='uniformer_block_wrap_policy')),
    # one ordinary checkpoint file on rank 0 (default 'local': a directory
    # with one shard per rank). Not state_dict_cfg='full': it offloads to
    # the CPU, which crashes (SIGSEGV) for CPU tensors in torch 2.13.
    state_dict_cfg=dict(
        state_dict_type='FULL_STATE_DICT',
        state_dict_config=dict(
            type='FullStateDictConfig', offload_to_cpu=False,
            rank0_only=True),
        optim_state_dict_config=dict(
            type='FullOptimStateDictConfig', offload_to_cpu=False,
            rank0_only=True)))

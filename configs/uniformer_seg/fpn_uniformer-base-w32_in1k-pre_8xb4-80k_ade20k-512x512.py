# paper: mIoU 47.0, params 54M, FLOPs 310G
# Test-time setting: the global UniFormer-B Semantic FPN, tested with window
# attention (window 32) in every stage-3 block (official test_config_w32).
_base_ = ['./fpn_uniformer-base_in1k-pre_8xb4-80k_ade20k-512x512.py']

model = dict(backbone=dict(stage3_attn='window', window_size=32))

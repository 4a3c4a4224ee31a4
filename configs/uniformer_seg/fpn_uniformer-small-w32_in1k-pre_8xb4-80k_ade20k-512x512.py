# paper: mIoU 45.6, params 25M, FLOPs 183G
# Test-time setting: the global UniFormer-S Semantic FPN, tested with window
# attention (window 32) in every stage-3 block (official test_config_w32).
_base_ = ['./fpn_uniformer-small_in1k-pre_8xb4-80k_ade20k-512x512.py']

model = dict(backbone=dict(stage3_attn='window', window_size=32))

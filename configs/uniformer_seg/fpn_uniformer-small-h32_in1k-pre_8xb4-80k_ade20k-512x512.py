# paper: mIoU 46.2, params 25M, FLOPs 199G
# Test-time setting: the global UniFormer-S Semantic FPN, tested with hybrid
# attention (window 32, every 4th block global; official test_config_h32).
_base_ = ['./fpn_uniformer-small_in1k-pre_8xb4-80k_ade20k-512x512.py']

model = dict(backbone=dict(stage3_attn='hybrid', window_size=32))

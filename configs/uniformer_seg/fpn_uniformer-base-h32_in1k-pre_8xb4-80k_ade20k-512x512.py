# paper: mIoU 47.7, params 54M, FLOPs 350G
# Test-time setting: the global UniFormer-B Semantic FPN, tested with hybrid
# attention (window 32, every 4th block global; official test_config_h32).
_base_ = ['./fpn_uniformer-base_in1k-pre_8xb4-80k_ade20k-512x512.py']

model = dict(backbone=dict(stage3_attn='hybrid', window_size=32))

# paper: mIoU 47.0 (MS 48.5), params 52M, FLOPs 955G (512x2048)
# Test-time setting: the global UniFormer-S UperNet, tested with hybrid
# attention (window 32, every 4th block global; official test_config_h32).
_base_ = ['./upernet_uniformer-small_in1k-pre_8xb2-160k_ade20k-512x512.py']

model = dict(backbone=dict(stage3_attn='hybrid', window_size=32))

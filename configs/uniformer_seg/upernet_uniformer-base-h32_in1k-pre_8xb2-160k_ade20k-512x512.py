# paper: mIoU 49.5 (MS 50.7), params 80M, FLOPs 1106G (512x2048)
# Test-time setting: the global UniFormer-B UperNet, tested with hybrid
# attention (window 32, every 4th block global; official test_config_h32).
_base_ = ['./upernet_uniformer-base_in1k-pre_8xb2-160k_ade20k-512x512.py']

model = dict(backbone=dict(stage3_attn='hybrid', window_size=32))

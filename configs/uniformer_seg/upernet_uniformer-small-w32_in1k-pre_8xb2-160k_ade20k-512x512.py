# paper: mIoU 46.6 (MS 48.4), params 52M, FLOPs 939G (512x2048)
# Test-time setting: the global UniFormer-S UperNet, tested with window
# attention (window 32) in every stage-3 block (official test_config_w32).
_base_ = ['./upernet_uniformer-small_in1k-pre_8xb2-160k_ade20k-512x512.py']

model = dict(backbone=dict(stage3_attn='window', window_size=32))

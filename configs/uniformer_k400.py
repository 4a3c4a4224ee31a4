# Short name of uniformer/uniformer-small_in1k-pre_16x4x1_kinetics400-rgb.py
# (UniFormer-S, 16 frames x stride 4, Kinetics-400, from ImageNet-1k).
_base_ = ['./uniformer/uniformer-small_in1k-pre_16x4x1_kinetics400-rgb.py']

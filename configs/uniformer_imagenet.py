# Short name of uniformer/uniformer-small_8xb128_in1k.py
# (UniFormer-S, ImageNet-1k at 224).
_base_ = ['./uniformer/uniformer-small_8xb128_in1k.py']

# Short name of uniformer/uniformer-small_k400-pre_u16_sthv2-rgb.py
# (UniFormer-S, 16 frames, Something-Something V2, from Kinetics-400).
_base_ = ['./uniformer/uniformer-small_k400-pre_u16_sthv2-rgb.py']

# paper: top-1 77.5, params 21.4M, FLOPs 625G (5 clips x 3 crops)
# UniFormer-S, 16 frames x stride 4, HMDB51 split 1, from the Kinetics-400 16x4
# model. Official exp/uniformer_s16x4_hmdb51_prek400: batch 128 (16 per GPU x 8
# GPUs), lr 5e-5, 25 epochs (5 warmup), drop path 0.2; test 16x3x5 (frames x
# crops x clips).
_base_ = ['../_base_/recipes/uniformer_hmdb51.py']

# paper: top-1 84.9, params 24M, FLOPs 13.7G (384 px)
# UniFormer small_plus_tl with token labeling, fine-tuned at 384 px from the
# 224-px model (official token_labeling 384 run, --finetune): batch 512 (64 per
# GPU x 8 GPUs), constant lr 5e-6, wd 1e-8, 50 epochs, no warmup; test short
# side floor(384 / 0.9) = 426 (official validate.py, crop_pct 0.9) + centre
# crop 384.
_base_ = ['./uniformer-small-tl_8xb64_in1k-384px.py']

model = dict(
    backbone=dict(arch='small_plus_tl'))
# the 224-px token-labeling model (official file; converted on load):
# docs/checkpoints.md
load_from = 'checkpoints/uniformer_small_plus_tl_224.pth'

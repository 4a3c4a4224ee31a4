# paper: top-1 86.0, params 50M, FLOPs 27.2G (384 px)
# UniFormer base_tl with token labeling, fine-tuned at 384 px from the 224-px
# model (official token_labeling 384 run, --finetune): batch 512 (64 per GPU x
# 8 GPUs), constant lr 5e-6, wd 1e-8, 50 epochs, no warmup; test short side
# floor(384 / 0.9) = 426 + centre crop 384 (official validate.py, crop_pct
# 0.9).
_base_ = ['./uniformer-small-tl_8xb64_in1k-384px.py']

model = dict(
    backbone=dict(arch='base_tl', drop_path_rate=0.3))
# the 224-px token-labeling model (official file; converted on load):
# docs/checkpoints.md
load_from = 'checkpoints/uniformer_base_tl_224.pth'

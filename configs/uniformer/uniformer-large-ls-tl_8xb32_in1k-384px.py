# paper: top-1 86.3, params 100M, FLOPs 39.2G (384 px)
# UniFormer large_ls_tl with token labeling, fine-tuned at 384 px from the
# 224-px model (official token_labeling 384 run, --finetune): batch 256 (32 per
# GPU x 8 GPUs), constant lr 5e-6, wd 1e-8, 50 epochs, no warmup; test short
# side floor(384 / 0.9) = 426 (official validate.py, crop_pct 0.9) + centre
# crop 384. (The official run.sh of this row trains uniformer_small_plus, a
# copy-paste slip; large_ls_tl here.)
_base_ = ['./uniformer-small-tl_8xb64_in1k-384px.py']

model = dict(
    backbone=dict(arch='large_ls_tl', drop_path_rate=0.4),
    head=dict(in_channels=640))
# the 224-px token-labeling model (official file; converted on load):
# docs/checkpoints.md
load_from = 'checkpoints/uniformer_large_ls_tl_224.pth'
train_dataloader = dict(batch_size=32)  # x 8 GPUs = the official 256
auto_scale_lr = dict(base_batch_size=256)

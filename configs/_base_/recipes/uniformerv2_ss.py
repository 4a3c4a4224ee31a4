# The model and schedule half of the UniFormerV2 Something-Something recipes
# (official exp/sthv1/ssv1_*, exp/sthv2/ssv2_*), without a data set: a row
# lists it (or ./uniformerv2_ss_l14.py) with the data half of its data set,
# ./uniformerv2_sthv1.py or ./uniformerv2_sthv2.py. Defaults = B/16 from
# CLIP, 16 frames at 224 (ssv{1,2}_b16_f16x224):
#
# * model: CLIP ViT-B/16 with local UniBlocks (two temporal LMHRA per ViT
#   block), temporal downsampling in the patch embedding (16 -> 8), 8
#   global UniBlocks on ViT blocks 4..11, drop path 0.2 (ViT) / 0.4 (global
#   blocks); the ViT initialised from CLIP (conv1 inflated to 3 frames,
#   centre frame); BGR input;
# * schedule: AdamW lr 4e-5 for 128 videos (16 per GPU x 8 GPUs), wd 0.05,
#   clip 20, warmup 5 + cosine, 22 epochs.
_base_ = ['./uniformerv2_clip_b16.py']
from uniformer_mm.engine.schedules import warmup_cosine  # noqa: E402

model = dict(
    backbone=dict(
        t_size=16,
        no_lmhra=False,
        double_lmhra=True,
        temporal_downsample=True,
        return_list=[4, 5, 6, 7, 8, 9, 10, 11],
        n_layers=8,
        backbone_drop_path_rate=0.2,
        drop_path_rate=0.4),
    # BGR input, as the official frame loader (cv2): our decoders give RGB
    # and to_rgb=True reverses the channels
    data_preprocessor=dict(to_rgb='${bgr_input}'))

optim_wrapper = dict(optimizer=dict(lr=4e-5))
param_scheduler = warmup_cosine(lr=4e-5, max_epochs=22, warmup_epochs=5)
train_cfg = dict(max_epochs=22)
auto_scale_lr = dict(base_batch_size=128)

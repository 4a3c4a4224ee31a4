# UniFormerV2 recipe on Something-Something V2 (official exp/sthv2/*,
# ssv2_*), defaults = B/16 from CLIP, 16 frames at 224 (ssv2_b16_f16x224):
#
# * model: CLIP ViT-B/16 with local UniBlocks (two temporal LMHRA per ViT
#   block), temporal downsampling in the patch embedding (16 -> 8), 8
#   global UniBlocks on ViT blocks 4..11, drop path 0.2 (ViT) / 0.4 (global
#   blocks); the ViT initialised from CLIP (conv1 inflated to 3 frames,
#   centre frame);
# * data (JPEG frames at 30 fps, BGR): segment sampling of 16 frames,
#   RandAugment m7-n4, random-resized crop without flip, no random erasing, 2
#   repeated augmentations, plain cross-entropy
#   (configs/_base_/datasets/sthv2.py); test 1 clip x 3 crops, softmax
#   averaged;
# * schedule: AdamW lr 4e-5 for 128 videos (16 per GPU x 8 GPUs), wd 0.05,
#   clip 20, warmup 5 + cosine, 22 epochs.
_base_ = ['./uniformerv2_ss.py', '../datasets/sthv2.py']
from uniformer_mm.datasets.config_utils import update_transforms  # noqa: E402

train_augment = update_transforms(
    _base_.train_augment, VideoRandomErasing=None)
train_dataloader = dict(batch_size=16)  # x 8 GPUs = the official 128

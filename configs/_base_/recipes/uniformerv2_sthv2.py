# UniFormerV2 recipe on Something-Something V2 (official exp/sthv2/*,
# ssv2_*): its data half. A row lists it after the model and schedule half,
#   _base_ = ['../_base_/recipes/uniformerv2_ss.py',  # B/16 from CLIP
#             '../_base_/recipes/uniformerv2_sthv2.py']
# (./uniformerv2_ss_l14.py for L/14; defaults there: B/16, 16 frames at 224,
# ssv2_b16_f16x224, AdamW lr 4e-5 for 128 videos, 22 epochs).
#
# * data (JPEG frames at 30 fps, BGR): segment sampling of 16 frames,
#   RandAugment m7-n4, random-resized crop without flip, no random erasing, 2
#   repeated augmentations, plain cross-entropy
#   (configs/_base_/datasets/sthv2.py); test 1 clip x 3 crops, softmax
#   averaged; 16 videos per GPU x 8 GPUs.
_base_ = ['../datasets/sthv2.py']
from uniformer_mm.datasets.config_utils import update_transforms  # noqa: E402

train_augment = update_transforms(
    _base_.train_augment, VideoRandomErasing=None)
train_dataloader = dict(batch_size=16)  # x 8 GPUs = the official 128

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
_base_ = [
    '../models/uniformerv2_b16.py', '../datasets/sthv2.py',
    '../schedules/adamw_cosine_uniformerv2.py', '../default_runtime.py'
]
from uniformer_mm.datasets.config_utils import update_transforms  # noqa: E402
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
        drop_path_rate=0.4,
        # OpenAI CLIP ViT-B/16; where to get it: docs/checkpoints.md
        clip_pretrained='checkpoints/clip/vit_b16.pth'),
    cls_head=dict(num_classes='${num_classes}'),
    # BGR input, as the official frame loader (cv2): our decoders give RGB
    # and to_rgb=True reverses the channels
    data_preprocessor=dict(to_rgb='${bgr_input}'))

train_augment = update_transforms(
    _base_.train_augment, VideoRandomErasing=None)
train_dataloader = dict(batch_size=16)  # x 8 GPUs = the official 128
optim_wrapper = dict(optimizer=dict(lr=4e-5))
param_scheduler = warmup_cosine(lr=4e-5, max_epochs=22, warmup_epochs=5)
train_cfg = dict(max_epochs=22)
auto_scale_lr = dict(base_batch_size=128)

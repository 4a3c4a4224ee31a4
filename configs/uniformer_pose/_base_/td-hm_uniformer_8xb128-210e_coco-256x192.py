# Top-down heatmap pose estimation with a UniFormer backbone, COCO, input
# 256x192: the official recipe (Sense-X/UniFormer pose_estimation/exp/
# top_down_256x192_global_*): the last stage's map (out_indices=(3, ), norm4)
# into a SimpleBaseline head (3 deconvolutions of 256 channels, kernel 4),
# AdamW (weight decay 0.01), 210 epochs with steps at 170 and 200, linear
# warm-up of 500 iterations from 0.001, 128 images per GPU x 8 GPUs, heatmap
# sigma 2, flip test with person detections (AP_H 56). Data, codec, head and
# runtime are mmpose's SimpleBaseline config of the same input size; its
# backbone and optimiser are replaced, and its training pipeline does not
# shift the boxes (the official pipeline has no random shift; mmpose 1's
# RandomBBoxTransform shifts 30 % of them by default). Rows set the arch,
# drop path, learning rate and batch.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_res50_8xb64-210e_coco-256x192.py']
from uniformer_mm.models.config_utils import (  # noqa: E402
    replace_backbone, topdown_heatmap)
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

# as the base's: the head's decoder and the pipelines follow it
codec, train_pipeline, val_pipeline = topdown_heatmap(
    input_size=(192, 256), heatmap_size=(48, 64), sigma=2)

model = dict(
    backbone=replace_backbone('small', 0.2, out_indices=(3, ),
                              stage3_attn='global'),
    head=dict(in_channels=512, decoder=codec))

optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-3,
                   betas=(0.9, 0.999), weight_decay=0.01))

train_dataloader = dict(batch_size=128, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
auto_scale_lr = dict(base_batch_size=1024)

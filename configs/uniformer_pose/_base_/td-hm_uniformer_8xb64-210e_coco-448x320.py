# Top-down heatmap pose estimation with a UniFormer backbone, COCO, input
# 448x320: the official recipe (Sense-X/UniFormer pose_estimation/exp/
# top_down_448x320_global_*) is the 384x288 one of the base below at input
# 320x448 with 80x112 heatmaps of sigma 3, 64 images per GPU x 8 GPUs and
# AdamW lr 1e-3 for S (the B row sets its own). mmpose has no SimpleBaseline
# config of this size: the codec is set here and everything that uses it
# follows (the head's decoder, the training and test pipelines).
_base_ = ['./td-hm_uniformer_8xb128-210e_coco-384x288.py']
from uniformer_mm.models.config_utils import topdown_heatmap  # noqa: E402

codec, train_pipeline, val_pipeline = topdown_heatmap(
    input_size=(320, 448), heatmap_size=(80, 112), sigma=3)
model = dict(head=dict(decoder=codec))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
auto_scale_lr = dict(base_batch_size=512)

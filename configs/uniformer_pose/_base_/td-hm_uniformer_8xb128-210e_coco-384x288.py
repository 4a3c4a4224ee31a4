# Top-down heatmap pose estimation with a UniFormer backbone, COCO, input
# 384x288: the official recipe (Sense-X/UniFormer pose_estimation/exp/
# top_down_384x288_global_*) is the 256x192 one of the base below (128
# images per GPU x 8 GPUs, AdamW lr 2e-3 for S; the B row sets its own) at
# input 288x384 with 72x96 heatmaps of sigma 3. The codec is set here and
# everything that uses it follows: the head's decoder and the training and
# test pipelines (mmpose's SimpleBaseline 384x288 config differs from its
# 256x192 one by the codec alone).
_base_ = ['./td-hm_uniformer_8xb128-210e_coco-256x192.py']
from uniformer_mm.models.config_utils import topdown_heatmap  # noqa: E402

codec, train_pipeline, val_pipeline = topdown_heatmap(
    input_size=(288, 384), heatmap_size=(72, 96), sigma=3)
model = dict(head=dict(decoder=codec))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader

# Top-down heatmap pose estimation with a UniFormer backbone, COCO, input
# 256x192: the official recipe (Sense-X/UniFormer pose_estimation/exp/
# top_down_256x192_global_*): the last stage's map (out_indices=(3, ), norm4)
# into a SimpleBaseline head (3 deconvolutions of 256 channels, kernel 4),
# AdamW (weight decay 0.01), 210 epochs with steps at 170 and 200, linear
# warm-up of 500 iterations from 0.001, 128 images per GPU x 8 GPUs, flip
# test with person detections (AP_H 56). Data, codec, head and runtime are
# mmpose's SimpleBaseline config of the same input size; its backbone and
# optimiser are replaced. Rows set the arch, drop path and learning rate.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/coco/'
          'td-hm_res50_8xb64-210e_coco-256x192.py']
custom_imports = dict(imports=['uniformer_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='UniFormerDense',
        arch='small',
        out_indices=(3, ),
        stage3_attn='global',
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/uniformer_small_in1k.pth')),
    head=dict(in_channels=512))

optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-3,
                   betas=(0.9, 0.999), weight_decay=0.01))
train_dataloader = dict(batch_size=128)
auto_scale_lr = dict(base_batch_size=1024)

# Token-labeling UniFormer image classifier: `fc` on the pooled tokens plus
# `fc_aux` on every token; inference adds 0.5 * the token maximum.
_base_ = ['./image_classifier.py']

model = dict(
    backbone=dict(type='UniFormer', arch='small_tl', drop_path_rate=0.1),
    head=dict(  # large_ls_tl: in_channels=640
        type='UniFormerTokenLabelHead', in_channels=512))

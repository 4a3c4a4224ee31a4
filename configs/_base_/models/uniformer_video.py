# UniFormer (V1) video recognizer: UniFormerVideo backbone + I3DHead.
# The backbone's last stage is BN-normalised; I3DHead average-pools over
# T*H*W and applies `fc_cls` (the official `head`).
_base_ = ['./video_recognizer.py']

model = dict(
    backbone=dict(
        type='UniFormerVideo',
        arch='small',  # small | base | xxs | xs (light: use uniformer_light_video.py)
        drop_path_rate=0.1),
    cls_head=dict(type='I3DHead', in_channels=512, dropout_ratio=0.))

# Light ("hourglass") UniFormer image classifier (XXS / XS). No neck: the head
# pools the map itself and also classifies the class token in training.
_base_ = ['./image_classifier.py']

model = dict(
    backbone=dict(type='UniFormer', arch='xxs', drop_path_rate=0.),
    head=dict(type='UniFormerLightClsHead', in_channels=448))  # xs: 512

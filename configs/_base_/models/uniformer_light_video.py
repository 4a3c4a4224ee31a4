# Light ("hourglass") UniFormer video recognizer (XXS / XS): class token,
# token pruning, two classifiers (0.5 * CE(pooled) + 0.5 * CE(cls token)).
_base_ = ['./video_recognizer.py']

model = dict(
    backbone=dict(type='UniFormerVideo', arch='xxs', drop_path_rate=0.05),
    cls_head=dict(type='UniFormerLightHead', in_channels=448))  # xs: 512

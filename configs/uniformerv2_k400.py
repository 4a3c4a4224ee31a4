# Short name of
# uniformerv2/uniformerv2-base-p16-res224_clip_u8_kinetics400-rgb.py
# (UniFormerV2-B/16 from CLIP, 8 frames at 224, Kinetics-400).
_base_ = [
    './uniformerv2/uniformerv2-base-p16-res224_clip_u8_kinetics400-rgb.py'
]

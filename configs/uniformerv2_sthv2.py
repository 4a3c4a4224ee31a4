# Short name of uniformerv2/uniformerv2-base-p16-res224_clip_u16_sthv2-rgb.py
# (UniFormerV2-B/16 from CLIP, 16 frames, Something-Something V2).
_base_ = ['./uniformerv2/uniformerv2-base-p16-res224_clip_u16_sthv2-rgb.py']

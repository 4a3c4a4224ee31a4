# UniFormerV2 video recognizer: CLIP ViT-B/16 + global UniBlocks (the
# Kinetics / MiT / ActivityNet / HACS setting: no local MHRA, no temporal
# downsampling, 4 global blocks on the last 4 ViT blocks) + UniFormerV2Head
# (dropout 0.5 + linear). Something-Something models add local MHRA and
# temporal downsampling (see configs/_base_/recipes/uniformerv2_ss.py).
# L/14: arch='vit-l14' (or 'vit-l14-336'), cls_head.in_channels=1024; a row
# states both with uniformerv2_model('vit-l14') (uniformer_mm.models.
# config_utils).
_base_ = ['./video_recognizer.py']

model = dict(
    backbone=dict(
        type='UniFormerV2Video',
        arch='vit-b16',
        t_size=8,  # informational: frames are read from the input
        no_lmhra=True,
        double_lmhra=False,
        temporal_downsample=False,
        n_layers=4,
        mlp_factor=4.0,
        mlp_dropout=0.5,
        drop_path_rate=0.,
        backbone_drop_path_rate=0.,
        # CLIP weights (docs/checkpoints.md); None: random initialisation
        clip_pretrained=None),
    cls_head=dict(
        type='UniFormerV2Head', in_channels=768, dropout_ratio=0.5))

# paper: top-1 86.1 (mmaction2 86.1/97.2), params 115M, FLOPs 148G x 4 clips x
# 3 crops
# UniFormerV2-B/16, CLIP-400M -> K710 -> Kinetics-600, 8 frames at 224.
# Official exp/k600/k600+k710_b16_f8x224: batch 256 (32 per GPU x 8 GPUs), lr
# 2e-6, 5 epochs (1 warmup), from the K710 model, classifier initialised from
# the K710 rows of the K600 classes; test 8x3x4, softmax averaged.
_base_ = ['./uniformerv2-base-p16-res224_clip-k710-pre_u8_kinetics400-rgb.py']

dataset_name = 'kinetics600'
num_classes = 600
from uniformer_mm.datasets.config_utils import k710_classifier  # noqa: E402
model = dict(cls_head=k710_classifier('k600'))

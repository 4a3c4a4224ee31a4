# paper: top-1 89.4 (mmaction2 89.4/98.3), params 354M, FLOPs 1331G x 4 clips x
# 3 crops
# UniFormerV2-L/14, CLIP-400M -> K710 -> Kinetics-600, 16 frames at 224.
# Official exp/k600/k600+k710_l14_f16x224: batch 256 (32 per GPU x 8 GPUs), lr
# 1.5e-6, 5 epochs (1 warmup), from the 8-frame K710 model, classifier
# initialised from the K710 rows of the K600 classes; test 16x3x4, softmax
# averaged.
_base_ = ['./uniformerv2-large-p14-res224_clip-k710-pre_u16_kinetics400-rgb.py']

dataset_name = 'kinetics600'
num_classes = 600
from uniformer_mm.datasets.config_utils import k710_classifier  # noqa: E402
model = dict(cls_head=k710_classifier('k600'))

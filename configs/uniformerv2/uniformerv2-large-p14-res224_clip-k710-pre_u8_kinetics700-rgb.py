# paper: top-1 80.8 (mmaction2 80.8/95.2), params 354M, FLOPs 666G x 4 clips x
# 3 crops
# UniFormerV2-L/14, CLIP-400M -> K710 -> Kinetics-700, 8 frames at 224.
# Official exp/k700/k700+k710_l14_f8x224: batch 256 (32 per GPU x 8 GPUs), lr
# 1.5e-6, 5 epochs (1 warmup), from the 8-frame K710 model, classifier
# initialised from the K710 rows of the K700 classes; test 8x3x4, softmax
# averaged.
_base_ = ['./uniformerv2-large-p14-res224_clip-k710-pre_u8_kinetics600-rgb.py']

dataset_name = 'kinetics700'
num_classes = 700
from uniformer_mm.datasets.config_utils import k710_classifier  # noqa: E402
model = dict(cls_head=k710_classifier('k700'))

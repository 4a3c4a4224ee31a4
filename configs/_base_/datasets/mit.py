# Moments in Time V1 (339 classes, 3-second videos), sparse sampling, 8
# frames, as ./kinetics400.py (UniFormerV2 recipe, 4 x 3 test views).
# mmaction2 data layout (tools/data/mit).
_base_ = ['./kinetics_style.py']

dataset_name = 'mit'
data_root = 'data/mit/videos/training'
data_root_val = 'data/mit/videos/validation'
num_classes = 339

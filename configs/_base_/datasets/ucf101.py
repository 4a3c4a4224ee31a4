# UCF101 split 1, dense sampling 16x4 (UniFormer V1 recipe: ./dense_v1.py)
# with RandAugment rand-m5-n2-mstd0.25; test 5 clips x 3 crops, short side
# 224 (official 5x3 views).
#
# mmaction2 data layout (tools/data/ucf101); other splits: change the
# list names (``..._split_{2,3}_videos.txt``).
_base_ = ['./dense_v1.py']

dataset_name = 'ucf101'
data_root = 'data/${dataset_name}/videos'
data_root_val = '${data_root}'
ann_file_train = 'data/${dataset_name}/${dataset_name}_train_split_1_videos.txt'
ann_file_val = 'data/${dataset_name}/${dataset_name}_val_split_1_videos.txt'
num_classes = 101
num_test_clips = 5
rand_augment = 'rand-m5-n2-mstd0.25'
test_crop = dict(type='OfficialThreeCrop')

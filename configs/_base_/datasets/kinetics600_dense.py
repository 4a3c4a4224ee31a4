# Kinetics-600, dense sampling 16x4 (UniFormer V1 recipe: ./dense_v1.py)
_base_ = ['./dense_v1.py']

dataset_name = 'kinetics600'
num_classes = 600

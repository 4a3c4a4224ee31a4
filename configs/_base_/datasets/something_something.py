# Something-Something (JPEG frame folders, BGR input) on the Kinetics-style
# base (./kinetics_style.py): frames instead of videos, no flip, random
# erasing 0.25, 2 repeated augmentations, test 1 clip x 3 crops;
# ./sthv1.py and ./sthv2.py add their data and sampler.
#
# Channel order: the official loader decodes the frames with OpenCV and
# never converts them, so the official models were trained and tested on BGR
# input. Our decoders give RGB; the recipes reverse the channels in the
# model's data preprocessor (``bgr_input`` below; mmaction2's
# ``to_rgb=True`` is that plain reversal: RGB in, BGR out).
_base_ = ['./kinetics_style.py']

dataset_type = 'RawframeDataset'
data_root = 'data/${dataset_name}/rawframes'
data_root_val = '${data_root}'
ann_file_train = 'data/${dataset_name}/${dataset_name}_train_list_rawframes.txt'
ann_file_val = 'data/${dataset_name}/${dataset_name}_val_list_rawframes.txt'
num_classes = 174
clip_len = 16
num_test_clips = 1
flip_ratio = 0.0
random_erasing_prob = 0.25
num_repeats = 2
# the model takes BGR (official cv2 frame loader); recipes:
#   model = dict(data_preprocessor=dict(to_rgb='${bgr_input}'))
bgr_input = True

train_pipeline = [
    '${train_sampler}',
    dict(type='RawFrameDecode', **_base_.file_client_args),
    '${train_augment}'
]
val_pipeline = [  # 1 clip x 1 centre crop (official test geometry)
    '${val_sampler}',
    dict(type='RawFrameDecode', **_base_.file_client_args),
    dict(type='OfficialShortSideResize', short_side='${crop_size}'),
    dict(type='OfficialCenterCrop', crop_size='${crop_size}'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [  # num_test_clips clips x test_crop
    '${test_sampler}',
    dict(type='RawFrameDecode', **_base_.file_client_args),
    dict(type='OfficialShortSideResize', short_side='${crop_size}'),
    '${test_crop}',
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]


def _frames(split):
    """The frame-folder data set of ``split`` (a function: mmengine drops
    it from the parsed config)."""
    return dict(
        _delete_=True,
        type='${dataset_type}',
        ann_file=f'${{ann_file_{split}}}',
        data_prefix=dict(
            img='${data_root}' if split == 'train' else '${data_root_val}'),
        filename_tmpl='${filename_tmpl}',
        pipeline=f'${{{split}_pipeline}}',
        **({} if split == 'train' else dict(test_mode=True)))


filename_tmpl = '{:05}.jpg'
train_dataloader = dict(dataset=_frames('train'))
val_dataloader = dict(dataset=_frames('val'))
test_dataloader = dict(dataset=_frames('test'))

# HMDB51 split 1: the sampling, recipe and 5 x 3 views of ./ucf101.py.
#
# mmaction2 data layout (tools/data/hmdb51); other splits: change the
# list names (``..._split_{2,3}_videos.txt``). Note: the official
# config says NUM_CLASSES 101 for HMDB51 (a copy-paste slip); 51 here.
#
# Channel order: the official HMDB51 loader (``hmdb.py``) reads JPEG frames
# (img_00001.jpg ..., extracted at the videos' own rate) with OpenCV and
# never converts them, so the official models were trained and tested on BGR
# input. Our decoders give RGB; the recipes reverse the channels in the
# model's data preprocessor (``bgr_input`` below; mmaction2's
# ``to_rgb=True`` is that plain reversal: RGB in, BGR out).
_base_ = ['./ucf101.py']

dataset_name = 'hmdb51'
num_classes = 51
# the model takes BGR (official cv2 frame loader); recipes:
#   model = dict(data_preprocessor=dict(to_rgb='${bgr_input}'))
bgr_input = True

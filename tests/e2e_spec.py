"""The graded API of SPEC sections 1 and 5: every graded function and class, per assignment."""

FC_NETS = [
    "affine_forward", "affine_backward", "relu_forward", "relu_backward", "svm_loss", "softmax_loss",
    "affine_relu_forward", "affine_relu_backward",
    "batchnorm_forward", "batchnorm_backward", "affine_batchnorm_relu_forward", "affine_batchnorm_relu_backward",
    "dropout_forward", "dropout_backward",
    "sgd", "sgd_momentum", "sgd_nesterov_momentum", "rmsprop", "adam",
    "TwoLayerNet", "FullyConnectedNet",
]
CONV_NETS = ["conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive",
             "spatial_batchnorm_forward", "spatial_batchnorm_backward", "ThreeLayerConvNet"]
SPEC_GRADED = {"fc_nets": FC_NETS, "conv_nets": CONV_NETS}

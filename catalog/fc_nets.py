"""The catalog of fc_nets: implementations written the way students write them.

MUTANTS are realistic bugs: each must lose points on the tests of its function, and only there.
VARIANTS are correct implementations that differ from the instructor's (other formulas, cache
layouts, RNG calls, internal structure): each must keep every point. SAMPLE_STUDENTS make the
sample class (`make sample-class`); BENCH_ATTACKS are the hostile submissions of `make bench`.
The format is grader/quality/catalog.py's; `make mutants` grades every case.
"""
import numpy as np  # noqa: F401 (the sources below are code for the notebooks, which import numpy)

from grader.quality.catalog import edited, mutant, variant
from grader.quality.sample_class import SampleStudent, failing_import, missing_colon, suffixed

RELU_BACKWARD_MODIFIES_CACHE = mutant("modifies_cache", "relu_backward", "zeroes the cached input in place", """
    def relu_backward(dout, cache):
        x = cache
        x[x < 0] = 0          # overwrites the cache
        dx = dout * (x > 0)
        return dx
""")

DROPOUT_KEEP_PROBABILITY = mutant("keep_probability", "dropout_forward", "treats p as the probability of keeping a unit", """
    def dropout_forward(x, dropout_param):
        p, mode = dropout_param["p"], dropout_param["mode"]
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        mask = None
        if mode == "train":
            mask = np.random.rand(*x.shape) < p      # keeps a unit with probability p
            out = x * mask / p
        elif mode == "test":
            out = x
        out = out.astype(x.dtype, copy=False)
        return out, (dropout_param, mask)
""")

MOMENTUM_SIGN = mutant("velocity_sign", "sgd_momentum", "adds the gradient to the velocity instead of subtracting it", """
    def sgd_momentum(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-2)
        config.setdefault("momentum", 0.9)
        v = config.get("velocity", np.zeros_like(w))
        v = config["momentum"] * v + config["learning_rate"] * dw
        next_w = w + v
        config["velocity"] = v
        return next_w, config
""")

ADAM_NO_BIAS_CORRECTION = mutant("no_bias_correction", "adam", "forgets Adam's bias correction", """
    def adam(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-3)
        config.setdefault("beta1", 0.9)
        config.setdefault("beta2", 0.999)
        config.setdefault("epsilon", 1e-8)
        config.setdefault("v", np.zeros_like(w))
        config.setdefault("a", np.zeros_like(w))
        config.setdefault("t", 0)
        config["t"] += 1
        config["v"] = config["beta1"] * config["v"] + (1 - config["beta1"]) * dw
        config["a"] = config["beta2"] * config["a"] + (1 - config["beta2"]) * dw ** 2
        next_w = w - config["learning_rate"] * config["v"] / (np.sqrt(config["a"]) + config["epsilon"])
        return next_w, config
""")

TWO_LAYER_NET_RELU_ON_SCORES = mutant("relu_on_scores", "TwoLayerNet", "applies a ReLU to the class scores", """
    class TwoLayerNet(object):
        def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                     dropout=0, weight_scale=1e-3, reg=0.0):
            self.params = {}
            self.reg = reg
            self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
            self.params["b1"] = np.zeros(hidden_dim)
            self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
            self.params["b2"] = np.zeros(num_classes)

        def loss(self, X, y=None):
            W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
            hidden, cache1 = affine_relu_forward(X, W1, b1)
            scores, cache2 = affine_relu_forward(hidden, W2, b2)   # ReLU on the scores
            if y is None:
                return scores
            loss, dscores = softmax_loss(scores, y)
            loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
            grads = {}
            dhidden, grads["W2"], grads["b2"] = affine_relu_backward(dscores, cache2)
            _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, cache1)
            grads["W1"] += self.reg * W1
            grads["W2"] += self.reg * W2
            return loss, grads
""")

RELU_FORWARD_INFINITE_LOOP = mutant("infinite_loop", "relu_forward", "loops forever", """
    def relu_forward(x):
        out = x.copy()
        i = 0
        while i < out.size:      # forgets to advance i
            out.flat[i] = max(out.flat[i], 0)
        return out, x
""")



# ------------------------------------------------------------------------------------------------
# 01_layers
# ------------------------------------------------------------------------------------------------

AFFINE_FORWARD = """
    def affine_forward(x, w, b):
        N = x.shape[0]
        x_flat = x.reshape(N, -1)
        out = x_flat.dot(w) + b
        cache = (x, w, b)
        return out, cache
"""

AFFINE_FORWARD_MUTANTS = [
    mutant("forgot_bias", "affine_forward", "forgets to add the bias",
           edited(AFFINE_FORWARD, ("out = x_flat.dot(w) + b", "out = x_flat.dot(w)"))),
    mutant("flattens_in_place", "affine_forward", "flattens x by assigning x.shape (the caller's array)",
           edited(AFFINE_FORWARD, ("x_flat = x.reshape(N, -1)", "x.shape = (N, -1)\nx_flat = x"))),
    mutant("two_d_only", "affine_forward", "assumes x is already (N, D): x.dot(w)",
           edited(AFFINE_FORWARD, ("x_flat = x.reshape(N, -1)", "x_flat = x"))),
    mutant("caches_flat_x", "affine_forward", "caches the flattened x instead of x",
           edited(AFFINE_FORWARD, ("cache = (x, w, b)", "cache = (x_flat, w, b)"))),
]

AFFINE_BACKWARD = """
    def affine_backward(dout, cache):
        x, w, b = cache
        N = x.shape[0]
        dx = dout.dot(w.T).reshape(x.shape)
        dw = x.reshape(N, -1).T.dot(dout)
        db = np.sum(dout, axis=0)
        return dx, dw, db
"""

AFFINE_BACKWARD_MUTANTS = [
    mutant("db_mean", "affine_backward", "averages dout over the batch for db instead of summing",
           edited(AFFINE_BACKWARD, ("db = np.sum(dout, axis=0)", "db = np.mean(dout, axis=0)"))),
    mutant("dx_not_reshaped", "affine_backward", "returns dx flattened to (N, D), not in x's shape",
           edited(AFFINE_BACKWARD, ("dx = dout.dot(w.T).reshape(x.shape)", "dx = dout.dot(w.T)"))),
    mutant("dw_transposed", "affine_backward", "computes dw as dout.T @ x, of shape (M, D)",
           edited(AFFINE_BACKWARD, ("dw = x.reshape(N, -1).T.dot(dout)", "dw = dout.T.dot(x.reshape(N, -1))"))),
]

RELU_FORWARD_MUTANTS = [
    mutant("in_place", "relu_forward", "zeroes the negative entries of the caller's x in place", """
        def relu_forward(x):
            x[x < 0] = 0
            out = x
            cache = x
            return out, cache
    """),
    mutant("caches_output", "relu_forward", "caches the output instead of the input", """
        def relu_forward(x):
            out = np.maximum(0, x)
            cache = out
            return out, cache
    """),
    mutant("leaky", "relu_forward", "writes a leaky ReLU", """
        def relu_forward(x):
            out = np.maximum(0.01 * x, x)
            cache = x
            return out, cache
    """),
]

RELU_BACKWARD_MUTANTS = [
    RELU_BACKWARD_MODIFIES_CACHE,
    mutant("relu_of_gradient", "relu_backward", "applies the ReLU to the upstream gradient", """
        def relu_backward(dout, cache):
            dx = np.maximum(0, dout)
            return dx
    """),
    mutant("forgets_dout", "relu_backward", "returns the mask x > 0 without multiplying by dout", """
        def relu_backward(dout, cache):
            x = cache
            dx = (x > 0).astype(dout.dtype)
            return dx
    """),
]

SVM_LOSS = """
    def svm_loss(x, y):
        N = x.shape[0]
        rows = np.arange(N)
        margins = np.maximum(0, x - x[rows, y][:, None] + 1.0)
        margins[rows, y] = 0
        loss = np.sum(margins) / N
        positive = (margins > 0).astype(x.dtype)
        positive[rows, y] -= positive.sum(axis=1)
        dx = positive / N
        return loss, dx
"""

SVM_LOSS_MUTANTS = [
    mutant("not_averaged", "svm_loss", "sums the loss and gradient over the batch instead of averaging",
           edited(SVM_LOSS, ("loss = np.sum(margins) / N", "loss = np.sum(margins)"),
                  ("dx = positive / N", "dx = positive"))),
    mutant("counts_correct_class", "svm_loss", "forgets to exclude the correct class from the margins",
           edited(SVM_LOSS, ("margins[rows, y] = 0", ""))),
    mutant("margin_zero", "svm_loss", "uses a margin of 0 instead of 1",
           edited(SVM_LOSS, ("margins = np.maximum(0, x - x[rows, y][:, None] + 1.0)",
                             "margins = np.maximum(0, x - x[rows, y][:, None])"))),
]

SOFTMAX_LOSS = """
    def softmax_loss(x, y):
        N = x.shape[0]
        rows = np.arange(N)
        shifted = x - np.max(x, axis=1, keepdims=True)
        log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        loss = -np.sum(log_probs[rows, y]) / N
        dx = np.exp(log_probs)
        dx[rows, y] -= 1
        dx /= N
        return loss, dx
"""

SOFTMAX_LOSS_MUTANTS = [
    mutant("naive_overflow", "softmax_loss", "exponentiates the raw scores (overflows for large scores)", """
        def softmax_loss(x, y):
            N = x.shape[0]
            exp = np.exp(x)
            probs = exp / np.sum(exp, axis=1, keepdims=True)
            loss = -np.sum(np.log(probs[np.arange(N), y])) / N
            dx = probs.copy()
            dx[np.arange(N), y] -= 1
            dx /= N
            return loss, dx
    """),
    mutant("shifts_x_in_place", "softmax_loss", "subtracts the row maximum from the caller's x in place",
           edited(SOFTMAX_LOSS, ("shifted = x - np.max(x, axis=1, keepdims=True)",
                                 "x -= np.max(x, axis=1, keepdims=True)\nshifted = x"))),
    mutant("dx_not_averaged", "softmax_loss", "averages the loss but not the gradient",
           edited(SOFTMAX_LOSS, ("dx /= N", ""))),
    mutant("loss_not_averaged", "softmax_loss", "sums the loss over the batch",
           edited(SOFTMAX_LOSS, ("loss = -np.sum(log_probs[rows, y]) / N", "loss = -np.sum(log_probs[rows, y])"))),
    mutant("global_max_shift", "softmax_loss", "subtracts the largest score of the whole batch, not of each row",
           edited(SOFTMAX_LOSS, ("shifted = x - np.max(x, axis=1, keepdims=True)", "shifted = x - np.max(x)"))),
]

AFFINE_RELU_FORWARD_MUTANTS = [
    mutant("forgets_relu", "affine_relu_forward", "returns the affine output without the ReLU", """
        def affine_relu_forward(x, w, b):
            a, fc_cache = affine_forward(x, w, b)
            out, relu_cache = a, a
            cache = (fc_cache, relu_cache)
            return out, cache
    """),
    mutant("relu_before_affine", "affine_relu_forward", "applies the ReLU to x before the affine layer", """
        def affine_relu_forward(x, w, b):
            r, relu_cache = relu_forward(x)
            out, fc_cache = affine_forward(r, w, b)
            cache = (fc_cache, relu_cache)
            return out, cache
    """),
]

AFFINE_RELU_BACKWARD_MUTANTS = [
    mutant("skips_relu_backward", "affine_relu_backward", "backpropagates through the affine layer only", """
        def affine_relu_backward(dout, cache):
            fc_cache, relu_cache = cache
            dx, dw, db = affine_backward(dout, fc_cache)
            return dx, dw, db
    """),
    mutant("swaps_dw_db", "affine_relu_backward", "unpacks affine_backward's result as dx, db, dw", """
        def affine_relu_backward(dout, cache):
            fc_cache, relu_cache = cache
            da = relu_backward(dout, relu_cache)
            dx, db, dw = affine_backward(da, fc_cache)
            return dx, dw, db
    """),
]

LAYER_VARIANTS = [
    variant("tensordot", "affine_forward", "np.tensordot over the feature axes, w reshaped to x's shape", """
        def affine_forward(x, w, b):
            w_nd = w.reshape(x.shape[1:] + (w.shape[1],))
            out = np.tensordot(x, w_nd, axes=x.ndim - 1) + b
            cache = (x, w, b)
            return out, cache
    """),
    variant("einsum", "affine_backward", "np.einsum for dx and dw", """
        def affine_backward(dout, cache):
            x, w, b = cache
            x2 = x.reshape(x.shape[0], -1)
            dx = np.einsum("nm,dm->nd", dout, w).reshape(x.shape)
            dw = np.einsum("nd,nm->dm", x2, dout)
            db = dout.sum(axis=0)
            return dx, dw, db
    """),
    variant("where", "relu_forward", "np.where instead of np.maximum", """
        def relu_forward(x):
            out = np.where(x > 0, x, np.zeros_like(x))
            cache = x
            return out, cache
    """),
    variant("where", "relu_backward", "np.where on the cached input", """
        def relu_backward(dout, cache):
            dx = np.where(cache > 0, dout, np.zeros_like(dout))
            return dx
    """),
    variant("loop", "svm_loss", "a loop over the examples and classes", """
        def svm_loss(x, y):
            N, C = x.shape
            loss = 0.0
            dx = np.zeros(x.shape, dtype=np.float64)
            for i in range(N):
                for j in range(C):
                    if j == y[i]:
                        continue
                    margin = x[i, j] - x[i, y[i]] + 1
                    if margin > 0:
                        loss += margin
                        dx[i, j] += 1
                        dx[i, y[i]] -= 1
            return loss / N, dx / N
    """),
    variant("probabilities", "softmax_loss", "stable probabilities, then -log of the correct class", """
        def softmax_loss(x, y):
            N = x.shape[0]
            z = x - x.max(axis=1, keepdims=True)
            probs = np.exp(z)
            probs /= probs.sum(axis=1, keepdims=True)
            loss = -np.mean(np.log(probs[np.arange(N), y]))
            dx = probs
            dx[np.arange(N), y] -= 1
            return loss, dx / N
    """),
    variant("dict_cache", "affine_relu_forward", "a dict cache, read by its own backward pass", """
        def affine_relu_forward(x, w, b):
            a, fc_cache = affine_forward(x, w, b)
            out, relu_cache = relu_forward(a)
            return out, {"relu": relu_cache, "affine": fc_cache}
    """, companions=[("affine_relu_backward", """
        def affine_relu_backward(dout, cache):
            da = relu_backward(dout, cache["relu"])
            return affine_backward(da, cache["affine"])
    """)]),
]

# ------------------------------------------------------------------------------------------------
# 02_batchnorm (mutants keep our cache layout (x_hat, gamma, std), so our backward pass works)
# ------------------------------------------------------------------------------------------------

BATCHNORM_FORWARD = """
    def batchnorm_forward(x, gamma, beta, bn_param):
        mode = bn_param["mode"]
        eps = bn_param.get("eps", 1e-5)
        momentum = bn_param.get("momentum", 0.9)
        N, D = x.shape
        running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
        running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

        if mode == "train":
            sample_mean = x.mean(axis=0)
            sample_var = x.var(axis=0)
            std = np.sqrt(sample_var + eps)
            x_hat = (x - sample_mean) / std
            out = gamma * x_hat + beta
            cache = (x_hat, gamma, std)
            running_mean = momentum * running_mean + (1 - momentum) * sample_mean
            running_var = momentum * running_var + (1 - momentum) * sample_var
        elif mode == "test":
            x_hat = (x - running_mean) / np.sqrt(running_var + eps)
            out = gamma * x_hat + beta
            cache = None
        else:
            raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

        bn_param["running_mean"] = running_mean
        bn_param["running_var"] = running_var
        return out, cache
"""

BATCHNORM_FORWARD_MUTANTS = [
    mutant("corrected_variance", "batchnorm_forward", "normalises with the corrected variance (ddof=1)",
           edited(BATCHNORM_FORWARD, ("sample_var = x.var(axis=0)", "sample_var = x.var(axis=0, ddof=1)"))),
    mutant("momentum_swapped", "batchnorm_forward", "weights the running averages with 1 - momentum and the batch with momentum",
           edited(BATCHNORM_FORWARD,
                  ("running_mean = momentum * running_mean + (1 - momentum) * sample_mean",
                   "running_mean = (1 - momentum) * running_mean + momentum * sample_mean"),
                  ("running_var = momentum * running_var + (1 - momentum) * sample_var",
                   "running_var = (1 - momentum) * running_var + momentum * sample_var"))),
    mutant("test_uses_batch_statistics", "batchnorm_forward", "normalises with the batch statistics in test mode",
           edited(BATCHNORM_FORWARD, ("x_hat = (x - running_mean) / np.sqrt(running_var + eps)",
                                      "x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)"))),
    mutant("eps_outside_sqrt", "batchnorm_forward", "adds eps after the square root",
           edited(BATCHNORM_FORWARD, ("std = np.sqrt(sample_var + eps)", "std = np.sqrt(sample_var) + eps"))),
    mutant("running_not_stored", "batchnorm_forward", "computes the running averages but never stores them in bn_param",
           edited(BATCHNORM_FORWARD, ('bn_param["running_mean"] = running_mean', ""),
                  ('bn_param["running_var"] = running_var', ""))),
    mutant("normalises_each_example", "batchnorm_forward", "takes the statistics over the features (axis=1), not the batch",
           edited(BATCHNORM_FORWARD, ("sample_mean = x.mean(axis=0)", "sample_mean = x.mean(axis=1, keepdims=True)"),
                  ("sample_var = x.var(axis=0)", "sample_var = x.var(axis=1, keepdims=True)"),
                  ("running_mean = momentum * running_mean + (1 - momentum) * sample_mean",
                   "running_mean = momentum * running_mean + (1 - momentum) * sample_mean.mean()"),
                  ("running_var = momentum * running_var + (1 - momentum) * sample_var",
                   "running_var = momentum * running_var + (1 - momentum) * sample_var.mean()"))),
    mutant("any_mode_is_test", "batchnorm_forward", "treats every mode other than 'train' as test mode",
           edited(BATCHNORM_FORWARD, ('elif mode == "test":', "else:"),
                  ("""
                   else:
                       raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
                   """, ""))),
    mutant("updates_running_in_test", "batchnorm_forward", "also updates the running averages in test mode",
           edited(BATCHNORM_FORWARD, ("cache = None", """
               cache = None
               running_mean = momentum * running_mean + (1 - momentum) * x.mean(axis=0)
               running_var = momentum * running_var + (1 - momentum) * x.var(axis=0)
           """))),
    mutant("default_eps_1e-8", "batchnorm_forward", "defaults eps to 1e-8 instead of 1e-5",
           edited(BATCHNORM_FORWARD, ('eps = bn_param.get("eps", 1e-5)', 'eps = bn_param.get("eps", 1e-8)'))),
]

BATCHNORM_BACKWARD = """
    def batchnorm_backward(dout, cache):
        x_hat, gamma, std = cache
        dbeta = dout.sum(axis=0)
        dgamma = (dout * x_hat).sum(axis=0)
        dx_hat = dout * gamma
        dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std
        return dx, dgamma, dbeta
"""

BATCHNORM_BACKWARD_MUTANTS = [
    mutant("ignores_batch_statistics", "batchnorm_backward", "treats the batch mean and variance as constants",
           edited(BATCHNORM_BACKWARD, ("dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std",
                                       "dx = dx_hat / std"))),
    mutant("missing_variance_term", "batchnorm_backward", "forgets the gradient through the batch variance",
           edited(BATCHNORM_BACKWARD, ("dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std",
                                       "dx = (dx_hat - dx_hat.mean(axis=0)) / std"))),
    mutant("missing_mean_term", "batchnorm_backward", "forgets the gradient through the batch mean",
           edited(BATCHNORM_BACKWARD, ("dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std",
                                       "dx = (dx_hat - x_hat * (dx_hat * x_hat).mean(axis=0)) / std"))),
    mutant("dgamma_without_xhat", "batchnorm_backward", "sums dout for dgamma without multiplying by x_hat",
           edited(BATCHNORM_BACKWARD, ("dgamma = (dout * x_hat).sum(axis=0)", "dgamma = dout.sum(axis=0)"))),
    mutant("scales_dout_in_place", "batchnorm_backward", "multiplies dout by gamma in place",
           edited(BATCHNORM_BACKWARD, ("dx_hat = dout * gamma", "dx_hat = dout\ndx_hat *= gamma"))),
    mutant("sums_over_features", "batchnorm_backward", "sums dbeta and dgamma over the features (axis=1)",
           edited(BATCHNORM_BACKWARD, ("dbeta = dout.sum(axis=0)", "dbeta = dout.sum(axis=1)"),
                  ("dgamma = (dout * x_hat).sum(axis=0)", "dgamma = (dout * x_hat).sum(axis=1)"))),
]

AFFINE_BATCHNORM_RELU_FORWARD_MUTANTS = [
    mutant("relu_before_batchnorm", "affine_batchnorm_relu_forward", "applies the ReLU before batch norm", """
        def affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param):
            a, fc_cache = affine_forward(x, w, b)
            r, relu_cache = relu_forward(a)
            out, bn_cache = batchnorm_forward(r, gamma, beta, bn_param)
            cache = (fc_cache, bn_cache, relu_cache)
            return out, cache
    """),
    mutant("copies_bn_param", "affine_batchnorm_relu_forward", "passes a copy of bn_param, so the running averages are lost", """
        def affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param):
            a, fc_cache = affine_forward(x, w, b)
            a_bn, bn_cache = batchnorm_forward(a, gamma, beta, dict(bn_param))
            out, relu_cache = relu_forward(a_bn)
            cache = (fc_cache, bn_cache, relu_cache)
            return out, cache
    """),
    mutant("forgets_batchnorm", "affine_batchnorm_relu_forward", "leaves batch norm out", """
        def affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param):
            a, fc_cache = affine_forward(x, w, b)
            out, relu_cache = relu_forward(a)
            cache = (fc_cache, None, relu_cache)
            return out, cache
    """),
]

AFFINE_BATCHNORM_RELU_BACKWARD_MUTANTS = [
    mutant("skips_relu_backward", "affine_batchnorm_relu_backward", "backpropagates through batch norm and affine only", """
        def affine_batchnorm_relu_backward(dout, cache):
            fc_cache, bn_cache, relu_cache = cache
            da, dgamma, dbeta = batchnorm_backward(dout, bn_cache)
            dx, dw, db = affine_backward(da, fc_cache)
            return dx, dw, db, dgamma, dbeta
    """),
    mutant("swaps_dgamma_dbeta", "affine_batchnorm_relu_backward", "unpacks batchnorm_backward's result as da, dbeta, dgamma", """
        def affine_batchnorm_relu_backward(dout, cache):
            fc_cache, bn_cache, relu_cache = cache
            da_bn = relu_backward(dout, relu_cache)
            da, dbeta, dgamma = batchnorm_backward(da_bn, bn_cache)
            dx, dw, db = affine_backward(da, fc_cache)
            return dx, dw, db, dgamma, dbeta
    """),
    mutant("skips_batchnorm_backward", "affine_batchnorm_relu_backward", "passes the ReLU gradient straight to the affine layer", """
        def affine_batchnorm_relu_backward(dout, cache):
            fc_cache, bn_cache, relu_cache = cache
            da_bn = relu_backward(dout, relu_cache)
            _, dgamma, dbeta = batchnorm_backward(da_bn, bn_cache)
            dx, dw, db = affine_backward(da_bn, fc_cache)
            return dx, dw, db, dgamma, dbeta
    """),
]

BATCHNORM_VARIANTS = [
    variant("staged_graph", "batchnorm_backward", "backpropagation through the staged computational graph", """
        def batchnorm_backward(dout, cache):
            x_hat, gamma, std = cache
            N = dout.shape[0]
            xmu = x_hat * std
            ivar = 1.0 / std
            dbeta = np.sum(dout, axis=0)
            dgamma = np.sum(dout * x_hat, axis=0)
            dxhat = dout * gamma
            divar = np.sum(dxhat * xmu, axis=0)
            dxmu1 = dxhat * ivar
            dsqrtvar = -1.0 / (std ** 2) * divar
            dvar = 0.5 / std * dsqrtvar
            dsq = np.ones_like(dout) * dvar / N
            dxmu2 = 2 * xmu * dsq
            dx1 = dxmu1 + dxmu2
            dmu = -np.sum(dx1, axis=0)
            dx2 = np.ones_like(dout) * dmu / N
            dx = dx1 + dx2
            return dx, dgamma, dbeta
    """),
    variant("dict_cache", "batchnorm_forward", "caches x, the statistics and eps in a dict; its backward pass recomputes x_hat", """
        def batchnorm_forward(x, gamma, beta, bn_param):
            mode = bn_param["mode"]
            eps = bn_param.get("eps", 1e-5)
            momentum = bn_param.get("momentum", 0.9)
            D = x.shape[1]
            running_mean = bn_param.setdefault("running_mean", np.zeros(D, dtype=x.dtype))
            running_var = bn_param.setdefault("running_var", np.zeros(D, dtype=x.dtype))
            if mode == "train":
                mu = np.mean(x, axis=0)
                var = np.mean((x - mu) ** 2, axis=0)
                out = gamma * (x - mu) / np.sqrt(var + eps) + beta
                bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu
                bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
                return out, {"x": x, "mu": mu, "var": var, "gamma": gamma, "eps": eps}
            if mode == "test":
                return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta, None
            raise ValueError("unknown mode %r" % (mode,))
    """, companions=[("batchnorm_backward", """
        def batchnorm_backward(dout, cache):
            x, mu, var, gamma, eps = (cache[k] for k in ("x", "mu", "var", "gamma", "eps"))
            N = x.shape[0]
            inv_std = 1.0 / np.sqrt(var + eps)
            x_hat = (x - mu) * inv_std
            dbeta = dout.sum(axis=0)
            dgamma = np.sum(dout * x_hat, axis=0)
            dx = (gamma * inv_std / N) * (N * dout - dbeta - x_hat * dgamma)
            return dx, dgamma, dbeta
    """)]),
    variant("dict_cache", "affine_batchnorm_relu_forward", "a dict cache, read by its own backward pass", """
        def affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param):
            cache = {}
            a, cache["affine"] = affine_forward(x, w, b)
            a, cache["batchnorm"] = batchnorm_forward(a, gamma, beta, bn_param)
            out, cache["relu"] = relu_forward(a)
            return out, cache
    """, companions=[("affine_batchnorm_relu_backward", """
        def affine_batchnorm_relu_backward(dout, cache):
            da = relu_backward(dout, cache["relu"])
            da, dgamma, dbeta = batchnorm_backward(da, cache["batchnorm"])
            dx, dw, db = affine_backward(da, cache["affine"])
            return dx, dw, db, dgamma, dbeta
    """)]),
]

# ------------------------------------------------------------------------------------------------
# 03_dropout
# ------------------------------------------------------------------------------------------------

DROPOUT_FORWARD = """
    def dropout_forward(x, dropout_param):
        p, mode = dropout_param["p"], dropout_param["mode"]
        if "seed" in dropout_param:
            np.random.seed(dropout_param["seed"])
        mask = None
        if mode == "train":
            mask = np.random.rand(*x.shape) >= p
            out = (x * mask / (1 - p)).astype(x.dtype, copy=False)
        elif mode == "test":
            out = x
        else:
            raise ValueError("unknown mode %r" % (mode,))
        cache = (dropout_param, mask)
        return out, cache
"""

DROPOUT_FORWARD_MUTANTS = [
    DROPOUT_KEEP_PROBABILITY,
    mutant("not_inverted", "dropout_forward", "forgets to scale the kept units by 1 / (1 - p)",
           edited(DROPOUT_FORWARD, ("out = (x * mask / (1 - p)).astype(x.dtype, copy=False)",
                                    "out = (x * mask).astype(x.dtype, copy=False)"))),
    mutant("drops_at_test_time", "dropout_forward", "applies the dropout mask in test mode too",
           edited(DROPOUT_FORWARD, ('if mode == "train":', 'if mode in ("train", "test"):'))),
    mutant("seed_ignored", "dropout_forward", "never seeds the generator with dropout_param['seed']",
           edited(DROPOUT_FORWARD, ("""
               if "seed" in dropout_param:
                   np.random.seed(dropout_param["seed"])
           """, ""))),
    mutant("upcasts_float32", "dropout_forward", "builds a float64 scaled mask, so float32 input comes out float64 "
           "(its backward pass reads the scaled mask)",
           edited(DROPOUT_FORWARD, ("mask = np.random.rand(*x.shape) >= p", "mask = (np.random.rand(*x.shape) >= p) / (1 - p)"),
                  ("out = (x * mask / (1 - p)).astype(x.dtype, copy=False)", "out = x * mask")),
           companions=[("dropout_backward", """
               def dropout_backward(dout, cache):
                   dropout_param, mask = cache
                   return dout * mask if dropout_param["mode"] == "train" else dout
           """)]),
    mutant("in_place", "dropout_forward", "multiplies the caller's x by the mask in place",
           edited(DROPOUT_FORWARD, ("out = (x * mask / (1 - p)).astype(x.dtype, copy=False)",
                                    "x *= mask / (1 - p)\nout = x"))),
    mutant("seed_zero_ignored", "dropout_forward", "tests the seed for truth, so seed 0 is ignored",
           edited(DROPOUT_FORWARD, ('if "seed" in dropout_param:', 'if dropout_param.get("seed"):'))),
]

DROPOUT_BACKWARD = """
    def dropout_backward(dout, cache):
        dropout_param, mask = cache
        mode = dropout_param["mode"]
        if mode == "train":
            dx = dout * mask / (1 - dropout_param["p"])
        elif mode == "test":
            dx = dout
        else:
            raise ValueError("unknown mode %r" % (mode,))
        return dx
"""

DROPOUT_BACKWARD_MUTANTS = [
    mutant("not_inverted", "dropout_backward", "forgets the 1 / (1 - p) scale in the backward pass",
           edited(DROPOUT_BACKWARD, ('dx = dout * mask / (1 - dropout_param["p"])', "dx = dout * mask"))),
    mutant("ignores_test_mode", "dropout_backward", "multiplies by the mask in every mode (the mask is None in test mode)", """
        def dropout_backward(dout, cache):
            dropout_param, mask = cache
            dx = dout * mask / (1 - dropout_param["p"])
            return dx
    """),
    mutant("masks_dout_in_place", "dropout_backward", "multiplies dout by the mask in place",
           edited(DROPOUT_BACKWARD, ('dx = dout * mask / (1 - dropout_param["p"])',
                                     'dout *= mask\ndx = dout / (1 - dropout_param["p"])'))),
    mutant("keep_probability", "dropout_backward", "divides by p instead of 1 - p",
           edited(DROPOUT_BACKWARD, ('dx = dout * mask / (1 - dropout_param["p"])', 'dx = dout * mask / dropout_param["p"]'))),
]

DROPOUT_VARIANTS = [
    variant("binomial_mask", "dropout_forward", "draws an integer mask with np.random.binomial after seeding",
            edited(DROPOUT_FORWARD, ("mask = np.random.rand(*x.shape) >= p", "mask = np.random.binomial(1, 1 - p, size=x.shape)"))),
    variant("local_generator", "dropout_forward", "a local RandomState(seed) instead of seeding the global generator", """
        def dropout_forward(x, dropout_param):
            p, mode = dropout_param["p"], dropout_param["mode"]
            rng = np.random.RandomState(dropout_param["seed"]) if "seed" in dropout_param else np.random
            if mode == "train":
                mask = rng.uniform(size=x.shape) > p
                out = np.where(mask, x / (1 - p), 0).astype(x.dtype)
                return out, (dropout_param, mask)
            if mode == "test":
                return x.copy(), (dropout_param, None)
            raise ValueError("unknown mode %r" % (mode,))
    """),
    variant("scaled_mask", "dropout_forward", "caches the mask already divided by 1 - p; its backward pass multiplies by it",
            edited(DROPOUT_FORWARD, ("mask = np.random.rand(*x.shape) >= p", "mask = (np.random.rand(*x.shape) >= p) / (1 - p)"),
                   ("out = (x * mask / (1 - p)).astype(x.dtype, copy=False)", "out = (x * mask).astype(x.dtype)")),
            companions=[("dropout_backward", """
        def dropout_backward(dout, cache):
            dropout_param, mask = cache
            if dropout_param["mode"] == "train":
                return dout * mask
            return dout
    """)]),
    variant("mask_is_none", "dropout_backward", "decides the mode from the cached mask, np.where for the kept units", """
        def dropout_backward(dout, cache):
            dropout_param, mask = cache
            if mask is None:
                return dout
            return np.where(mask, dout / (1 - dropout_param["p"]), 0)
    """),
]

# ------------------------------------------------------------------------------------------------
# 04_update_rules
# ------------------------------------------------------------------------------------------------

SGD = """
    def sgd(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-2)
        next_w = w - config["learning_rate"] * dw
        return next_w, config
"""

SGD_MUTANTS = [
    mutant("ascends", "sgd", "adds the gradient instead of subtracting it",
           edited(SGD, ('next_w = w - config["learning_rate"] * dw', 'next_w = w + config["learning_rate"] * dw'))),
    mutant("hard_coded_learning_rate", "sgd", "uses 1e-2 whatever the config says",
           edited(SGD, ('next_w = w - config["learning_rate"] * dw', "next_w = w - 1e-2 * dw"))),
    mutant("scales_dw_in_place", "sgd", "multiplies dw by the learning rate in place",
           edited(SGD, ('next_w = w - config["learning_rate"] * dw', 'dw *= config["learning_rate"]\nnext_w = w - dw'))),
]

SGD_MOMENTUM = """
    def sgd_momentum(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-2)
        config.setdefault("momentum", 0.9)
        v = config.get("velocity", np.zeros_like(w))
        v = config["momentum"] * v - config["learning_rate"] * dw
        next_w = w + v
        config["velocity"] = v
        return next_w, config
"""

SGD_MOMENTUM_MUTANTS = [
    MOMENTUM_SIGN,
    mutant("velocity_not_stored", "sgd_momentum", "never stores the new velocity in config",
           edited(SGD_MOMENTUM, ('config["velocity"] = v', ""))),
    mutant("learning_rate_outside", "sgd_momentum", "accumulates raw gradients and scales the step by the learning rate",
           edited(SGD_MOMENTUM, ('v = config["momentum"] * v - config["learning_rate"] * dw', 'v = config["momentum"] * v - dw'),
                  ("next_w = w + v", 'next_w = w + config["learning_rate"] * v'))),
]

SGD_NESTEROV = """
    def sgd_nesterov_momentum(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-2)
        config.setdefault("momentum", 0.9)
        v_old = config.get("velocity", np.zeros_like(w))
        mu = config["momentum"]
        v = mu * v_old - config["learning_rate"] * dw
        next_w = w + v + mu * (v - v_old)
        config["velocity"] = v
        return next_w, config
"""

SGD_NESTEROV_MUTANTS = [
    mutant("plain_momentum", "sgd_nesterov_momentum", "takes the plain momentum step w + v (no look-ahead)",
           edited(SGD_NESTEROV, ("next_w = w + v + mu * (v - v_old)", "next_w = w + v"))),
    mutant("look_ahead_sign", "sgd_nesterov_momentum", "subtracts the look-ahead term",
           edited(SGD_NESTEROV, ("next_w = w + v + mu * (v - v_old)", "next_w = w + v - mu * (v - v_old)"))),
    mutant("velocity_not_stored", "sgd_nesterov_momentum", "never stores the new velocity in config",
           edited(SGD_NESTEROV, ('config["velocity"] = v', ""))),
    mutant("aliased_v_old", "sgd_nesterov_momentum", "keeps v_old as an alias of the velocity and updates it in place",
           edited(SGD_NESTEROV, ('v_old = config.get("velocity", np.zeros_like(w))', """
               v = config.get("velocity", np.zeros_like(w))
               v_old = v                 # not a copy
           """), ('v = mu * v_old - config["learning_rate"] * dw', """
               v *= mu
               v -= config["learning_rate"] * dw
           """))),
]

RMSPROP = """
    def rmsprop(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-2)
        config.setdefault("decay_rate", 0.99)
        config.setdefault("epsilon", 1e-8)
        a = config.get("a", np.zeros_like(w))
        d = config["decay_rate"]
        a = d * a + (1 - d) * dw ** 2
        next_w = w - config["learning_rate"] * dw / (np.sqrt(a) + config["epsilon"])
        config["a"] = a
        return next_w, config
"""

RMSPROP_MUTANTS = [
    mutant("eps_inside_sqrt", "rmsprop", "adds epsilon inside the square root",
           edited(RMSPROP, ('next_w = w - config["learning_rate"] * dw / (np.sqrt(a) + config["epsilon"])',
                            'next_w = w - config["learning_rate"] * dw / np.sqrt(a + config["epsilon"])'))),
    mutant("decay_swapped", "rmsprop", "weights the old average with 1 - decay_rate",
           edited(RMSPROP, ("a = d * a + (1 - d) * dw ** 2", "a = (1 - d) * a + d * dw ** 2"))),
    mutant("average_not_stored", "rmsprop", "never stores the moving average in config",
           edited(RMSPROP, ('config["a"] = a', ""))),
]

ADAM = """
    def adam(w, dw, config=None):
        if config is None:
            config = {}
        config.setdefault("learning_rate", 1e-3)
        config.setdefault("beta1", 0.9)
        config.setdefault("beta2", 0.999)
        config.setdefault("epsilon", 1e-8)
        v = config.get("v", np.zeros_like(w))
        a = config.get("a", np.zeros_like(w))
        t = config.get("t", 0) + 1
        beta1, beta2 = config["beta1"], config["beta2"]
        v = beta1 * v + (1 - beta1) * dw
        a = beta2 * a + (1 - beta2) * dw ** 2
        v_hat = v / (1 - beta1 ** t)
        a_hat = a / (1 - beta2 ** t)
        next_w = w - config["learning_rate"] * v_hat / (np.sqrt(a_hat) + config["epsilon"])
        config["v"], config["a"], config["t"] = v, a, t
        return next_w, config
"""

ADAM_MUTANTS = [
    ADAM_NO_BIAS_CORRECTION,
    mutant("t_not_stored", "adam", "uses t + 1 but never stores the incremented t",
           edited(ADAM, ('config["v"], config["a"], config["t"] = v, a, t', 'config["v"], config["a"] = v, a'))),
    mutant("t_incremented_late", "adam", "bias-corrects with the old t, then increments it",
           edited(ADAM, ('t = config.get("t", 0) + 1', 't = config.get("t", 0)'),
                  ('config["v"], config["a"], config["t"] = v, a, t', 'config["v"], config["a"], config["t"] = v, a, t + 1'))),
    mutant("betas_swapped", "adam", "uses beta2 for the gradient average and beta1 for the squares",
           edited(ADAM, ("v = beta1 * v + (1 - beta1) * dw", "v = beta2 * v + (1 - beta2) * dw"),
                  ("a = beta2 * a + (1 - beta2) * dw ** 2", "a = beta1 * a + (1 - beta1) * dw ** 2"),
                  ("v_hat = v / (1 - beta1 ** t)", "v_hat = v / (1 - beta2 ** t)"),
                  ("a_hat = a / (1 - beta2 ** t)", "a_hat = a / (1 - beta1 ** t)"))),
    mutant("eps_inside_sqrt", "adam", "adds epsilon inside the square root",
           edited(ADAM, ('next_w = w - config["learning_rate"] * v_hat / (np.sqrt(a_hat) + config["epsilon"])',
                         'next_w = w - config["learning_rate"] * v_hat / np.sqrt(a_hat + config["epsilon"])'))),
]

UPDATE_RULE_VARIANTS = [
    variant("in_place", "sgd", "updates w in place (allowed for update rules)",
            edited(SGD, ('next_w = w - config["learning_rate"] * dw', 'w -= config["learning_rate"] * dw\nnext_w = w'))),
    variant("cs231n_form", "sgd_nesterov_momentum", "the equivalent form w - mu * v_old + (1 + mu) * v",
            edited(SGD_NESTEROV, ("next_w = w + v + mu * (v - v_old)", "next_w = w - mu * v_old + (1 + mu) * v"))),
    variant("state_in_place", "rmsprop", "keeps the moving average in config and updates it in place", """
        def rmsprop(w, dw, config=None):
            config = {} if config is None else config
            for key, value in (("learning_rate", 1e-2), ("decay_rate", 0.99), ("epsilon", 1e-8)):
                config.setdefault(key, value)
            cache = config.setdefault("a", np.zeros_like(w))
            cache *= config["decay_rate"]
            cache += (1 - config["decay_rate"]) * np.square(dw)
            next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
            return next_w, config
    """),
    variant("folded_bias_correction", "adam", "folds the bias correction into the step size (Kingma & Ba, section 2)",
            edited(ADAM, ("""
                v_hat = v / (1 - beta1 ** t)
                a_hat = a / (1 - beta2 ** t)
                next_w = w - config["learning_rate"] * v_hat / (np.sqrt(a_hat) + config["epsilon"])
            """, """
                step = config["learning_rate"] * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
                next_w = w - step * v / (np.sqrt(a) + config["epsilon"] * np.sqrt(1 - beta2 ** t))
            """))),
]

# ------------------------------------------------------------------------------------------------
# 05_networks
# ------------------------------------------------------------------------------------------------

TWO_LAYER_NET = """
    class TwoLayerNet(object):
        def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                     dropout=0, weight_scale=1e-3, reg=0.0):
            self.params = {}
            self.reg = reg
            self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
            self.params["b1"] = np.zeros(hidden_dim)
            self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
            self.params["b2"] = np.zeros(num_classes)

        def loss(self, X, y=None):
            W1, b1 = self.params["W1"], self.params["b1"]
            W2, b2 = self.params["W2"], self.params["b2"]
            hidden, hidden_cache = affine_relu_forward(X, W1, b1)
            scores, scores_cache = affine_forward(hidden, W2, b2)
            if y is None:
                return scores
            loss, dscores = softmax_loss(scores, y)
            loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
            grads = {}
            dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
            _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)
            grads["W2"] += self.reg * W2
            grads["W1"] += self.reg * W1
            return loss, grads
"""

TWO_LAYER_NET_MUTANTS = [
    TWO_LAYER_NET_RELU_ON_SCORES,
    mutant("l2_without_half", "TwoLayerNet", "L2 term reg * sum(W**2) (no 0.5), with its matching gradient 2 * reg * W",
           edited(TWO_LAYER_NET, ("loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))",
                                  "loss += self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))"),
                  ('grads["W2"] += self.reg * W2', 'grads["W2"] += 2 * self.reg * W2'),
                  ('grads["W1"] += self.reg * W1', 'grads["W1"] += 2 * self.reg * W1'))),
    mutant("l2_on_biases", "TwoLayerNet", "regularises the biases too (loss and gradient)",
           edited(TWO_LAYER_NET, ("loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))",
                                  "loss += 0.5 * self.reg * sum(np.sum(p * p) for p in (W1, b1, W2, b2))"),
                  ('grads["W1"] += self.reg * W1', 'grads["W1"] += self.reg * W1\ngrads["b1"] += self.reg * b1\n'
                                                    'grads["b2"] += self.reg * b2'))),
    mutant("uniform_init", "TwoLayerNet", "draws the weights from a uniform [0, 1) distribution",
           edited(TWO_LAYER_NET, ('self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)',
                                  'self.params["W1"] = weight_scale * np.random.rand(input_dim, hidden_dim)'),
                  ('self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)',
                   'self.params["W2"] = weight_scale * np.random.rand(hidden_dim, num_classes)'))),
    mutant("no_l2_gradient", "TwoLayerNet", "adds the L2 term to the loss but not to the gradients",
           edited(TWO_LAYER_NET, ('grads["W2"] += self.reg * W2', ""), ('grads["W1"] += self.reg * W1', ""))),
    mutant("weight_scale_as_variance", "TwoLayerNet", "draws the weights with standard deviation weight_scale ** 2",
           edited(TWO_LAYER_NET, ('self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)',
                                  'self.params["W1"] = weight_scale ** 2 * np.random.randn(input_dim, hidden_dim)'),
                  ('self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)',
                   'self.params["W2"] = weight_scale ** 2 * np.random.randn(hidden_dim, num_classes)'))),
]

FULLY_CONNECTED_NET = """
    class FullyConnectedNet(object):
        def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                     dropout=0, use_batchnorm=False, reg=0.0,
                     weight_scale=1e-2, dtype=np.float32, seed=None):
            self.use_batchnorm = use_batchnorm
            self.use_dropout = dropout > 0
            self.reg = reg
            self.num_layers = 1 + len(hidden_dims)
            self.dtype = dtype
            self.params = {}

            dims = [input_dim] + list(hidden_dims) + [num_classes]
            for i in range(1, self.num_layers + 1):
                self.params["W%d" % i] = weight_scale * np.random.randn(dims[i - 1], dims[i])
                self.params["b%d" % i] = np.zeros(dims[i])
                if self.use_batchnorm and i < self.num_layers:
                    self.params["gamma%d" % i] = np.ones(dims[i])
                    self.params["beta%d" % i] = np.zeros(dims[i])

            self.dropout_param = {}
            if self.use_dropout:
                self.dropout_param = {"mode": "train", "p": dropout}
                if seed is not None:
                    self.dropout_param["seed"] = seed

            self.bn_params = []
            if self.use_batchnorm:
                self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]

            for k, v in self.params.items():
                self.params[k] = v.astype(dtype)

        def loss(self, X, y=None):
            X = X.astype(self.dtype)
            mode = "test" if y is None else "train"
            if self.use_dropout:
                self.dropout_param["mode"] = mode
            if self.use_batchnorm:
                for bn_param in self.bn_params:
                    bn_param["mode"] = mode

            L = self.num_layers
            hidden, caches = X, []
            for i in range(1, L):
                W, b = self.params["W%d" % i], self.params["b%d" % i]
                if self.use_batchnorm:
                    hidden, layer_cache = affine_batchnorm_relu_forward(
                        hidden, W, b, self.params["gamma%d" % i], self.params["beta%d" % i], self.bn_params[i - 1])
                else:
                    hidden, layer_cache = affine_relu_forward(hidden, W, b)
                dropout_cache = None
                if self.use_dropout:
                    hidden, dropout_cache = dropout_forward(hidden, self.dropout_param)
                caches.append((layer_cache, dropout_cache))
            scores, scores_cache = affine_forward(hidden, self.params["W%d" % L], self.params["b%d" % L])
            if mode == "test":
                return scores

            loss, dscores = softmax_loss(scores, y)
            grads = {}
            dhidden, grads["W%d" % L], grads["b%d" % L] = affine_backward(dscores, scores_cache)
            for i in range(L - 1, 0, -1):
                layer_cache, dropout_cache = caches[i - 1]
                if self.use_dropout:
                    dhidden = dropout_backward(dhidden, dropout_cache)
                if self.use_batchnorm:
                    (dhidden, grads["W%d" % i], grads["b%d" % i],
                     grads["gamma%d" % i], grads["beta%d" % i]) = affine_batchnorm_relu_backward(dhidden, layer_cache)
                else:
                    dhidden, grads["W%d" % i], grads["b%d" % i] = affine_relu_backward(dhidden, layer_cache)
            for i in range(1, L + 1):
                W = self.params["W%d" % i]
                loss += 0.5 * self.reg * np.sum(W * W)
                grads["W%d" % i] += self.reg * W
            return loss, grads
"""

FULLY_CONNECTED_NET_MUTANTS = [
    mutant("batchnorm_on_last_layer", "FullyConnectedNet", "gives the last layer gamma and beta and batch-normalises the scores",
           edited(FULLY_CONNECTED_NET,
                  ("if self.use_batchnorm and i < self.num_layers:", "if self.use_batchnorm:"),
                  ('self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]',
                   'self.bn_params = [{"mode": "train"} for _ in range(self.num_layers)]'),
                  ('scores, scores_cache = affine_forward(hidden, self.params["W%d" % L], self.params["b%d" % L])', '''
                   scores, scores_cache = affine_forward(hidden, self.params["W%d" % L], self.params["b%d" % L])
                   if self.use_batchnorm:
                       scores, bn_cache = batchnorm_forward(scores, self.params["gamma%d" % L],
                                                            self.params["beta%d" % L], self.bn_params[L - 1])
                   '''),
                  ("loss, dscores = softmax_loss(scores, y)\ngrads = {}", '''
                   loss, dscores = softmax_loss(scores, y)
                   grads = {}
                   if self.use_batchnorm:
                       dscores, grads["gamma%d" % L], grads["beta%d" % L] = batchnorm_backward(dscores, bn_cache)
                   '''))),
    mutant("dropout_seed_ignored", "FullyConnectedNet", "never passes the seed to the dropout layers",
           edited(FULLY_CONNECTED_NET, ("""
               if seed is not None:
                   self.dropout_param["seed"] = seed
           """, ""))),
    mutant("l2_without_half", "FullyConnectedNet", "L2 term reg * sum(W**2) (no 0.5), with its matching gradient",
           edited(FULLY_CONNECTED_NET, ("loss += 0.5 * self.reg * np.sum(W * W)", "loss += self.reg * np.sum(W * W)"),
                  ('grads["W%d" % i] += self.reg * W', 'grads["W%d" % i] += 2 * self.reg * W'))),
    mutant("never_test_mode", "FullyConnectedNet", "never switches batch norm and dropout to test mode",
           edited(FULLY_CONNECTED_NET, ("""
               if self.use_dropout:
                   self.dropout_param["mode"] = mode
               if self.use_batchnorm:
                   for bn_param in self.bn_params:
                       bn_param["mode"] = mode
           """, ""))),
    mutant("shared_bn_param", "FullyConnectedNet", "passes the first layer's bn_param to every batch-norm layer",
           edited(FULLY_CONNECTED_NET, ('self.params["beta%d" % i], self.bn_params[i - 1])',
                                        'self.params["beta%d" % i], self.bn_params[0])'))),
    mutant("no_dtype_cast", "FullyConnectedNet", "never casts the parameters to dtype",
           edited(FULLY_CONNECTED_NET, ("""
               for k, v in self.params.items():
                   self.params[k] = v.astype(dtype)
           """, ""))),
    mutant("l2_on_every_parameter", "FullyConnectedNet", "regularises every parameter: biases, gamma and beta too",
           edited(FULLY_CONNECTED_NET, ("""
               for i in range(1, L + 1):
                   W = self.params["W%d" % i]
                   loss += 0.5 * self.reg * np.sum(W * W)
                   grads["W%d" % i] += self.reg * W
           """, """
               for name, value in self.params.items():
                   loss += 0.5 * self.reg * np.sum(value * value)
                   grads[name] += self.reg * value
           """))),
    mutant("relu_on_scores", "FullyConnectedNet", "ends with affine - relu: a ReLU on the scores",
           edited(FULLY_CONNECTED_NET,
                  ('scores, scores_cache = affine_forward(hidden, self.params["W%d" % L], self.params["b%d" % L])',
                   'scores, scores_cache = affine_relu_forward(hidden, self.params["W%d" % L], self.params["b%d" % L])'),
                  ('dhidden, grads["W%d" % L], grads["b%d" % L] = affine_backward(dscores, scores_cache)',
                   'dhidden, grads["W%d" % L], grads["b%d" % L] = affine_relu_backward(dscores, scores_cache)'))),
    mutant("gamma_starts_at_zero", "FullyConnectedNet", "initialises gamma with zeros",
           edited(FULLY_CONNECTED_NET, ('self.params["gamma%d" % i] = np.ones(dims[i])',
                                        'self.params["gamma%d" % i] = np.zeros(dims[i])'))),
]

NETWORK_VARIANTS = [
    variant("separate_layers", "TwoLayerNet", "np.random.normal initialisation, separate affine and ReLU layers, L2 in a loop", """
        class TwoLayerNet(object):
            def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                         dropout=0, weight_scale=1e-3, reg=0.0):
                self.reg = reg
                self.params = {
                    "W1": np.random.normal(0.0, weight_scale, size=(input_dim, hidden_dim)),
                    "b1": np.zeros(hidden_dim),
                    "W2": np.random.normal(0.0, weight_scale, size=(hidden_dim, num_classes)),
                    "b2": np.zeros(num_classes),
                }

            def loss(self, X, y=None):
                p = self.params
                a, fc1 = affine_forward(X, p["W1"], p["b1"])
                h, relu_cache = relu_forward(a)
                scores, fc2 = affine_forward(h, p["W2"], p["b2"])
                if y is None:
                    return scores
                loss, dscores = softmax_loss(scores, y)
                grads = {}
                dh, grads["W2"], grads["b2"] = affine_backward(dscores, fc2)
                da = relu_backward(dh, relu_cache)
                _, grads["W1"], grads["b1"] = affine_backward(da, fc1)
                for name in ("W1", "W2"):
                    loss += 0.5 * self.reg * np.sum(p[name] ** 2)
                    grads[name] = grads[name] + self.reg * p[name]
                return loss, grads
    """),
    variant("layer_by_layer", "FullyConnectedNet", "calls each layer itself, caches in a dict, L2 over the 'W' keys", """
        class FullyConnectedNet(object):
            def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                         dropout=0, use_batchnorm=False, reg=0.0,
                         weight_scale=1e-2, dtype=np.float32, seed=None):
                self.use_batchnorm = use_batchnorm
                self.use_dropout = dropout > 0
                self.reg = reg
                self.num_layers = 1 + len(hidden_dims)
                self.dtype = dtype
                self.params = {}
                sizes = [input_dim, *hidden_dims, num_classes]
                for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
                    self.params[f"W{layer}"] = np.random.normal(0, weight_scale, (n_in, n_out)).astype(dtype)
                    self.params[f"b{layer}"] = np.zeros(n_out, dtype=dtype)
                    if use_batchnorm and layer < self.num_layers:
                        self.params[f"gamma{layer}"] = np.ones(n_out, dtype=dtype)
                        self.params[f"beta{layer}"] = np.zeros(n_out, dtype=dtype)
                self.dropout_param = {"mode": "train", "p": dropout} if self.use_dropout else {}
                if self.use_dropout and seed is not None:
                    self.dropout_param["seed"] = seed
                self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)] if use_batchnorm else []

            def loss(self, X, y=None):
                X = X.astype(self.dtype)
                mode = "test" if y is None else "train"
                self.dropout_param["mode"] = mode
                for bn_param in self.bn_params:
                    bn_param["mode"] = mode

                cache = {}
                h = X
                for layer in range(1, self.num_layers):
                    h, cache["affine", layer] = affine_forward(h, self.params[f"W{layer}"], self.params[f"b{layer}"])
                    if self.use_batchnorm:
                        h, cache["bn", layer] = batchnorm_forward(h, self.params[f"gamma{layer}"],
                                                                  self.params[f"beta{layer}"], self.bn_params[layer - 1])
                    h, cache["relu", layer] = relu_forward(h)
                    if self.use_dropout:
                        h, cache["dropout", layer] = dropout_forward(h, self.dropout_param)
                last = self.num_layers
                scores, cache["affine", last] = affine_forward(h, self.params[f"W{last}"], self.params[f"b{last}"])
                if mode == "test":
                    return scores

                loss, dh = softmax_loss(scores, y)
                grads = {}
                dh, grads[f"W{last}"], grads[f"b{last}"] = affine_backward(dh, cache["affine", last])
                for layer in reversed(range(1, last)):
                    if self.use_dropout:
                        dh = dropout_backward(dh, cache["dropout", layer])
                    dh = relu_backward(dh, cache["relu", layer])
                    if self.use_batchnorm:
                        dh, grads[f"gamma{layer}"], grads[f"beta{layer}"] = batchnorm_backward(dh, cache["bn", layer])
                    dh, grads[f"W{layer}"], grads[f"b{layer}"] = affine_backward(dh, cache["affine", layer])
                weights = [name for name in self.params if name.startswith("W")]
                loss += 0.5 * self.reg * sum(np.sum(self.params[name] ** 2) for name in weights)
                for name in weights:
                    grads[name] += self.reg * self.params[name]
                return loss, grads
    """),
]




# ------------------------------------------------------------------------------------------------
# Shapes of real student code: each bug must cost points in its own function's tests only
# (one bug costs its points once: composite tests, later notebooks and later assignments use
# known-good building blocks, swapped as forward/backward pairs)
# ------------------------------------------------------------------------------------------------

#: a correct batch-norm backward pass for a cache laid out (x, x_hat, mu, var, gamma, beta, eps)
BATCHNORM_BACKWARD_WIDE_CACHE = """
    def batchnorm_backward(dout, cache):
        x, x_hat, mu, var, gamma, beta, eps = cache
        N = x.shape[0]
        dbeta = dout.sum(axis=0)
        dgamma = (dout * x_hat).sum(axis=0)
        dx_hat = dout * gamma
        dvar = np.sum(dx_hat * (x - mu) * -0.5 * (var + eps) ** -1.5, axis=0)
        dmu = np.sum(-dx_hat / np.sqrt(var + eps), axis=0) + dvar * np.mean(-2.0 * (x - mu), axis=0)
        dx = dx_hat / np.sqrt(var + eps) + dvar * 2.0 * (x - mu) / N + dmu / N
        return dx, dgamma, dbeta
"""

REAL_SHAPE_MUTANTS = [
    mutant("running_averages_swapped_wide_cache", "batchnorm_forward",
           "weights the batch statistic by momentum and the old running value by 1 - momentum, with a cache of "
           "seven entries read by its own (correct) backward pass", """
        def batchnorm_forward(x, gamma, beta, bn_param):
            mode = bn_param["mode"]
            eps = bn_param.get("eps", 1e-5)
            momentum = bn_param.get("momentum", 0.9)
            D = x.shape[1]
            running_mean = bn_param.get("running_mean", np.zeros(D))
            running_var = bn_param.get("running_var", np.zeros(D))
            cache = None
            if mode == "train":
                mu = x.mean(axis=0)
                var = x.var(axis=0)
                x_hat = (x - mu) / np.sqrt(var + eps)
                out = gamma * x_hat + beta
                running_mean = (1 - momentum) * running_mean + momentum * mu
                running_var = (1 - momentum) * running_var + momentum * var
                cache = (x, x_hat, mu, var, gamma, beta, eps)
            elif mode == "test":
                out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
            else:
                raise ValueError("unknown mode")
            bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
            return out, cache
    """, companions=[("batchnorm_backward", BATCHNORM_BACKWARD_WIDE_CACHE)]),
    mutant("running_mean_not_updated_wide_cache", "batchnorm_forward",
           "stores the batch statistics as the running averages (no momentum), with its own cache layout", """
        def batchnorm_forward(x, gamma, beta, bn_param):
            mode = bn_param["mode"]
            eps = bn_param.get("eps", 1e-5)
            D = x.shape[1]
            cache = None
            if mode == "train":
                mu = x.mean(axis=0)
                var = x.var(axis=0)
                x_hat = (x - mu) / np.sqrt(var + eps)
                out = gamma * x_hat + beta
                bn_param["running_mean"], bn_param["running_var"] = mu, var
                cache = (x, x_hat, mu, var, gamma, beta, eps)
            elif mode == "test":
                mean = bn_param.get("running_mean", np.zeros(D))
                var = bn_param.get("running_var", np.zeros(D))
                out = gamma * (x - mean) / np.sqrt(var + eps) + beta
            else:
                raise ValueError("unknown mode")
            return out, cache
    """, companions=[("batchnorm_backward", BATCHNORM_BACKWARD_WIDE_CACHE)]),
    mutant("two_d_only", "dropout_forward", "draws the mask for 2-D input only (x.shape[0], x.shape[1])",
           edited(DROPOUT_FORWARD, ("mask = np.random.rand(*x.shape) >= p", "mask = np.random.rand(x.shape[0], x.shape[1]) >= p"))),
    mutant("scales_by_one_over_p", "dropout_forward", "divides the kept units by p instead of 1 - p",
           edited(DROPOUT_FORWARD, ("out = (x * mask / (1 - p)).astype(x.dtype, copy=False)",
                                    "out = (x * mask / p).astype(x.dtype, copy=False)"))),
    mutant("only_half", "dropout_forward", "works for p = 0.5 only (the public checks' favourite)",
           edited(DROPOUT_FORWARD, ("mask = np.random.rand(*x.shape) >= p", "mask = np.random.rand(*x.shape) >= 0.5"),
                  ("out = (x * mask / (1 - p)).astype(x.dtype, copy=False)", "out = (x * mask * 2).astype(x.dtype, copy=False)"))),
    mutant("left_blank", "dropout_forward", "left as released: raises NotImplementedError", """
        def dropout_forward(x, dropout_param):
            raise NotImplementedError()
    """),
    mutant("recomputes_the_mask", "dropout_backward", "draws the mask again from dropout_param['seed'] instead of "
           "reading it from the cache", """
        def dropout_backward(dout, cache):
            dropout_param, _ = cache
            if dropout_param["mode"] == "test":
                return dout
            p = dropout_param["p"]
            np.random.seed(dropout_param["seed"])
            mask = np.random.rand(*dout.shape) >= p
            return dout * mask / (1 - p)
    """),
    mutant("float64_only", "affine_forward", "writes the product into a preallocated float64 array with np.dot's "
           "out=, which refuses float32 input", """
        def affine_forward(x, w, b):
            N = x.shape[0]
            out = np.zeros((N, w.shape[1]))
            np.dot(x.reshape(N, -1), w, out=out)
            out += b
            return out, (x, w, b)
    """),
    mutant("public_shapes_only", "affine_forward", "reshapes x to the public check's (2, 120)", """
        def affine_forward(x, w, b):
            out = x.reshape(2, 120) @ w + b if x.size == 240 else x.reshape(x.shape[0], x.shape[1] * x.shape[2]) @ w + b
            return out, (x, w, b)
    """),
    mutant("cache_with_output", "affine_forward", "caches (x, w, b, out): one entry more than SPEC's cache", """
        def affine_forward(x, w, b):
            out = x.reshape(x.shape[0], -1) @ w + b
            return out, (x, w, b, out)
    """),
    mutant("cache_without_b", "affine_forward", "caches (x, w): one entry less than SPEC's cache", """
        def affine_forward(x, w, b):
            out = x.reshape(x.shape[0], -1) @ w + b
            return out, (x, w)
    """),
    mutant("recomputes_the_forward", "affine_relu_backward", "recomputes the affine output from the cache but "
           "passes the gradient where it is negative", """
        def affine_relu_backward(dout, cache):
            fc_cache, relu_cache = cache
            x, w, b = fc_cache
            a = x.reshape(x.shape[0], -1) @ w + b
            da = dout * (a < 0)
            return affine_backward(da, fc_cache)
    """),
    mutant("modifies_dout", "relu_backward", "zeroes dout in place where x <= 0 and returns it", """
        def relu_backward(dout, cache):
            dout[cache <= 0] = 0
            return dout
    """),
]

MUTANTS = (AFFINE_FORWARD_MUTANTS + AFFINE_BACKWARD_MUTANTS + RELU_FORWARD_MUTANTS + RELU_BACKWARD_MUTANTS
           + SVM_LOSS_MUTANTS + SOFTMAX_LOSS_MUTANTS + AFFINE_RELU_FORWARD_MUTANTS + AFFINE_RELU_BACKWARD_MUTANTS
           + BATCHNORM_FORWARD_MUTANTS + BATCHNORM_BACKWARD_MUTANTS
           + AFFINE_BATCHNORM_RELU_FORWARD_MUTANTS + AFFINE_BATCHNORM_RELU_BACKWARD_MUTANTS
           + DROPOUT_FORWARD_MUTANTS + DROPOUT_BACKWARD_MUTANTS
           + SGD_MUTANTS + SGD_MOMENTUM_MUTANTS + SGD_NESTEROV_MUTANTS + RMSPROP_MUTANTS + ADAM_MUTANTS
           + TWO_LAYER_NET_MUTANTS + FULLY_CONNECTED_NET_MUTANTS + REAL_SHAPE_MUTANTS)
VARIANTS = LAYER_VARIANTS + BATCHNORM_VARIANTS + DROPOUT_VARIANTS + UPDATE_RULE_VARIANTS + NETWORK_VARIANTS
ALL_CASES = MUTANTS + VARIANTS

# ------------------------------------------------------------------------------------------------
# The sample class and the benchmark's hostile submissions
# ------------------------------------------------------------------------------------------------

SAMPLE_STUDENTS = (
    SampleStudent("full_marks", "hands in the instructor's solutions", kind="honest",
                  first_name="Ada", last_name="Lovelace"),
    SampleStudent("untouched_release", "hands in the release without changes", blank=True, loses=("*",),
                  kind="blank", first_name="Blaise", last_name="Pascal"),
    SampleStudent("cache_in_place", "relu_backward overwrites the cached input",
                  cases=(RELU_BACKWARD_MODIFIES_CACHE,), loses=("relu_backward",),
                  first_name="Grace", last_name="Hopper"),
    SampleStudent("drop_vs_keep", "dropout_forward treats p as the keep probability",
                  cases=(DROPOUT_KEEP_PROBABILITY,), loses=("dropout_forward",),
                  first_name="Alan", last_name="Turing"),
    SampleStudent("momentum_sign", "sgd_momentum adds the gradient to the velocity",
                  cases=(MOMENTUM_SIGN,), loses=("sgd_momentum",),
                  first_name="Emmy", last_name="Noether"),
    SampleStudent("no_bias_correction", "adam without bias correction",
                  cases=(ADAM_NO_BIAS_CORRECTION,), loses=("adam",),
                  first_name="Kurt", last_name="Gödel"),
    SampleStudent("relu_on_scores", "TwoLayerNet applies a ReLU to the scores",
                  cases=(TWO_LAYER_NET_RELU_ON_SCORES,), loses=("TwoLayerNet",),
                  first_name="Sofia", last_name="Kovalevskaya"),
    SampleStudent("syntax_error", "the softmax_loss cell has a syntax error",
                  edits={"softmax_loss": missing_colon}, loses=("softmax_loss",),
                  first_name="John", last_name="von Neumann"),
    SampleStudent("cell_raises", "the svm_loss cell raises before defining svm_loss",
                  edits={"svm_loss": failing_import}, loses=("svm_loss",),
                  first_name="Katherine", last_name="Johnson"),
    SampleStudent("infinite_loop", "relu_forward never returns",
                  cases=(RELU_FORWARD_INFINITE_LOOP,), loses=("relu_forward",),
                  first_name="Edsger", last_name="Dijkstra"),
)

#: attacks that plain nbgrader also survives (no fork or memory bombs): graded by both in `make bench`,
#: but their grades are not compared (plain nbgrader can be fooled by some of them: that is the point)
BENCH_ATTACKS = (
    SampleStudent("adv_sys_exit", "relu_forward calls sys.exit() when it is called", kind="adversarial",
                  cases=(mutant("sys_exit", "relu_forward", "calls sys.exit", """
                      import sys

                      def relu_forward(x):
                          sys.exit(0)
                  """),)),
    SampleStudent("adv_patch_numpy", "a wrong svm_loss, and numpy's comparison functions patched to always agree",
                  kind="adversarial", cases=(mutant("patch_numpy", "svm_loss", "patches numpy", """
                      import numpy as np
                      np.allclose = lambda *args, **kwargs: True
                      np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, bool)
                      np.testing.assert_allclose = lambda *args, **kwargs: None

                      def svm_loss(x, y):
                          return 0.0, np.zeros_like(x)
                  """),)),
    SampleStudent("adv_forge_score", "a wrong softmax_loss, and the test cells' Checks.score patched to give full "
                  "points", kind="adversarial", cases=(mutant("forge_score", "softmax_loss", "forges the score", """
                      import numpy as np
                      import nnkit.checks
                      nnkit.checks.Checks.score = lambda self: self.points

                      def softmax_loss(x, y):
                          return 0.0, np.zeros_like(x)
                  """),)),
    SampleStudent("adv_raise_after", "the affine_forward cell raises KeyboardInterrupt after defining a correct "
                  "affine_forward", kind="adversarial", edits={"affine_forward": suffixed("raise KeyboardInterrupt")}),
)

"""Implementations written the way students write them: buggy ("mutants") and
correct-but-different ("variants"). Each replaces one solution cell of the
instructor's submission; the sample class and the mutation harness use them.
"""
from dataclasses import dataclass
from textwrap import dedent


@dataclass(frozen=True)
class Case:
    """One replacement of a graded function's solution cell.

    - name: unique, e.g. "relu_backward/modifies_cache"
    - function: the graded function or class it replaces
    - correct: True for a variant (must keep full marks), False for a mutant (must lose points)
    - source: the complete new source of the solution cell
    - description: what the student did
    """
    name: str
    function: str
    correct: bool
    source: str
    description: str


def mutant(name, function, description, source):
    return Case(f"{function}/{name}", function, False, dedent(source).strip() + "\n", description)


def variant(name, function, description, source):
    return Case(f"{function}/{name}", function, True, dedent(source).strip() + "\n", description)


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
            mask = (np.random.rand(*x.shape) < p) / p
            out = x * mask
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

SAMPLE_CASES = [RELU_BACKWARD_MODIFIES_CACHE, DROPOUT_KEEP_PROBABILITY, MOMENTUM_SIGN,
                ADAM_NO_BIAS_CORRECTION, TWO_LAYER_NET_RELU_ON_SCORES, RELU_FORWARD_INFINITE_LOOP]

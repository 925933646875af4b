"""Numerical-gradient loops over student code run as one request, with the same results."""
from judging import one_function_notebook, run, text_of

from conftest import needs_sandbox

pytestmark = needs_sandbox

LOOP_STUDENT = """import numpy as np
calls, moody_calls, fragile_calls = [0], [0], [0]
def affine(x, w, b):
    calls[0] += 1
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)
def moody(x, w):
    calls[0] += 1
    moody_calls[0] += 1
    if moody_calls[0] == 9:
        x[0, 0] += 1.0       # changes its argument in place, once
    print('call', moody_calls[0])
    return x @ w
def fragile(x):
    calls[0] += 1
    fragile_calls[0] += 1
    if fragile_calls[0] == 31:
        raise ValueError('call %d failed' % fragile_calls[0])
    return np.sum(x ** 2)
def counted_double(x, param):
    calls[0] += 1
    param['seen'] = param.get('seen', 0) + 1     # like batchnorm_forward's running averages
    return 2 * x + param['seen']
def count():
    return calls[0]"""
LOOP_TEST = """from nnkit.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
checks = Checks(points=1)
def show(label, grad, *arrays):
    print(label, repr(grad.tolist()), [a.tolist() for a in arrays], count())
rng = np.random.RandomState(0)
x, w, b = rng.randn(2, 3, 2), rng.randn(6, 4), rng.randn(4)
dout = rng.randn(2, 4)
show('same x', eval_numerical_gradient_array(lambda v: affine(v, w, b)[0], x, dout), x)
show('copied x', eval_numerical_gradient_array(lambda v: affine(v.copy(), w, b)[0], x, dout), x)
show('w', eval_numerical_gradient_array(lambda v: affine(x, v, b)[0], w, dout), w)
show('w by keyword', eval_numerical_gradient_array(lambda v: affine(x, w=v, b=b)[0], w, dout), w)
show('two calls', eval_numerical_gradient_array(lambda v: affine(affine(v, w, b)[0], np.eye(4), b)[0], x, dout), x)
xt = rng.randn(4, 3).T      # not C-ordered: the loop visits entries in memory order
show('transposed', eval_numerical_gradient_array(lambda v: affine(v, w[:4], b)[0], xt, rng.randn(3, 4)), xt)
fresh = lambda v: counted_double(v.copy(), {'mode': 'train'})
show('fresh dict', eval_numerical_gradient_array(fresh, x, rng.randn(*x.shape)), x)
param = {'mode': 'train'}
show('shared dict', eval_numerical_gradient_array(lambda v: counted_double(v, param), x, rng.randn(*x.shape)), x)
print(param)
xs = rng.randn(3, 4)
show('in place', eval_numerical_gradient_array(lambda v: moody(v, w[:4]), xs, rng.randn(3, 4)), xs)
try:
    eval_numerical_gradient(lambda v: fragile(v), rng.randn(5, 5), verbose=False)
except ValueError as exc:
    print('raised', exc, count())
print('done')
checks.score()"""


def test_numerical_gradient_loops_run_in_one_request_with_the_same_results(monkeypatch):
    """The student calls of nnkit's gradient loops run beside the student's code: same values, far fewer requests."""
    from grader.judge import channel, perturbation

    requests = []
    original_request = channel.StudentProcess.request

    def counted(process, message, restart=True):
        requests.append(message["op"])
        return original_request(process, message, restart)

    monkeypatch.setattr(channel.StudentProcess, "request", counted)
    outputs = {}
    for mode, loops in (("call by call", ()), ("batched", perturbation.PERTURBATION_LOOPS)):
        monkeypatch.setattr(perturbation, "PERTURBATION_LOOPS", loops)
        requests.clear()
        nb = one_function_notebook("loops", LOOP_STUDENT, LOOP_TEST)
        run(nb)
        outputs[mode] = (text_of(nb.cells[2]), requests.count("call"), requests.count("perturbed_calls"))
    (batched, calls, batches), (one_by_one, calls_one_by_one, _) = outputs["batched"], outputs["call by call"]
    assert "raised call 31 failed" in one_by_one and "call 9" in one_by_one and "done" in one_by_one
    assert batched == one_by_one
    # seven loops batch; "w by keyword" and "two calls" go call by call, and so does "shared dict"
    # (each call changes the dict the next call gets)
    assert "{'mode': 'train', 'seen': 24}" in one_by_one
    assert batches == 7 and calls + batches < calls_one_by_one / 2, (calls, batches, calls_one_by_one)

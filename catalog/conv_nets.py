"""The catalog of the conv_nets assignment: implementations written the way students write them.

Format: grader/quality/catalog.py. Every case replaces solution cells of the instructor's
submission (the cell named by `function`, and its `companions`):

- MUTANTS: realistic bugs; each must lose points on its function's tests and nowhere else;
- VARIANTS: correct implementations that differ from the instructor's; each keeps every point;
- SAMPLE_STUDENTS: the sample class; BENCH_ATTACKS: hostile submissions for the benchmark.

A spatial batch-norm case whose cache differs from the instructor's (the cache is the student's
choice) also replaces the backward pass that reads it, written consistently with its forward pass:
a bug in the forward pass is then charged only in the forward pass's tests (the backward tests
accept the gradient of the student's own forward pass).
"""
from grader.quality.catalog import edited, mutant, variant
from grader.quality.sample_class import EVERYTHING, SampleStudent, failing_import, missing_colon, suffixed

# ------------------------------------------------------------------------------------------------
# 01_convolution
# ------------------------------------------------------------------------------------------------

CONV_FORWARD = """
    def conv_forward_naive(x, w, b, conv_param):
        stride, pad = conv_param["stride"], conv_param["pad"]
        N, C, H, W = x.shape
        F, _, HH, WW = w.shape
        H_out = 1 + (H + 2 * pad - HH) // stride
        W_out = 1 + (W + 2 * pad - WW) // stride
        x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
        out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
        for n in range(N):
            for f in range(F):
                for i in range(H_out):
                    for j in range(W_out):
                        window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                        out[n, f, i, j] = np.sum(window * w[f]) + b[f]
        cache = (x, w, b, conv_param)
        return out, cache
"""

CONV_FORWARD_MUTANTS = [
    mutant("flipped_kernel", "conv_forward_naive", "computes a true convolution: flips the filter",
           edited(CONV_FORWARD, ("out[n, f, i, j] = np.sum(window * w[f]) + b[f]",
                                 "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]"))),
    mutant("bias_per_channel", "conv_forward_naive", "adds the bias once per input channel, inside a loop over c", """
        def conv_forward_naive(x, w, b, conv_param):
            stride, pad = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, HH, WW = w.shape
            H_out = 1 + (H + 2 * pad - HH) // stride
            W_out = 1 + (W + 2 * pad - WW) // stride
            x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            out = np.zeros((N, F, H_out, W_out))
            for n in range(N):
                for f in range(F):
                    for c in range(C):
                        for i in range(H_out):
                            for j in range(W_out):
                                window = x_pad[n, c, i * stride:i * stride + HH, j * stride:j * stride + WW]
                                out[n, f, i, j] += np.sum(window * w[f, c]) + b[f]
            return out, (x, w, b, conv_param)
    """),
    mutant("bias_broadcast_last_axis", "conv_forward_naive", "adds b to out (N, F, H', W') without reshaping it: "
           "numpy broadcasts it along the last axis", edited(
               CONV_FORWARD, ("out[n, f, i, j] = np.sum(window * w[f]) + b[f]", "out[n, f, i, j] = np.sum(window * w[f])"),
               ("cache = (x, w, b, conv_param)", "out = out + b\ncache = (x, w, b, conv_param)"))),
    mutant("stride_ignored_in_window", "conv_forward_naive", "computes the output size with the stride but moves "
           "the window one pixel at a time",
           edited(CONV_FORWARD, ("window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]",
                                 "window = x_pad[n, :, i:i + HH, j:j + WW]"))),
    mutant("output_size_off_by_one", "conv_forward_naive", "forgets the 1 + in the output size",
           edited(CONV_FORWARD, ("H_out = 1 + (H + 2 * pad - HH) // stride", "H_out = (H + 2 * pad - HH) // stride"),
                  ("W_out = 1 + (W + 2 * pad - WW) // stride", "W_out = (W + 2 * pad - WW) // stride"))),
    mutant("pad_one_side", "conv_forward_naive", "puts all 2 * pad zeros after the image (bottom and right)",
           edited(CONV_FORWARD, ('x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")',
                                 'x_pad = np.pad(x, ((0, 0), (0, 0), (0, 2 * pad), (0, 2 * pad)), mode="constant")'))),
    mutant("edge_padding", "conv_forward_naive", "pads with copies of the border pixels (mode='edge') instead of zeros",
           edited(CONV_FORWARD, ('x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")',
                                 'x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="edge")'))),
    mutant("square_images_only", "conv_forward_naive", "uses the height for the width: assumes square images",
           edited(CONV_FORWARD, ("W_out = 1 + (W + 2 * pad - WW) // stride", "W_out = H_out"))),
    mutant("caches_padded_x", "conv_forward_naive", "caches the padded input instead of x",
           edited(CONV_FORWARD, ("cache = (x, w, b, conv_param)", "cache = (x_pad, w, b, conv_param)"))),
]

CONV_BACKWARD = """
    def conv_backward_naive(dout, cache):
        x, w, b, conv_param = cache
        stride, pad = conv_param["stride"], conv_param["pad"]
        N, C, H, W = x.shape
        F, _, HH, WW = w.shape
        _, _, H_out, W_out = dout.shape
        x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
        dx_pad = np.zeros(x_pad.shape, dtype=np.result_type(dout, w))
        dw = np.zeros(w.shape, dtype=np.result_type(dout, x))
        for n in range(N):
            for f in range(F):
                for i in range(H_out):
                    for j in range(W_out):
                        rows = slice(i * stride, i * stride + HH)
                        cols = slice(j * stride, j * stride + WW)
                        dx_pad[n, :, rows, cols] += w[f] * dout[n, f, i, j]
                        dw[f] += x_pad[n, :, rows, cols] * dout[n, f, i, j]
        db = dout.sum(axis=(0, 2, 3))
        dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
        return dx, dw, db
"""

CONV_BACKWARD_MUTANTS = [
    mutant("dx_not_cropped", "conv_backward_naive", "returns the gradient of the padded input (forgets to cut the padding off)",
           edited(CONV_BACKWARD, ("dx = dx_pad[:, :, pad:pad + H, pad:pad + W]", "dx = dx_pad"))),
    mutant("dw_reset_per_image", "conv_backward_naive", "initialises dw inside the loop over images: "
           "keeps the last image's contribution only", edited(
               CONV_BACKWARD, ("dw = np.zeros(w.shape, dtype=np.result_type(dout, x))", ""),
               ("for n in range(N):", "for n in range(N):\n    dw = np.zeros(w.shape, dtype=np.result_type(dout, x))"))),
    mutant("db_per_image", "conv_backward_naive", "sums db over the pixels but not over the images: shape (N, F)",
           edited(CONV_BACKWARD, ("db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=(2, 3))"))),
    mutant("stride_ignored", "conv_backward_naive", "moves the window one pixel at a time in the backward pass",
           edited(CONV_BACKWARD, ("rows = slice(i * stride, i * stride + HH)", "rows = slice(i, i + HH)"),
                  ("cols = slice(j * stride, j * stride + WW)", "cols = slice(j, j + WW)"))),
    mutant("dx_flipped_kernel", "conv_backward_naive", "flips the filter for dx (as in a full convolution) while "
           "keeping the window arithmetic of the forward pass",
           edited(CONV_BACKWARD, ("dx_pad[n, :, rows, cols] += w[f] * dout[n, f, i, j]",
                                  "dx_pad[n, :, rows, cols] += w[f, :, ::-1, ::-1] * dout[n, f, i, j]"))),
    mutant("dw_averaged", "conv_backward_naive", "divides dw and db by the number of images",
           edited(CONV_BACKWARD, ("db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=(0, 2, 3)) / N\ndw /= N"))),
    mutant("gradient_buffer_aliases_input", "conv_backward_naive", "skips the padding when pad is 0 and zeroes "
           "'dx_pad = x_pad' in place to start from zeros: overwrites the cached x", """
        def conv_backward_naive(dout, cache):
            x, w, b, conv_param = cache
            stride, pad = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, HH, WW = w.shape
            _, _, H_out, W_out = dout.shape
            x_pad = x if pad == 0 else np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            dw = np.zeros_like(w)
            for n in range(N):
                for f in range(F):
                    for i in range(H_out):
                        for j in range(W_out):
                            window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                            dw[f] += window * dout[n, f, i, j]
            dx_pad = x_pad
            dx_pad[...] = 0
            for n in range(N):
                for f in range(F):
                    for i in range(H_out):
                        for j in range(W_out):
                            dx_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += w[f] * dout[n, f, i, j]
            db = dout.sum(axis=(0, 2, 3))
            return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, db
    """),
]

CONV_VARIANTS = [
    variant("einsum_per_pixel", "conv_forward_naive", "loops over output pixels only: one einsum over (C, HH, WW) "
            "for all images and filters", """
        def conv_forward_naive(x, w, b, conv_param):
            s, p = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, HH, WW = w.shape
            Ho, Wo = (H + 2 * p - HH) // s + 1, (W + 2 * p - WW) // s + 1
            xp = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)])
            out = np.empty((N, F, Ho, Wo))
            for i in range(Ho):
                for j in range(Wo):
                    out[:, :, i, j] = np.einsum("nckl,fckl->nf", xp[:, :, i * s:i * s + HH, j * s:j * s + WW], w)
            out += b.reshape(1, F, 1, 1)
            return out, (x, w, b, conv_param)
    """),
    variant("sliding_window_tensordot", "conv_forward_naive", "no loops: sliding_window_view of the padded input "
            "and one tensordot (im2col)", """
        from numpy.lib.stride_tricks import sliding_window_view

        def conv_forward_naive(x, w, b, conv_param):
            stride, pad = conv_param["stride"], conv_param["pad"]
            F, C, HH, WW = w.shape
            x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            windows = sliding_window_view(x_pad, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
            out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2) + b[None, :, None, None]
            return out, (x, w, b, conv_param)
    """),
    variant("as_strided_matmul", "conv_forward_naive", "im2col with as_strided and a matrix product", """
        from numpy.lib.stride_tricks import as_strided

        def conv_forward_naive(x, w, b, conv_param):
            stride, pad = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, HH, WW = w.shape
            H_out = 1 + (H + 2 * pad - HH) // stride
            W_out = 1 + (W + 2 * pad - WW) // stride
            x_pad = np.ascontiguousarray(np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))))
            sN, sC, sH, sW = x_pad.strides
            cols = as_strided(x_pad, shape=(N, H_out, W_out, C, HH, WW),
                              strides=(sN, stride * sH, stride * sW, sC, sH, sW))
            cols = cols.reshape(N * H_out * W_out, C * HH * WW)
            out = cols @ w.reshape(F, -1).T + b
            out = out.reshape(N, H_out, W_out, F).transpose(0, 3, 1, 2)
            return out, (x, w, b, conv_param)
    """),
    variant("filter_taps", "conv_forward_naive", "loops over the filter taps (k, l) instead of the output pixels, "
            "with a zero array for the padding", """
        def conv_forward_naive(x, w, b, conv_param):
            stride, pad = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, HH, WW = w.shape
            H_out = 1 + (H + 2 * pad - HH) // stride
            W_out = 1 + (W + 2 * pad - WW) // stride
            x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
            x_pad[:, :, pad:pad + H, pad:pad + W] = x
            out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
            for k in range(HH):
                for l in range(WW):
                    patch = x_pad[:, :, k:k + stride * H_out:stride, l:l + stride * W_out:stride]
                    out += np.einsum("nchw,fc->nfhw", patch, w[:, :, k, l])
            out += b[None, :, None, None]
            return out, (x, w, b, conv_param)
    """),
    variant("seven_loops", "conv_backward_naive", "every scalar in its own loop (n, f, i, j, c, k, l), padding by "
            "index arithmetic instead of a padded array", """
        def conv_backward_naive(dout, cache):
            x, w, b, conv_param = cache
            stride, pad = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, HH, WW = w.shape
            _, _, H_out, W_out = dout.shape
            dx, dw, db = np.zeros(x.shape), np.zeros(w.shape), np.zeros(b.shape)
            for n in range(N):
                for f in range(F):
                    for i in range(H_out):
                        for j in range(W_out):
                            g = dout[n, f, i, j]
                            db[f] += g
                            for c in range(C):
                                for k in range(HH):
                                    r = i * stride + k - pad
                                    if r < 0 or r >= H:
                                        continue
                                    for l in range(WW):
                                        q = j * stride + l - pad
                                        if 0 <= q < W:
                                            dx[n, c, r, q] += w[f, c, k, l] * g
                                            dw[f, c, k, l] += x[n, c, r, q] * g
            return dx, dw, db
    """),
    variant("windows_add_at", "conv_backward_naive", "vectorised: dw by tensordot over sliding windows, dx by "
            "np.add.at of the window gradients (col2im)", """
        from numpy.lib.stride_tricks import sliding_window_view

        def conv_backward_naive(dout, cache):
            x, w, b, conv_param = cache
            s, p = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, HH, WW = w.shape
            _, _, Ho, Wo = dout.shape
            x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
            windows = sliding_window_view(x_pad, (HH, WW), axis=(2, 3))[:, :, ::s, ::s]   # (N, C, Ho, Wo, HH, WW)
            dw = np.einsum("nfij,ncijkl->fckl", dout, windows)
            db = dout.sum(axis=(0, 2, 3))
            dwin = np.einsum("nfij,fckl->ncijkl", dout, w)
            rows = (np.arange(Ho) * s)[:, None, None, None] + np.arange(HH)[None, None, :, None]
            cols = (np.arange(Wo) * s)[None, :, None, None] + np.arange(WW)[None, None, None, :]
            dx_pad = np.zeros_like(x_pad, dtype=np.result_type(dout, w))
            np.add.at(dx_pad, (slice(None), slice(None), rows, cols), dwin)
            return dx_pad[:, :, p:p + H, p:p + W], dw, db
    """),
]

# ------------------------------------------------------------------------------------------------
# 02_pooling
# ------------------------------------------------------------------------------------------------

POOL_FORWARD = """
    def max_pool_forward_naive(x, pool_param):
        ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
        N, C, H, W = x.shape
        H_out = 1 + (H - ph) // stride
        W_out = 1 + (W - pw) // stride
        out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
        for i in range(H_out):
            for j in range(W_out):
                window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
                out[:, :, i, j] = window.max(axis=(2, 3))
        cache = (x, pool_param)
        return out, cache
"""

POOL_FORWARD_MUTANTS = [
    mutant("max_over_channels", "max_pool_forward_naive", "takes the maximum over the channels of the window too", """
        def max_pool_forward_naive(x, pool_param):
            ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
            N, C, H, W = x.shape
            H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
            out = np.zeros((N, C, H_out, W_out))
            for n in range(N):
                for i in range(H_out):
                    for j in range(W_out):
                        out[n, :, i, j] = np.max(x[n, :, i * s:i * s + ph, j * s:j * s + pw])
            return out, (x, pool_param)
    """),
    mutant("stride_ignored", "max_pool_forward_naive", "moves the window one pixel at a time",
           edited(POOL_FORWARD, ("window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]",
                                 "window = x[:, :, i:i + ph, j:j + pw]"))),
    mutant("running_max_from_zero", "max_pool_forward_naive", "starts the running maximum of every window at 0", """
        def max_pool_forward_naive(x, pool_param):
            ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
            N, C, H, W = x.shape
            H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
            out = np.zeros((N, C, H_out, W_out))
            for n in range(N):
                for c in range(C):
                    for i in range(H_out):
                        for j in range(W_out):
                            best = 0
                            for k in range(ph):
                                for l in range(pw):
                                    best = max(best, x[n, c, i * s + k, j * s + l])
                            out[n, c, i, j] = best
            return out, (x, pool_param)
    """),
    mutant("height_width_swapped", "max_pool_forward_naive", "reads pool_width as the window's height and "
           "pool_height as its width",
           edited(POOL_FORWARD, ('ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]',
                                 'pw, ph, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]'))),
    mutant("average_pooling", "max_pool_forward_naive", "averages the window instead of taking its maximum",
           edited(POOL_FORWARD, ("out[:, :, i, j] = window.max(axis=(2, 3))", "out[:, :, i, j] = window.mean(axis=(2, 3))"))),
    mutant("caches_output", "max_pool_forward_naive", "caches (out, pool_param) instead of (x, pool_param)",
           edited(POOL_FORWARD, ("cache = (x, pool_param)", "cache = (out, pool_param)"))),
    mutant("output_size_ignores_stride", "max_pool_forward_naive", "computes the output size as for stride 1",
           edited(POOL_FORWARD, ("H_out = 1 + (H - ph) // stride", "H_out = 1 + (H - ph)"),
                  ("W_out = 1 + (W - pw) // stride", "W_out = 1 + (W - pw)"))),
]

POOL_BACKWARD = """
    def max_pool_backward_naive(dout, cache):
        x, pool_param = cache
        ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
        N, C, H, W = x.shape
        _, _, H_out, W_out = dout.shape
        dx = np.zeros(x.shape, dtype=np.result_type(dout, x))
        for n in range(N):
            for c in range(C):
                for i in range(H_out):
                    for j in range(W_out):
                        window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                        k, l = np.unravel_index(np.argmax(window), window.shape)
                        dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j]
        return dx
"""

POOL_MASK_BACKWARD = """
    def max_pool_backward_naive(dout, cache):
        x, pool_param = cache
        ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
        N, C, H, W = x.shape
        _, _, H_out, W_out = dout.shape
        dx = np.zeros_like(x)
        for n in range(N):
            for c in range(C):
                for i in range(H_out):
                    for j in range(W_out):
                        window = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                        mask = window == np.max(window)
                        dx[n, c, i * s:i * s + ph, j * s:j * s + pw] += mask * dout[n, c, i, j]
        return dx
"""

POOL_BACKWARD_MUTANTS = [
    mutant("overlaps_overwrite", "max_pool_backward_naive", "assigns the gradient of each window's maximum "
           "instead of adding it: overlapping windows overwrite each other",
           edited(POOL_BACKWARD, ("dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j]",
                                  "dx[n, c, i * stride + k, j * stride + l] = dout[n, c, i, j]"))),
    mutant("mask_assigned_to_window", "max_pool_backward_naive", "writes mask * dout into the whole window: the "
           "window's zeros erase what overlapping windows added",
           edited(POOL_MASK_BACKWARD, ("dx[n, c, i * s:i * s + ph, j * s:j * s + pw] += mask * dout[n, c, i, j]",
                                       "dx[n, c, i * s:i * s + ph, j * s:j * s + pw] = mask * dout[n, c, i, j]"))),
    mutant("spread_over_window", "max_pool_backward_naive", "spreads the gradient evenly over the window "
           "(the gradient of average pooling)",
           edited(POOL_MASK_BACKWARD, ("dx[n, c, i * s:i * s + ph, j * s:j * s + pw] += mask * dout[n, c, i, j]",
                                       "dx[n, c, i * s:i * s + ph, j * s:j * s + pw] += dout[n, c, i, j] / (ph * pw)"))),
    mutant("argmax_over_whole_image", "max_pool_backward_naive", "takes the argmax over the whole channel image "
           "instead of the window",
           edited(POOL_BACKWARD, ("k, l = np.unravel_index(np.argmax(window), window.shape)",
                                  "k, l = np.unravel_index(np.argmax(x[n, c]), x[n, c].shape)"),
                  ("dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j]", "dx[n, c, k, l] += dout[n, c, i, j]"))),
    mutant("argmax_not_offset", "max_pool_backward_naive", "uses the position of the maximum within the window "
           "as a position in the image (forgets the window's corner)",
           edited(POOL_BACKWARD, ("dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j]",
                                  "dx[n, c, k, l] += dout[n, c, i, j]"))),
    mutant("zeroes_cached_window", "max_pool_backward_naive", "builds the mask by zeroing the non-maxima of the "
           "window, a view of the cached x",
           edited(POOL_MASK_BACKWARD, ("mask = window == np.max(window)",
                                       "window[window < np.max(window)] = 0\nmask = window != 0"))),
    mutant("stride_ignored", "max_pool_backward_naive", "moves the window one pixel at a time in the backward pass",
           edited(POOL_BACKWARD, ("window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]",
                                  "window = x[n, c, i:i + ph, j:j + pw]"),
                  ("dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j]", "dx[n, c, i + k, j + l] += dout[n, c, i, j]"))),
]

POOL_VARIANTS = [
    variant("reshape_when_tiling", "max_pool_forward_naive", "a reshape when the windows tile the input, loops "
            "over the windows otherwise", """
        def max_pool_forward_naive(x, pool_param):
            ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
            N, C, H, W = x.shape
            H_out, W_out = (H - ph) // s + 1, (W - pw) // s + 1
            if ph == pw == s and H % s == 0 and W % s == 0:
                out = x.reshape(N, C, H_out, ph, W_out, pw).max(axis=3).max(axis=4)
            else:
                out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
                for i in range(H_out):
                    for j in range(W_out):
                        out[:, :, i, j] = np.amax(x[:, :, i * s:i * s + ph, j * s:j * s + pw], axis=(-2, -1))
            return out, (x, pool_param)
    """),
    variant("scalar_loops", "max_pool_forward_naive", "four loops (n, c, i, j), the maximum of each window "
            "by Python's max over its entries", """
        def max_pool_forward_naive(x, pool_param):
            ph = pool_param["pool_height"]
            pw = pool_param["pool_width"]
            s = pool_param["stride"]
            N, C, H, W = x.shape
            out = np.zeros((N, C, (H - ph) // s + 1, (W - pw) // s + 1))
            for n in range(N):
                for c in range(C):
                    for i in range(out.shape[2]):
                        for j in range(out.shape[3]):
                            out[n, c, i, j] = max(x[n, c, i * s:i * s + ph, j * s:j * s + pw].ravel())
            return out, (x, pool_param)
    """),
    variant("sliding_window_max", "max_pool_forward_naive", "no loops: the maximum over a sliding_window_view", """
        from numpy.lib.stride_tricks import sliding_window_view

        def max_pool_forward_naive(x, pool_param):
            windows = sliding_window_view(x, (pool_param["pool_height"], pool_param["pool_width"]), axis=(2, 3))
            step = pool_param["stride"]
            return windows[:, :, ::step, ::step].max(axis=(4, 5)), (x, pool_param)
    """),
    variant("mask_of_maximum", "max_pool_backward_naive", "adds mask * dout to each window, the mask being "
            "window == max (no ties in the tests)", POOL_MASK_BACKWARD),
    variant("vectorised_argmax", "max_pool_backward_naive", "argmax over all windows at once (sliding_window_view), "
            "then np.add.at", """
        from numpy.lib.stride_tricks import sliding_window_view

        def max_pool_backward_naive(dout, cache):
            x, pool_param = cache
            ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
            N, C, H, W = x.shape
            _, _, Ho, Wo = dout.shape
            windows = sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::s, ::s].reshape(N, C, Ho, Wo, ph * pw)
            best = windows.argmax(axis=-1)
            rows = np.arange(Ho)[None, None, :, None] * s + best // pw
            cols = np.arange(Wo)[None, None, None, :] * s + best % pw
            n = np.arange(N)[:, None, None, None]
            c = np.arange(C)[None, :, None, None]
            dx = np.zeros(x.shape)
            np.add.at(dx, (n, c, rows, cols), dout)
            return dx
    """),
]

# ------------------------------------------------------------------------------------------------
# 03_spatial_batchnorm
# ------------------------------------------------------------------------------------------------

SBN_FORWARD = """
    def spatial_batchnorm_forward(x, gamma, beta, bn_param):
        N, C, H, W = x.shape
        x_flat = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)
        out_flat, cache = batchnorm_forward(x_flat, gamma, beta, bn_param)
        out = out_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)
        return out, cache
"""

SBN_BACKWARD = """
    def spatial_batchnorm_backward(dout, cache):
        N, C, H, W = dout.shape
        dout_flat = dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)
        dx_flat, dgamma, dbeta = batchnorm_backward(dout_flat, cache)
        dx = dx_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)
        return dx, dgamma, dbeta
"""

# Spatial batch norm written out, without batchnorm_forward; its cache (x_hat, gamma, std) keeps the
# channel axis in place, read by SBN_DIRECT_BACKWARD.
SBN_DIRECT_FORWARD = """
    def spatial_batchnorm_forward(x, gamma, beta, bn_param):
        mode = bn_param["mode"]
        eps = bn_param.get("eps", 1e-5)
        momentum = bn_param.get("momentum", 0.9)
        C = x.shape[1]
        running_mean = bn_param.get("running_mean", np.zeros(C, dtype=x.dtype))
        running_var = bn_param.get("running_var", np.zeros(C, dtype=x.dtype))
        g, b = gamma.reshape(1, C, 1, 1), beta.reshape(1, C, 1, 1)
        if mode == "train":
            mean = x.mean(axis=(0, 2, 3))
            var = x.var(axis=(0, 2, 3))
            std = np.sqrt(var + eps).reshape(1, C, 1, 1)
            x_hat = (x - mean.reshape(1, C, 1, 1)) / std
            out = g * x_hat + b
            cache = (x_hat, gamma, std)
            running_mean = momentum * running_mean + (1 - momentum) * mean
            running_var = momentum * running_var + (1 - momentum) * var
        elif mode == "test":
            x_hat = (x - running_mean.reshape(1, C, 1, 1)) / np.sqrt(running_var.reshape(1, C, 1, 1) + eps)
            out = g * x_hat + b
            cache = None
        else:
            raise ValueError("unknown batch-norm mode %r" % mode)
        bn_param["running_mean"] = running_mean
        bn_param["running_var"] = running_var
        return out, cache
"""

SBN_DIRECT_BACKWARD = """
    def spatial_batchnorm_backward(dout, cache):
        x_hat, gamma, std = cache
        C = dout.shape[1]
        dbeta = dout.sum(axis=(0, 2, 3))
        dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
        dx_hat = dout * gamma.reshape(1, C, 1, 1)
        dx = (dx_hat - dx_hat.mean(axis=(0, 2, 3), keepdims=True)
              - x_hat * (dx_hat * x_hat).mean(axis=(0, 2, 3), keepdims=True)) / std
        return dx, dgamma, dbeta
"""

SBN_FORWARD_MUTANTS = [
    mutant("reshape_without_transpose", "spatial_batchnorm_forward", "reshapes (N, C, H, W) straight to "
           "(N * H * W, C), mixing channels and pixels (its backward pass does the same)",
           edited(SBN_FORWARD, ("x_flat = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)", "x_flat = x.reshape(N * H * W, C)"),
                  ("out = out_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)", "out = out_flat.reshape(N, C, H, W)")),
           companions=[("spatial_batchnorm_backward", edited(
               SBN_BACKWARD, ("dout_flat = dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)", "dout_flat = dout.reshape(N * H * W, C)"),
               ("dx = dx_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)", "dx = dx_flat.reshape(N, C, H, W)")))]),
    mutant("per_pixel_statistics", "spatial_batchnorm_forward", "normalises every pixel (c, h, w) over the batch only, "
           "as if each were a feature of a fully connected layer (its backward pass does the same)", """
        def spatial_batchnorm_forward(x, gamma, beta, bn_param):
            N, C, H, W = x.shape
            out, cache = batchnorm_forward(x.reshape(N, C * H * W), np.repeat(gamma, H * W),
                                           np.repeat(beta, H * W), bn_param)
            return out.reshape(N, C, H, W), cache
    """, companions=[("spatial_batchnorm_backward", """
        def spatial_batchnorm_backward(dout, cache):
            N, C, H, W = dout.shape
            dx, dgamma, dbeta = batchnorm_backward(dout.reshape(N, C * H * W), cache)
            return dx.reshape(N, C, H, W), dgamma.reshape(C, H * W).sum(axis=1), dbeta.reshape(C, H * W).sum(axis=1)
    """)]),
    mutant("no_transpose_back", "spatial_batchnorm_forward", "moves the channel axis last for batchnorm_forward "
           "but reshapes the result straight back to (N, C, H, W) (its backward pass matches)",
           edited(SBN_FORWARD, ("out = out_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)", "out = out_flat.reshape(N, C, H, W)")),
           companions=[("spatial_batchnorm_backward", edited(
               SBN_BACKWARD, ("dout_flat = dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)", "dout_flat = dout.reshape(N * H * W, C)")))]),
    mutant("copies_bn_param", "spatial_batchnorm_forward", "passes a copy of bn_param to batchnorm_forward: "
           "the running averages are lost",
           edited(SBN_FORWARD, ("out_flat, cache = batchnorm_forward(x_flat, gamma, beta, bn_param)",
                                "out_flat, cache = batchnorm_forward(x_flat, gamma, beta, dict(bn_param))"))),
    mutant("unbiased_running_variance", "spatial_batchnorm_forward", "keeps the running variance with the unbiased "
           "(N * H * W - 1) variance, as PyTorch does",
           edited(SBN_DIRECT_FORWARD, ("running_var = momentum * running_var + (1 - momentum) * var",
                                       "running_var = momentum * running_var + (1 - momentum) * x.var(axis=(0, 2, 3), ddof=1)")),
           companions=[("spatial_batchnorm_backward", SBN_DIRECT_BACKWARD)]),
    mutant("corrected_variance", "spatial_batchnorm_forward", "normalises with the corrected variance (ddof=1); "
           "its backward pass is the exact gradient of that",
           edited(SBN_DIRECT_FORWARD, ("var = x.var(axis=(0, 2, 3))", "var = x.var(axis=(0, 2, 3), ddof=1)")),
           companions=[("spatial_batchnorm_backward", """
        def spatial_batchnorm_backward(dout, cache):
            x_hat, gamma, std = cache
            C = dout.shape[1]
            M = dout.size // C
            dbeta = dout.sum(axis=(0, 2, 3))
            dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
            dx_hat = dout * gamma.reshape(1, C, 1, 1)
            dx = (dx_hat - dx_hat.mean(axis=(0, 2, 3), keepdims=True)
                  - x_hat * (dx_hat * x_hat).sum(axis=(0, 2, 3), keepdims=True) / (M - 1)) / std
            return dx, dgamma, dbeta
    """)]),
    mutant("batch_statistics_in_test_mode", "spatial_batchnorm_forward", "normalises with the batch statistics "
           "in test mode too",
           edited(SBN_DIRECT_FORWARD, ("x_hat = (x - running_mean.reshape(1, C, 1, 1)) / np.sqrt(running_var.reshape(1, C, 1, 1) + eps)",
                                       "x_hat = (x - x.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + eps)")),
           companions=[("spatial_batchnorm_backward", SBN_DIRECT_BACKWARD)]),
    mutant("centres_x_in_place", "spatial_batchnorm_forward", "subtracts the mean and divides by the std in place: "
           "the caller's x is normalised too", """
        def spatial_batchnorm_forward(x, gamma, beta, bn_param):
            mode = bn_param["mode"]
            eps = bn_param.get("eps", 1e-5)
            momentum = bn_param.get("momentum", 0.9)
            C = x.shape[1]
            running_mean = bn_param.get("running_mean", np.zeros(C))
            running_var = bn_param.get("running_var", np.zeros(C))
            if mode == "train":
                mean = x.mean(axis=(0, 2, 3), keepdims=True)
                var = x.var(axis=(0, 2, 3), keepdims=True)
                std = np.sqrt(var + eps)
                x -= mean
                x /= std
                out = gamma.reshape(1, C, 1, 1) * x + beta.reshape(1, C, 1, 1)
                bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean.ravel()
                bn_param["running_var"] = momentum * running_var + (1 - momentum) * var.ravel()
                return out, (x, gamma, std)
            if mode == "test":
                x_hat = (x - running_mean.reshape(1, C, 1, 1)) / np.sqrt(running_var.reshape(1, C, 1, 1) + eps)
                return gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1), None
            raise ValueError(mode)
    """, companions=[("spatial_batchnorm_backward", SBN_DIRECT_BACKWARD)]),
]

SBN_BACKWARD_MUTANTS = [
    mutant("no_transpose_back", "spatial_batchnorm_backward", "reshapes dx straight back to (N, C, H, W) without "
           "moving the channel axis back",
           edited(SBN_BACKWARD, ("dx = dx_flat.reshape(N, H, W, C).transpose(0, 3, 1, 2)", "dx = dx_flat.reshape(N, C, H, W)"))),
    mutant("dout_not_transposed", "spatial_batchnorm_backward", "reshapes dout straight to (N * H * W, C)",
           edited(SBN_BACKWARD, ("dout_flat = dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)", "dout_flat = dout.reshape(N * H * W, C)"))),
    mutant("scales_dout_in_place", "spatial_batchnorm_backward", "multiplies dout by gamma in place",
           edited(SBN_DIRECT_BACKWARD, ("dx_hat = dout * gamma.reshape(1, C, 1, 1)", "dx_hat = dout\ndx_hat *= gamma.reshape(1, C, 1, 1)")),
           companions=[("spatial_batchnorm_forward", SBN_DIRECT_FORWARD)]),
    mutant("dgamma_dbeta_per_pixel", "spatial_batchnorm_backward", "sums dgamma and dbeta over the images only: "
           "shape (C, H, W)",
           edited(SBN_DIRECT_BACKWARD, ("dbeta = dout.sum(axis=(0, 2, 3))", "dbeta = dout.sum(axis=0)"),
                  ("dgamma = (dout * x_hat).sum(axis=(0, 2, 3))", "dgamma = (dout * x_hat).sum(axis=0)")),
           companions=[("spatial_batchnorm_forward", SBN_DIRECT_FORWARD)]),
    mutant("ignores_batch_statistics", "spatial_batchnorm_backward", "treats the batch mean and variance as constants",
           edited(SBN_DIRECT_BACKWARD, ("""
               dx = (dx_hat - dx_hat.mean(axis=(0, 2, 3), keepdims=True)
                     - x_hat * (dx_hat * x_hat).mean(axis=(0, 2, 3), keepdims=True)) / std
           """, "dx = dx_hat / std")),
           companions=[("spatial_batchnorm_forward", SBN_DIRECT_FORWARD)]),
    mutant("forgets_gamma", "spatial_batchnorm_backward", "backpropagates dout through the normalisation without gamma",
           edited(SBN_DIRECT_BACKWARD, ("dx_hat = dout * gamma.reshape(1, C, 1, 1)", "dx_hat = dout")),
           companions=[("spatial_batchnorm_forward", SBN_DIRECT_FORWARD)]),
]

SBN_VARIANTS = [
    variant("direct_formula", "spatial_batchnorm_forward", "written out over the axes (0, 2, 3), without "
            "batchnorm_forward; its backward pass reads its own cache", SBN_DIRECT_FORWARD,
            companions=[("spatial_batchnorm_backward", SBN_DIRECT_BACKWARD)]),
    variant("dict_cache", "spatial_batchnorm_forward", "a dict cache with x and the statistics; its backward pass "
            "recomputes x_hat", """
        def spatial_batchnorm_forward(x, gamma, beta, bn_param):
            mode = bn_param["mode"]
            eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
            C = x.shape[1]
            bn_param.setdefault("running_mean", np.zeros(C))
            bn_param.setdefault("running_var", np.zeros(C))
            shape = (1, C, 1, 1)
            if mode == "train":
                mu = np.mean(x, axis=(0, 2, 3))
                var = np.mean((x - mu.reshape(shape)) ** 2, axis=(0, 2, 3))
                out = gamma.reshape(shape) * (x - mu.reshape(shape)) / np.sqrt(var + eps).reshape(shape) + beta.reshape(shape)
                bn_param["running_mean"] = momentum * bn_param["running_mean"] + (1 - momentum) * mu
                bn_param["running_var"] = momentum * bn_param["running_var"] + (1 - momentum) * var
                return out, {"x": x, "mu": mu, "var": var, "gamma": gamma, "eps": eps}
            if mode == "test":
                mu, var = bn_param["running_mean"], bn_param["running_var"]
                return gamma.reshape(shape) * (x - mu.reshape(shape)) / np.sqrt(var + eps).reshape(shape) \\
                    + beta.reshape(shape), None
            raise ValueError("invalid mode " + str(mode))
    """, companions=[("spatial_batchnorm_backward", """
        def spatial_batchnorm_backward(dout, cache):
            x, mu, var, gamma, eps = (cache[k] for k in ("x", "mu", "var", "gamma", "eps"))
            N, C, H, W = x.shape
            M = N * H * W
            shape = (1, C, 1, 1)
            inv_std = (1.0 / np.sqrt(var + eps)).reshape(shape)
            x_hat = (x - mu.reshape(shape)) * inv_std
            dbeta = dout.sum(axis=(0, 2, 3))
            dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
            dx = gamma.reshape(shape) * inv_std / M * (M * dout - dbeta.reshape(shape) - x_hat * dgamma.reshape(shape))
            return dx, dgamma, dbeta
    """)]),
    variant("moveaxis", "spatial_batchnorm_forward", "np.moveaxis and reshape(-1, C) around batchnorm_forward", """
        def spatial_batchnorm_forward(x, gamma, beta, bn_param):
            C = x.shape[1]
            moved = np.moveaxis(x, 1, -1)
            out, cache = batchnorm_forward(moved.reshape(-1, C), gamma, beta, bn_param)
            return np.moveaxis(out.reshape(moved.shape), -1, 1), cache
    """),
    variant("swapaxes", "spatial_batchnorm_backward", "swapaxes to (C, ...) and back around batchnorm_backward "
            "of the transposed layout", """
        def spatial_batchnorm_backward(dout, cache):
            N, C, H, W = dout.shape
            flat = np.ascontiguousarray(np.swapaxes(dout, 1, 3)).reshape(-1, C)     # (N, W, H, C) rows
            dx, dgamma, dbeta = batchnorm_backward(np.ascontiguousarray(
                np.swapaxes(flat.reshape(N, W, H, C), 1, 2)).reshape(-1, C), cache)
            return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta
    """),
]

# ------------------------------------------------------------------------------------------------
# 04_convnet
# ------------------------------------------------------------------------------------------------

THREE_LAYER_CONV_NET = """
    class ThreeLayerConvNet(object):
        def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                     hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                     dtype=np.float32, use_batchnorm=False):
            self.params = {}
            self.reg = reg
            self.dtype = dtype
            self.use_batchnorm = use_batchnorm
            C, H, W = input_dim
            pad = (filter_size - 1) // 2
            H_pool = (H + 2 * pad - filter_size + 1) // 2
            W_pool = (W + 2 * pad - filter_size + 1) // 2
            self.params["W1"] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)
            self.params["b1"] = np.zeros(num_filters)
            self.params["W2"] = weight_scale * np.random.randn(num_filters * H_pool * W_pool, hidden_dim)
            self.params["b2"] = np.zeros(hidden_dim)
            self.params["W3"] = weight_scale * np.random.randn(hidden_dim, num_classes)
            self.params["b3"] = np.zeros(num_classes)
            self.bn_params = []
            for k, v in self.params.items():
                self.params[k] = v.astype(dtype)

        def loss(self, X, y=None):
            X = X.astype(self.dtype)
            W1, b1 = self.params["W1"], self.params["b1"]
            W2, b2 = self.params["W2"], self.params["b2"]
            W3, b3 = self.params["W3"], self.params["b3"]
            filter_size = W1.shape[2]
            conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
            pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
            pooled, conv_cache = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
            hidden, hidden_cache = affine_relu_forward(pooled, W2, b2)
            scores, scores_cache = affine_forward(hidden, W3, b3)
            if y is None:
                return scores
            loss, grads = 0, {}
            loss, dscores = softmax_loss(scores, y)
            loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))
            dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
            dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
            _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, conv_cache)
            grads["W3"] += self.reg * W3
            grads["W2"] += self.reg * W2
            grads["W1"] += self.reg * W1
            return loss, grads
"""

THREE_LAYER_CONV_NET_MUTANTS = [
    mutant("relu_on_scores", "ThreeLayerConvNet", "ends with affine - relu: a ReLU on the scores",
           edited(THREE_LAYER_CONV_NET, ("scores, scores_cache = affine_forward(hidden, W3, b3)",
                                         "scores, scores_cache = affine_relu_forward(hidden, W3, b3)"),
                  ('dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)',
                   'dhidden, grads["W3"], grads["b3"] = affine_relu_backward(dscores, scores_cache)'))),
    mutant("pooling_forgotten_in_sizes", "ThreeLayerConvNet", "sizes W2 for the convolution's output, "
           "forgetting that the pooling halves it",
           edited(THREE_LAYER_CONV_NET, ("H_pool = (H + 2 * pad - filter_size + 1) // 2", "H_pool = H + 2 * pad - filter_size + 1"),
                  ("W_pool = (W + 2 * pad - filter_size + 1) // 2", "W_pool = W + 2 * pad - filter_size + 1"))),
    mutant("pad_half_filter", "ThreeLayerConvNet", "pads with filter_size // 2 (the same as (filter_size - 1) // 2 "
           "for odd filters, one more for even ones), in __init__ and in loss",
           edited(THREE_LAYER_CONV_NET, ("pad = (filter_size - 1) // 2", "pad = filter_size // 2"),
                  ('conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}', 'conv_param = {"stride": 1, "pad": filter_size // 2}'))),
    mutant("l2_on_biases", "ThreeLayerConvNet", "regularises the biases too (loss and gradients)",
           edited(THREE_LAYER_CONV_NET, ("loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))",
                                         "loss += 0.5 * self.reg * sum(np.sum(p * p) for p in self.params.values())"),
                  ('grads["W1"] += self.reg * W1', 'grads["W1"] += self.reg * W1\n'
                                                    'for name in ("b1", "b2", "b3"):\n'
                                                    '    grads[name] += self.reg * self.params[name]'))),
    mutant("l2_without_half", "ThreeLayerConvNet", "L2 term reg * sum(W**2) (no 0.5), with its matching gradient",
           edited(THREE_LAYER_CONV_NET, ("loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))",
                                         "loss += self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))"),
                  ('grads["W3"] += self.reg * W3', 'grads["W3"] += 2 * self.reg * W3'),
                  ('grads["W2"] += self.reg * W2', 'grads["W2"] += 2 * self.reg * W2'),
                  ('grads["W1"] += self.reg * W1', 'grads["W1"] += 2 * self.reg * W1'))),
    mutant("no_l2_gradient", "ThreeLayerConvNet", "adds the L2 term to the loss but not to the gradients",
           edited(THREE_LAYER_CONV_NET, ('grads["W3"] += self.reg * W3', ""), ('grads["W2"] += self.reg * W2', ""),
                  ('grads["W1"] += self.reg * W1', ""))),
    mutant("no_dtype_cast", "ThreeLayerConvNet", "never casts the parameters to dtype: float64 parameters by default",
           edited(THREE_LAYER_CONV_NET, ("""
               for k, v in self.params.items():
                   self.params[k] = v.astype(dtype)
           """, ""))),
    mutant("channels_last_filters", "ThreeLayerConvNet", "creates W1 with the channels last, (F, HH, WW, C)",
           edited(THREE_LAYER_CONV_NET, ('self.params["W1"] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)',
                                         'self.params["W1"] = weight_scale * np.random.randn(num_filters, filter_size, filter_size, C)'))),
    mutant("no_hidden_relu", "ThreeLayerConvNet", "forgets the ReLU of the hidden affine layer",
           edited(THREE_LAYER_CONV_NET, ("hidden, hidden_cache = affine_relu_forward(pooled, W2, b2)",
                                         "hidden, hidden_cache = affine_forward(pooled, W2, b2)"),
                  ('dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)',
                   'dpooled, grads["W2"], grads["b2"] = affine_backward(dhidden, hidden_cache)'))),
    mutant("weight_scale_as_variance", "ThreeLayerConvNet", "draws the weights with standard deviation weight_scale ** 2",
           edited(THREE_LAYER_CONV_NET,
                  ('self.params["W1"] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)',
                   'self.params["W1"] = weight_scale ** 2 * np.random.randn(num_filters, C, filter_size, filter_size)'),
                  ('self.params["W2"] = weight_scale * np.random.randn(num_filters * H_pool * W_pool, hidden_dim)',
                   'self.params["W2"] = weight_scale ** 2 * np.random.randn(num_filters * H_pool * W_pool, hidden_dim)'),
                  ('self.params["W3"] = weight_scale * np.random.randn(hidden_dim, num_classes)',
                   'self.params["W3"] = weight_scale ** 2 * np.random.randn(hidden_dim, num_classes)'))),
]

THREE_LAYER_CONV_NET_VARIANTS = [
    variant("separate_layers", "ThreeLayerConvNet", "calls each layer itself (fast conv and pool, your ReLU and "
            "affine layers), np.random.normal, L2 in a loop", """
        class ThreeLayerConvNet(object):
            def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                         hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                         dtype=np.float32, use_batchnorm=False):
                C, H, W = input_dim
                self.reg, self.dtype, self.use_batchnorm = reg, dtype, use_batchnorm
                p = (filter_size - 1) // 2
                side = lambda n: (n + 2 * p - filter_size + 1) // 2
                self.params = {
                    "W1": np.random.normal(0.0, weight_scale, (num_filters, C, filter_size, filter_size)),
                    "b1": np.zeros(num_filters),
                    "W2": np.random.normal(0.0, weight_scale, (num_filters * side(H) * side(W), hidden_dim)),
                    "b2": np.zeros(hidden_dim),
                    "W3": np.random.normal(0.0, weight_scale, (hidden_dim, num_classes)),
                    "b3": np.zeros(num_classes),
                }
                self.bn_params = []
                self.params = {k: v.astype(dtype) for k, v in self.params.items()}

            def loss(self, X, y=None):
                X = X.astype(self.dtype)
                p = self.params
                conv_param = {"stride": 1, "pad": np.floor((p["W1"].shape[2] - 1) / 2)}   # an integral float
                pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
                a, conv_cache = conv_forward_fast(X, p["W1"], p["b1"], conv_param)
                r, relu_cache = relu_forward(a)
                pooled, pool_cache = max_pool_forward_fast(r, pool_param)
                h, fc_cache = affine_forward(pooled, p["W2"], p["b2"])
                h_relu, relu2_cache = relu_forward(h)
                scores, out_cache = affine_forward(h_relu, p["W3"], p["b3"])
                if y is None:
                    return scores
                loss, dscores = softmax_loss(scores, y)
                grads = {}
                dh_relu, grads["W3"], grads["b3"] = affine_backward(dscores, out_cache)
                dh = relu_backward(dh_relu, relu2_cache)
                dpooled, grads["W2"], grads["b2"] = affine_backward(dh, fc_cache)
                dr = max_pool_backward_fast(dpooled, pool_cache)
                da = relu_backward(dr, relu_cache)
                _, grads["W1"], grads["b1"] = conv_backward_fast(da, conv_cache)
                for name in ("W1", "W2", "W3"):
                    loss += 0.5 * self.reg * np.sum(p[name] ** 2)
                    grads[name] = grads[name] + self.reg * p[name]
                return loss, grads
    """),
    variant("layer_list", "ThreeLayerConvNet", "a list of (forward, backward, parameter names) walked forwards and "
            "backwards, on conv_relu_forward and your naive max-pooling layer", """
        class ThreeLayerConvNet(object):
            def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                         hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                         dtype=np.float32, use_batchnorm=False):
                self.reg = reg
                self.dtype = dtype
                self.use_batchnorm = use_batchnorm
                C, H, W = input_dim
                pad = (filter_size - 1) // 2
                flat = num_filters * ((H + 2 * pad - filter_size + 1) // 2) * ((W + 2 * pad - filter_size + 1) // 2)
                shapes = {"W1": (num_filters, C, filter_size, filter_size), "W2": (flat, hidden_dim),
                          "W3": (hidden_dim, num_classes)}
                self.params = {}
                for i, (name, shape) in enumerate(sorted(shapes.items()), start=1):
                    self.params[name] = (weight_scale * np.random.randn(*shape)).astype(dtype)
                    self.params["b%d" % i] = np.zeros(shape[-1] if name != "W1" else shape[0], dtype=dtype)
                self.bn_params = []

            def loss(self, X, y=None):
                X = X.astype(self.dtype)
                pad = (self.params["W1"].shape[2] - 1) // 2
                pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
                layers = [
                    (lambda h: conv_relu_forward(h, self.params["W1"], self.params["b1"], {"stride": 1, "pad": pad}),
                     conv_relu_backward, ("W1", "b1")),
                    (lambda h: max_pool_forward_naive(h, pool_param), lambda d, c: (max_pool_backward_naive(d, c),), ()),
                    (lambda h: affine_relu_forward(h, self.params["W2"], self.params["b2"]), affine_relu_backward, ("W2", "b2")),
                    (lambda h: affine_forward(h, self.params["W3"], self.params["b3"]), affine_backward, ("W3", "b3")),
                ]
                caches, h = [], X
                for forward, _, _ in layers:
                    h, cache = forward(h)
                    caches.append(cache)
                if y is None:
                    return h
                loss, d = softmax_loss(h, y)
                grads = {}
                for (_, backward, names), cache in reversed(list(zip(layers, caches))):
                    d, *param_grads = backward(d, cache)
                    grads.update(zip(names, param_grads))
                for name in ("W1", "W2", "W3"):
                    W = self.params[name]
                    loss += 0.5 * self.reg * np.sum(W * W)
                    grads[name] = grads[name] + self.reg * W
                return loss, grads
    """),
]

MUTANTS = (CONV_FORWARD_MUTANTS + CONV_BACKWARD_MUTANTS + POOL_FORWARD_MUTANTS + POOL_BACKWARD_MUTANTS
           + SBN_FORWARD_MUTANTS + SBN_BACKWARD_MUTANTS + THREE_LAYER_CONV_NET_MUTANTS)
VARIANTS = CONV_VARIANTS + POOL_VARIANTS + SBN_VARIANTS + THREE_LAYER_CONV_NET_VARIANTS
ALL_CASES = MUTANTS + VARIANTS


def _case(name):
    """The catalog case named `name` ("function/name")."""
    found = [case for case in ALL_CASES if case.name == name]
    if len(found) != 1:
        raise KeyError(name)
    return found[0]


# ------------------------------------------------------------------------------------------------
# The sample class and the benchmark's attacks
# ------------------------------------------------------------------------------------------------

SAMPLE_STUDENTS = (
    SampleStudent("full_marks", "hands in the instructor's solutions", kind="honest",
                  first_name="Ada", last_name="Lovelace"),
    SampleStudent("untouched_release", "hands in the release without changes", blank=True, loses=(EVERYTHING,),
                  kind="blank", first_name="Blaise", last_name="Pascal"),
    SampleStudent("flipped_kernel", "conv_forward_naive computes a true convolution (flips the filters)",
                  cases=(_case("conv_forward_naive/flipped_kernel"),), loses=("conv_forward_naive",),
                  first_name="Hedy", last_name="Lamarr"),
    SampleStudent("pool_overwrites", "max_pool_backward_naive overwrites the gradients of overlapping windows",
                  cases=(_case("max_pool_backward_naive/overlaps_overwrite"),), loses=("max_pool_backward_naive",),
                  first_name="Claude", last_name="Shannon"),
    SampleStudent("per_pixel_batchnorm", "spatial batch norm with one mean and variance per pixel",
                  cases=(_case("spatial_batchnorm_forward/per_pixel_statistics"),), loses=("spatial_batchnorm_forward",),
                  first_name="Mary", last_name="Somerville"),
    SampleStudent("convnet_relu_on_scores", "ThreeLayerConvNet applies a ReLU to the scores",
                  cases=(_case("ThreeLayerConvNet/relu_on_scores"),), loses=("ThreeLayerConvNet",),
                  first_name="Sofia", last_name="Kovalevskaya"),
    SampleStudent("syntax_error", "the conv_backward_naive cell has a syntax error",
                  edits={"conv_backward_naive": missing_colon}, loses=("conv_backward_naive",),
                  first_name="John", last_name="von Neumann"),
    SampleStudent("cell_raises", "the max_pool_forward_naive cell raises before defining max_pool_forward_naive",
                  edits={"max_pool_forward_naive": failing_import}, loses=("max_pool_forward_naive",),
                  first_name="Katherine", last_name="Johnson"),
)

_SYS_EXIT = mutant("sys_exit", "conv_forward_naive", "calls sys.exit() when it is called", """
    import sys

    def conv_forward_naive(x, w, b, conv_param):
        sys.exit(0)
""")

_PATCH_NUMPY = mutant("patch_numpy", "max_pool_forward_naive", "a wrong max_pool_forward_naive, and numpy's "
                      "comparison functions patched to always agree", """
    import numpy as np
    np.allclose = lambda *args, **kwargs: True
    np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, bool)
    np.array_equal = lambda *args, **kwargs: True
    np.testing.assert_allclose = lambda *args, **kwargs: None

    def max_pool_forward_naive(x, pool_param):
        return np.zeros_like(x), (x, pool_param)
""")

_FORGE_SCORE = mutant("forge_score", "conv_backward_naive", "a wrong conv_backward_naive, and the test cells' "
                      "Checks.score patched to give full points", """
    import numpy as np
    import nnkit.checks
    nnkit.checks.Checks.score = lambda self: self.points

    def conv_backward_naive(dout, cache):
        x, w, b, conv_param = cache
        return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
""")

BENCH_ATTACKS = (
    SampleStudent("adv_sys_exit", "conv_forward_naive calls sys.exit() when it is called", cases=(_SYS_EXIT,),
                  loses=("conv_forward_naive",), kind="adversarial"),
    SampleStudent("adv_patch_numpy", _PATCH_NUMPY.description, cases=(_PATCH_NUMPY,),
                  loses=("max_pool_forward_naive",), kind="adversarial"),
    SampleStudent("adv_forge_score", _FORGE_SCORE.description, cases=(_FORGE_SCORE,),
                  loses=("conv_backward_naive",), kind="adversarial"),
    SampleStudent("adv_raise_after", "the ThreeLayerConvNet cell raises KeyboardInterrupt after defining a correct "
                  "ThreeLayerConvNet", edits={"ThreeLayerConvNet": suffixed("raise KeyboardInterrupt")},
                  kind="adversarial"),
)

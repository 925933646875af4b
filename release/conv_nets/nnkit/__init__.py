"""nnkit: the support code released with the neural-network assignments.

Gradient checks, the Solver, data loading, plots, the checks used by the
notebooks' test cells, and importing your own solutions from an earlier
notebook. Nothing here is graded; nothing here contains an answer.
"""

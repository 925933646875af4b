"""nbgrader integration: the autograde pipeline of the kit.

- `staging`: what nbgrader grades is a checked copy of each submission
- `preprocessors`: the kit's steps in nbgrader's autograde pipeline (nbgrader_config.py lists them)
- `jobs`: one notebook's split execution as plain data (here or on a Dask worker)
- `session`: what one submission's grading shares between its notebooks
- `gradebook`: one gradebook connection per worker; failed gradings recorded as failed
- `autograde`: the class loop (parallel workers) and its status records
- `workers`, `distributed`: worker processes here, or a Dask cluster
"""

"""Solving: the pipeline (inputs -> LP -> HiGHS -> stage 2 -> tables), the HiGHS call and
read-back, re-solves of one structure, the infeasibility diagnosis and stage 2 (allocation).

Not named ``solve``: ``model.solve`` is the public function."""

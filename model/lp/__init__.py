"""The LP as numpy blocks (rows and variables a family declares), rendered into HiGHS arrays
or into the optional Pyomo model (formulation: stage 1's blocks and ``build_model``), and
its solution as arrays per block (``solution.Solution``, what the results tables read)."""

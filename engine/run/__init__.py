"""Case + Program -> Ruling: facts of each round, parameters in force, values, the decision."""

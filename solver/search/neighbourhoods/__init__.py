"""One module per kind of neighbourhood (solver.search.kinds.Kind): what a step of that kind frees and when it is worth trying.

The soft neighbourhoods (a class each, with its kind and scope) make the shuffled rounds that
solver.search.schedule lists; unmet, proposals and whole_days also give the steps the schedule
puts between them.
"""

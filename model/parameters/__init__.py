"""The LP's numbers derived in bulk from a checked dataset: phases, BAU, abatement steps,
targets by sector and year, and installations on a facility x year grid."""

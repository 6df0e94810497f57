"""The phases of a sector in a year: outside the ETS, covered in its simulation phase
(own compliance against a rule cap, no trading), or trading."""

OUTSIDE, SIMULATION, TRADING = "outside", "simulation", "trading"

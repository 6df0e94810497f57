"""The phases of a sector in a year: outside the ETS, covered in its simulation phase
(own compliance against a rule cap, no trading), or trading."""

OUTSIDE, SIMULATION, TRADING = "outside", "simulation", "trading"
PHASES = (OUTSIDE, SIMULATION, TRADING)  # a phase's integer code (the facility grid's phase_code) is its position

# The cap rules of a covered sector-year (cap_rules.csv basis): simulation is the simulation
# phase; grandfathered, intensity and absolute trade
GRANDFATHERED, INTENSITY, ABSOLUTE = "grandfathered", "intensity", "absolute"

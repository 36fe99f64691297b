"""Simulation of the families beyond i.i.d. single-item auctions (several classes, bid-based formats, two-sided
trade, redistribution): each module draws values, runs its mechanisms' ex-post rules and estimates with
``simulator.core.draws``."""

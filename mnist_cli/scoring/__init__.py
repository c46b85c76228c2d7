"""Scoring: metrics of a model on labelled data (evaluate), and CI gates."""

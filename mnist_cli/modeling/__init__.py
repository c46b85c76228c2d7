"""Models: build from config, load safely, precision policy, export."""

"""`mnist-cli gradcheck`: autodiff gradients vs float64 finite differences."""

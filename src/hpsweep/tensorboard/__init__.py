"""TensorBoard files written with TensorBoard's own summary APIs: event files
(`events`) and the HParams dashboard's hyperparameters and domains (`hparams`)."""

"""Purchase propensity: LightGBM on point-in-time features over grid windows, calibrated, judged
against BG/NBD, RFM and logistic regression (and the simulator's oracle), scored daily with
reasons and monitored for drift. Entry points: `pipeline.train_and_register`, `pipeline.score`."""

"""What every model shares: `registry` (versions and champions, artifacts as bytes),
`promotion` (the one rule), `config` (YAML settings), `frames` (feature-mart frames and the
model matrix), `report` and `svg` (HTML reports), `jsonsafe`, `errors`, and `lifecycle` (train →
evaluate → register → promote → report around a model's `ModelSpec`)."""

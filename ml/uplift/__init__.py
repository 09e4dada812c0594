"""Coupon targeting: uplift models learned from randomized coupon campaigns, budgeted target
lists, and their evaluation (Qini, AUUC, uplift at k, off-policy value) against baselines."""

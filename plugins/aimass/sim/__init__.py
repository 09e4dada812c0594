"""The simulated shop: the platform's built-in default data, with a hidden truth to check
models against.

Use it:

    from aimass.sim.config import load_shop_config
    from aimass.sim.generate import simulate_shop
    from aimass.sim.landing import write_landing
    from aimass.sim.truth import write_truth

    shop = simulate_shop(load_shop_config("demo"), until=date(2026, 9, 28))
    write_landing(shop, "file:///data/landing")   # <source>/<YYYY-MM-DD>/part-0000.csv
    write_truth(shop, conn)                        # sim_truth.* tables

Every source of `conf/sources.yml` is produced with exactly its columns. PII (email, phone,
IP addresses, device ids) is fake but realistic and in clear text; the loader pseudonymises it.

How the shop behaves (the hidden truth):

- Users sign up over time (most before `start_date`). Each has latent traits: a segment
  (loyal, regular, occasional, dormant) that sets the base purchase propensity and the
  engagement level (visit rate, session length); price sensitivity (cheaper items viewed,
  more favourites saved, stronger reaction to promotions and coupons); 1-3 favourite categories (preference weights);
  ad responsiveness (click-through rate); a preferred device OS; and a coupon response type:
  persuadable, sure thing, lost cause or sleeping dog (a coupon lowers their probability).
- Each day each user's purchase probability is a logistic function of the traits and of
  observable history: recency of the last visit, frequency of recent orders, sessions and
  cart adds in recent days, recent ad clicks, category mix, device OS, tenure, plus a weekend
  lift, one promotion (a few days with a clear lift and discounted prices) and any coupon held.
  A hidden "shopping mood" (2-state Markov chain) raises visits and purchases for a few days.
  The exact formula is in `aimass.sim.behaviour`; `sim_truth.user_daily_purchase_prob` and
  `sim_truth.user_horizon_purchase_prob` hold the true probabilities.
- Buyers place an order in a purchase session (browse, view + add_to_cart per line, order,
  payment); everyone else browses in Poisson-many sessions (view, search with query text from
  the category vocabulary, favorite, like, comment, add_to_cart). Items are picked by the
  user's category preferences x item appeal (`sim_truth.user_preferences`, `item_appeal`).
  ~5% of orders are cancelled. Reviews and after-sales ratings follow orders by days and
  depend on the merchant's hidden quality.
- Ad campaigns per channel show daily impressions (more to engaged users) with clicks and
  cost; clicks raise the user's purchase probability for a few days, by ad responsiveness.
- Coupon campaigns (first on day 14, then weekly; in the demo profile every 4 days) randomize
  users on the offer date to control or a coupon value (e.g. 5 or 10), valid for the
  campaign horizon (4 days). A held coupon acts by response type and value, strongest on the
  offer day and fading after it: it pulls persuadables to buy (more with 10 than with 5 and
  with price sensitivity), puts sleeping dogs off, barely moves sure things and leaves lost
  causes alone. Redemptions link coupons to orders, which carry coupon_id and
  discount_amount; price-sensitive holders apply their coupon more often.
  `sim_truth.coupon_effect` holds the true probabilities with and without.
- The response type shows in observable behaviour, as it would in a real shop: deal seekers
  (persuadables are price-sensitive) view and buy cheaper items, save more favourites,
  react more to the promotion and use more coupons (a higher discount share of their orders);
  sleeping dogs click fewer ads and give lower ratings to recommendations and after-sales
  service. See `aimass.sim.behaviour`.
- ~1% of events and ad events arrive late: they belong to day D but land in D+1's partition.

Determinism: the world (entities, traits, campaigns) depends only on the config; day d's
draws come from generators seeded by (seed, d, purpose), and a few warm-up weeks before the
start settle everyone's state. So the same config gives byte-identical output, and
simulating until D or until D+5 gives the same rows for days <= D.
"""

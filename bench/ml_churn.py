"""Churn on UCI Online Retail (and CDNOW): the churn job's own training at each benchmark cutoff, at every size.

For a benchmark cutoff C the job is trained with `as_of = C + 89 days`, so that its
evaluation cutoff is C: it sees only orders before C + 90 days, its evaluation model only
labels that end before C, and it is measured on the customers active in the year before C
(label: no purchase in [C, C + 90 days)). The baselines are scored on the same customers:
recency, and BG/NBD's expected purchases in the label window and its probability of no
purchase in it (fitted on the orders before C). What the job ships is its model when the model
beats the best baseline by more than the bootstrap uncertainty (`ml.promotion`), otherwise the
baseline its gate ships instead (the better of BG/NBD's two scores, unless recency beats it by
more than its uncertainty); "best baseline" in every figure is the best of the three in that run.

The same runs are repeated on random samples of 500 and 2,000 customers (several each; UCI has
4,338 customers with an order, so 5,000 is the full set). The model's constants (its inputs,
the regularisation) were chosen on the earlier cutoffs `SELECTION_CUTOFFS`, also reported.

`run_cdnow` runs the same on CDNOW (`bench.ml_data.cdnow`, orders only), a data set nothing of
the job was chosen on, at 500, 2,000 and 5,000 customers and its 23,570.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import numpy as np

from bench.ml_data import cdnow, customer_samples, per_sample, spread, uci_retail
from bench.results import markdown_table
from ml.churn.evaluate import roc_auc_or_nan
from ml.churn.features import LABEL_WINDOW_DAYS
from ml.churn.train import NotEnoughData, train_churn_model
from ml.promotion import MODEL

CUTOFFS = (date(2011, 6, 11), date(2011, 7, 11), date(2011, 9, 10))
SELECTION_CUTOFFS = (date(2011, 4, 12), date(2011, 5, 12))
# CDNOW's cutoffs, fixed before its first run: quarterly, the last whose 90-day label ends within the data.
CDNOW_CUTOFFS = (date(1997, 10, 1), date(1998, 1, 1), date(1998, 4, 1))
METRICS = ("roc_auc", "pr_auc", "top_decile_lift", "calibration_error")
# The second round of choices (hand-measured, not by this module): mean model − best baseline
# ROC-AUC on the selection cutoffs at 500 / 2,000 / all customers, by a replica of the job's
# training (the same cutoffs, inputs and fit; it reproduces the job's figures for the first round).
SECOND_ROUND = (
    "**Second round (cancelled share, an intercept per cutoff).** Also on the selection cutoffs only, "
    "by a replica of the job's training, each candidate was added to the eight inputs of the first "
    "round one at a time (model − best baseline, mean at 500 / 2,000 / all customers; the first "
    "round's model: +0.032 / +0.030 / +0.028): the share of orders cancelled +0.029 / +0.032 / +0.030 "
    "(kept), BG/NBD's P(alive) +0.032 / +0.030 / +0.028, the regularity of the gaps between purchases "
    "(their coefficient of variation) +0.032 / +0.030 / +0.027, the trend of the basket value +0.032 / "
    "+0.030 / +0.028, the share of the amount returned +0.025 / +0.029 / +0.027, distinct products "
    "+0.026 / +0.027 / +0.026, BG/NBD's probability of no purchase in the 90 days +0.032 / +0.030 / "
    "+0.027 (on its own it ranks better than the baseline's expected purchases there, by 0.005 at "
    "2,000 and all customers); the trend of spend (last 90 days against the year's quarterly mean) "
    "fell to about −0.15: the selection runs train on cutoffs with less than 90 days of history "
    "before them, where it is a constant. With the cancelled share: an intercept per training "
    "cutoff, practically unpenalised (kept: +0.031 / +0.033 / +0.030; shrunk like the inputs, the "
    "same to three decimals), interactions of the inputs with `one_purchase` +0.028 / +0.032 / "
    "+0.030, C of 0.05 or 0.2 (+0.032 / +0.033 / +0.030 and +0.030 / +0.033 / +0.030: a tie; the "
    "first round's 0.1 kept), training cutoffs every 15 or 7 days instead of 30 (without "
    "the intercepts: +0.030 / +0.032 / +0.029 and +0.026 / +0.030 / +0.027, against +0.029 / +0.032 / "
    "+0.030), weighting cutoffs by history length or by recency (no gain), a shallow LightGBM on the "
    "same inputs (+0.005 / +0.022 / +0.022) and its rank blend with the regression (+0.027 / +0.029 / "
    "+0.028). The first round's figures on the reported cutoffs were known (this section's previous "
    "version); no candidate was measured there, and the reported cutoffs were run once, after the "
    "choices were fixed. UCI Online Retail was then the only data set with dated purchases the bench had "
    "(Ta-Feng is stored as undated basket sequences), so every round chose on UCI alone; CDNOW, added on "
    "2026-12-06, has its own section, and nothing of the model was chosen on it."
)
# The third round (hand-measured, by a replica of the job's training that patches the model's inputs):
# mean model − best baseline ROC-AUC on the selection cutoffs, the best baseline now including
# BG/NBD's probability of no purchase.
THIRD_ROUND = (
    "**Third round (a stronger baseline).** BG/NBD's probability of no purchase in the 90 days, P(none) "
    "(eq. 12's P(alive) times the chance an alive customer buys nothing, plus the chance they have left), "
    "is now a baseline of the job's gate, its run summary and model-runs table and this bench, beside "
    "expected purchases and recency (the first two rounds' \"best baseline\" was the better of those two); "
    "\"best baseline\" is now the best of the three in each run, and when it "
    "wins P(none) is what scores customers that night. Against that best baseline, on the selection cutoffs "
    "only (mean model − best baseline at 500 / 2,000 / all customers; the model as it was: +0.0252 / "
    "+0.0272 / +0.0250), each candidate was added to the nine inputs: P(none)'s log-odds +0.0250 / +0.0271 / "
    "+0.0250 (in place of the expected purchases +0.0250 / +0.0269 / +0.0251), P(none) at 30, 180 and 365 "
    "days as well +0.0246 / +0.0268 / +0.0250, P(none) and P(alive) +0.0244 / +0.0271 / +0.0251, P(none) "
    "with the last gap between purchases and the days since the last purchase over the longest gap "
    "+0.0245 / +0.0271 / +0.0250, the days since the second-to-last purchase +0.0251 / +0.0273 / +0.0252, "
    "the mean order value +0.0254 / +0.0268 / +0.0247 (in place of the year's amount +0.0216 / +0.0259 / "
    "+0.0239), time-decayed counts of purchase days (half-lives 30 and 90 days) +0.0227 / +0.0268 / "
    "+0.0249; and a regression anchored on P(none)'s log-odds as a fixed offset, so that it can only "
    "correct it (C = 0.1), +0.0225 / +0.0245 / +0.0203. No candidate was ahead of the model as it "
    "was by more than 0.0004 at any size (several were behind), so the model was left as it was: nothing "
    "of it changed; the reported cutoffs were run once, at the end. Those selection cutoffs have at most four "
    "months of history before them (the data start in December 2010), so inputs that need a longer "
    "history (seasonality of the cutoff, a customer's trend over the year) could not be judged there "
    "and were not tried."
)
THAT_NIGHT = (
    "*Shipped* above is the gate's choice measured on the very cutoff it chose on, so it is below the best "
    "baseline only where recency is that best without beating BG/NBD's better score by more than its "
    "uncertainty (then that BG/NBD score ships). A business lives it differently: the job trained on the night "
    "before a cutoff has gated on "
    "its own evaluation cutoff 90 days earlier, and its scorer (the model refitted on every labelled "
    "cutoff, or the baseline it shipped instead) scores the customers at the cutoff. This table measures that "
    "scorer on the same customers and labels as the tables above, against the best baseline of the cutoff "
    "(known only afterwards). At 2011-06-11 that night's job cannot train yet (it evaluates on 2011-03-13 "
    "and needs two monthly training cutoffs whose label windows end by then; only 2010-12-13 is after the "
    "data start), so these runs are the cutoffs 2011-07-11 and 2011-09-10. The job retrains weekly and "
    "keeps a champion; this measures the training of that one night. A negative figure is what a business "
    "would lose against the best baseline chosen with hindsight, which the gate cannot see coming."
)
# The fourth round (hand-measured, by a replica of the job's training on the cached features of the selection
# runs): mean model − best baseline on the selection cutoffs, and the paired change against the model as it is.
FOURTH_ROUND = (
    "**Fourth round (anchoring on BG/NBD, other customer-base models, spend).** Again on the selection cutoffs "
    "only, by a replica of the job's training that reproduces the model's figures there (+0.0252 / +0.0272 / "
    "+0.0250 at 500 / 2,000 / all customers). Each candidate's mean model − best baseline, then in brackets "
    "its paired change against the model as it is (mean ± standard deviation over the samples): LightGBM "
    "boosting from BG/NBD's P(none) log-odds as `init_score` (100 trees of 4 leaves, learning rate 0.03) "
    "+0.018 / +0.019 / +0.019 (−0.007 ± 0.009 / −0.009 ± 0.003 / −0.006; with the anchor rescaled per "
    "training cutoff by a Platt sigmoid, worse, and far below BG/NBD on two samples of 500), "
    "LightGBM boosting from the regression's log-odds (25 trees) +0.025 / +0.025 / +0.023 (−0.000 ± "
    "0.002 / −0.002 ± 0.001 / −0.002), the regression plus P(none)'s log-odds unpenalised +0.023 / +0.027 / "
    "+0.025 (−0.003 ± 0.005 / −0.001 ± 0.001 / −0.000), a 3:1 blend of the regression's and P(none)'s "
    "standardised log-odds +0.023 / +0.025 / +0.023 (−0.002 ± 0.002 / −0.002 ± 0.001 / −0.002), the "
    "Gamma-Gamma expected spend per purchase (fitted per cutoff) +0.024 / +0.026 / +0.025 (−0.002 ± 0.002 / "
    "−0.001 ± 0.001 / −0.000), the 90-day value, BG/NBD's expected purchases times that spend, +0.024 / "
    "+0.026 / +0.024 (−0.001 ± 0.001 / −0.001 ± 0.001 / −0.001), Pareto/NBD's expected purchases (fitted per "
    "cutoff by a maximum-likelihood fit written for this round; alone it ranks 0.005 to 0.006 below the best "
    "baseline, its fit reaching the no-dropout boundary, and on the full set's two earliest cutoffs the fit "
    "failed, leaving a constant) +0.025 / +0.027 / +0.008 (−0.000 ± 0.000 / "
    "−0.000 ± 0.000 / −0.017), products of recency with frequency and with the overdue ratio +0.024 / +0.027 "
    "/ +0.025 (−0.001 ± 0.001 / −0.000 ± 0.000 / −0.000), cubic splines of the inputs (4 knots) +0.021 / "
    "+0.027 / +0.024 (−0.004 ± 0.012 / +0.000 ± 0.004 / −0.001), C of 0.01 or 0.03 (+0.001 ± 0.004 and "
    "+0.001 ± 0.002 at 500, −0.002 ± 0.001 and −0.001 ± 0.001 at 2,000, −0.001 and −0.000 on the full set), "
    "training only on cutoffs with 30 "
    "days of history or more (−0.006 ± 0.005 / +0.001 ± 0.001 / −0.001), and one more training cutoff 60 days "
    "before the evaluation cutoff with its 60-day label (−0.005 ± 0.010 / +0.002 ± 0.001 / +0.000). BG/NBD's "
    "fitted parameters as inputs were not tried: they are the same for every customer of a cutoff, so beside "
    "the intercept per cutoff they cannot change the ranking; a Platt sigmoid on more cutoffs changes the "
    "probabilities, not the ROC-AUC. No candidate was ahead of the model by more than its spread at every "
    "size (none was ahead by more than 0.002 anywhere), so nothing changed. 2011-06-11 is not a selection "
    "cutoff: it is the first reported one, and choosing on it would be choosing on the test cutoffs."
)
# The fifth round (hand-measured by a replica that patches the job's inputs and runs its own training on the
# selection cutoffs; it reproduces the model's figures there).
FIFTH_ROUND = (
    "**Fifth round (what customers buy).** On the selection cutoffs only, by a replica that adds an input to "
    "the job's own training and reproduces the model's figures there (+0.0252 / +0.0272 / +0.0250 at 500 / "
    "2,000 / all customers). Each candidate's mean model − best baseline, then its paired change against the "
    "model as it was: how popular a customer's products are lately (over the year's lines, weighted by "
    "amount, the log of one plus the customers who bought the product in the 90 days before the cutoff) "
    "+0.0217 / +0.0303 / +0.0295 (−0.003 ± 0.006 / +0.003 ± 0.001 / +0.0045); the same over the year "
    "+0.0224 / +0.0296 / +0.0284; as a share of the quarter's customers +0.0196 / +0.0277 / +0.0281; the "
    "share of the year's spend on products nobody bought in the 30 days before the cutoff +0.0248 / +0.0290 / "
    "+0.0263 (−0.000 / +0.002 / +0.001); both popularity and that share +0.0205 / +0.0303 / +0.0296; units per "
    "order +0.0273 / +0.0283 / +0.0235 (+0.002 / +0.001 / −0.0015); lines per order +0.0154 / +0.0232 / "
    "+0.0226; the longest gap between purchases +0.0244 / +0.0271 / +0.0253; the last 90 days' amount "
    "+0.0196 / +0.0218 / +0.0218. Popularity was ahead by more than its spread at 2,000 customers and on "
    "all of them, and behind on samples of 500, where a product's buyers are counted among a few hundred "
    "customers. So the model takes it (`ml.churn.model.PRODUCT_INPUTS`) when the job has the order lines "
    "and at least 1,000 customers are active at its evaluation cutoff (`PRODUCT_INPUT_MIN_CUSTOMERS`: "
    "between the 278 of a 500-sample and the 1,094 of a 2,000-sample there; not tuned further), and keeps "
    "the nine inputs below that. The reported cutoffs were run once, after this choice."
)
# The sixth round (hand-measured by a replica that adds candidate columns to the job's features and inputs and
# runs its own training on the selection cutoffs; it reproduces the model's figures there).
SIXTH_ROUND = (
    "**Sixth round (what customers buy, further).** On the selection cutoffs only, by a replica that adds "
    "candidate columns to the job's features and inputs and runs its own training, reproducing the model's "
    "figures there (+0.0252 / +0.0303 / +0.0295 at 500 / 2,000 / all customers, with the fifth round's "
    "popularity from 1,000 customers). Each candidate's mean model − best baseline, then its paired change "
    "against the model as it was (mean ± standard deviation over the samples, numpy's population one): "
    "the product's retention, a time-safe target encoding (of the product's other buyers in the year up to "
    "90 days before the cutoff, the share who bought anything again within 90 days, shrunk towards the overall "
    "share with 10 pseudo-buyers; the customer's spend-weighted mean of its log-odds) +0.0252 / +0.0303 / "
    "+0.0295 (±0.0000 everywhere: the selection runs train on cutoffs with less than 90 days of history before "
    "them, where it is a constant, so it could not be judged); the same within 30 days (purchases up to 30 days "
    "before the cutoff) +0.0243 / +0.0309 / +0.0297 (−0.0009 ± 0.0011 / +0.0006 ± 0.0017 / +0.0002); the share "
    "of the product's other buyers of the year who bought in the 30 days before the cutoff (same shrinkage and "
    "weighting) +0.0252 / +0.0303 / +0.0297 (+0.0000 ± 0.0000 / +0.0000 ± 0.0000 / +0.0001); the trend of the "
    "customer's products (their other buyers in the last 30 days over half those of the 60 before, log, "
    "spend-weighted) +0.0251 / +0.0302 / +0.0294 (−0.0001 ± 0.0036 / −0.0001 ± 0.0005 / −0.0002); the share of "
    "the year's spend on products at most two customers bought that year +0.0251 / +0.0303 / +0.0296 (−0.0001 ± "
    "0.0028 / −0.0000 ± 0.0005 / +0.0001); the log of the mean price paid per unit (the year's bought amount "
    "over its units: trade buyers of wholesale quantities pay less) +0.0292 / +0.0332 / +0.0298 (+0.0040 ± "
    "0.0026 / +0.0029 ± 0.0012 / +0.0003; ahead on 4 of the 5 samples of 500 and on the 3 of 2,000); the share "
    "of the year's spend on products the customer bought on two days or more +0.0258 / +0.0299 / +0.0294 "
    "(+0.0006 ± 0.0014 / −0.0004 ± 0.0007 / −0.0002); the price with the 30-day retention +0.0286 / +0.0339 / "
    "+0.0301 (+0.0034 ± 0.0029 / +0.0036 ± 0.0024 / +0.0006) and with the niche share +0.0301 / +0.0332 / "
    "+0.0294 (+0.0049 ± 0.0013 / +0.0028 ± 0.0010 / −0.0001). The price per unit was ahead by more than its "
    "spread at 500 and 2,000 customers and not behind on all of them (+0.0003, one sample: practically a tie "
    "there), and neither pair was ahead of it by more than its spread; so the model takes it, alone "
    "(`ml.churn.model.LINE_INPUTS`), whenever the job has the order lines, at any size. On the full set's "
    "selection runs it "
    "gained 0.0003, far less than the reported cutoffs lacked for the goal (+0.0149 of +0.02 before this "
    "round). The reported cutoffs were run once, after this choice."
)
# The seventh round (hand-measured by the sixth round's replica, kept outside the repository, on the selection
# cutoffs; it reproduces the model's figures there). Nothing of the job changed after it.
SEVENTH_ROUND = (
    "**Seventh round (where and when customers buy).** The six rounds before tried signals of purchase "
    "timing, spend and products; this one, signals of another kind, computed from the orders strictly "
    "before each cutoff. On the selection cutoffs only, by the sixth round's replica (candidate columns "
    "added to the job's features and inputs, its own training), which reproduces the model's figures there "
    "(+0.0292 / +0.0332 / +0.0298 at 500 / 2,000 / all customers, with the sixth round's price per unit). "
    "Each candidate's mean model − best baseline, then its paired change against the model as it is (mean ± "
    "standard deviation over the samples, numpy's population one): the customer abroad (their latest "
    "order's country differs from the business's main one, the most common among its customers: the United "
    "Kingdom, for 3,950 of UCI's 4,372 customers) +0.0270 / +0.0317 / +0.0295 (−0.0022 ± 0.0041 / −0.0015 ± "
    "0.0014 / −0.0003); the log of the share of the business's customers in the customer's country +0.0273 / "
    "+0.0316 / +0.0300 (−0.0019 ± 0.0052 / −0.0015 ± 0.0015 / +0.0001); ordering from more than one country "
    "+0.0290 / +0.0330 / +0.0297 (−0.0002 ± 0.0005 / −0.0002 ± 0.0002 / −0.0002; only 8 of the 4,372 ever "
    "do); the share of purchases on a weekend (in UCI, Sundays: it has no Saturday orders) +0.0260 / +0.0317 / "
    "+0.0297 (−0.0032 ± 0.0031 / −0.0015 ± 0.0004 / −0.0002); the share outside office hours (a weekend, or "
    "before 9:00 or from 17:00; UCI's timestamps are the shop's local time) +0.0227 / +0.0300 / +0.0288 "
    "(−0.0065 ± 0.0065 / −0.0032 ± 0.0027 / −0.0011); the spread of the hours of purchase (their standard "
    "deviation, 0 for a single purchase) +0.0283 / +0.0321 / +0.0294 (−0.0009 ± 0.0016 / −0.0010 ± 0.0013 / "
    "−0.0005). Every candidate was behind the model at 500 and 2,000 customers, and none was ahead on all of "
    "them by more than 0.0001 (one sample: a tie), so nothing of the job changed and the reported cutoffs were "
    "not run again: their figures in this section are the sixth round's (+0.0166 of the +0.02 goal). Had a "
    "country input won, the job would have needed a column it does not read: `marts.fct_orders` has no "
    "country, and `marts.dim_customers.country_code` is the golden record's value today, not as of each "
    "cutoff; hours of the day would need the business's time zone (var `business_timezone`), the marts "
    "storing `ordered_at` in UTC."
)
# The eighth round (hand-measured on the selection cutoffs by a replica that patches the job's own training,
# kept outside the repository; it reproduces the model's figures there). Nothing of the job changed after it.
EIGHTH_ROUND = (
    "**Eighth round (how much history a cutoff has).** The model's margin is smaller on the reported cutoffs "
    "(+0.0166 on all customers) than on the selection ones (+0.0298): the data start in December 2010, so its "
    "early training cutoffs have weeks of history where the reported ones have six to nine months, and BG/NBD, "
    "fitted per cutoff, is both a weaker anchor in training and a stronger baseline in the report. This round "
    "tried inputs that let the model weigh its inputs by the history a cutoff has. On the selection cutoffs "
    "only, by a replica that patches the job's own training and reproduces the model's figures there (+0.0292 "
    "/ +0.0332 / +0.0298 at 500 / 2,000 / all customers); each candidate's mean model − best baseline, then its "
    "paired change against the model (mean ± standard deviation over the samples, numpy's population one): "
    "BG/NBD's expected purchases times the log of the cutoff's history in months (history: days since the "
    "first order in the warehouse, at most 365) +0.0264 / +0.0262 / +0.0301 (−0.0028 ± 0.0033 / −0.0070 ± "
    "0.0094 / +0.0003); with recency times the same as well +0.0266 / +0.0262 / +0.0301; recency times it alone "
    "+0.0295 / +0.0340 / +0.0305 (+0.0003 ± 0.0020 / +0.0009 ± 0.0036 / +0.0006; ahead on 3 of 5 samples of "
    "500 and 2 of 3 of 2,000); recency and the overdue ratio times it +0.0277 / +0.0320 / +0.0281; every "
    "input times it −0.0091 / −0.0119 / −0.0059 against the model; a customer whose first purchase is within "
    "30 days of the data's start (tenure unknown: the history is cut) +0.0274 / +0.0307 / +0.0279 (−0.0018 ± "
    "0.0052 / −0.0025 ± 0.0020 / −0.0020), with its tenure times that flag +0.0260 / +0.0308 / +0.0278, with "
    "recency times history +0.0280 / +0.0325 / +0.0292; the inputs standardised within each cutoff (mean and "
    "standard deviation of that cutoff's customers, so that a training cutoff's customers are compared among "
    "themselves, as the ROC-AUC compares them) +0.0292 / +0.0333 / +0.0306 (+0.0000 ± 0.0017 / +0.0001 ± "
    "0.0013 / +0.0008); their percentile ranks within each cutoff instead +0.0207 / +0.0304 / +0.0204. No "
    "candidate was ahead of the model by more than its spread at 500 and 2,000 customers (the best, recency "
    "times history and the standardisation within cutoffs, gain under 0.001 anywhere), so nothing of the job "
    "changed and the reported cutoffs were not run for them: the figures in this section are the sixth "
    "round's (+0.0166 of the +0.02 goal)."
)
# What the first CDNOW run (at da322ed) showed, and the change of the gate it led to (hand-copied from that run).
CDNOW_FIRST_RUN = (
    "**What changed after the first run: recency ships only when it beats BG/NBD clearly.** The first run (at "
    "da322ed) let the gate "
    "ship whichever baseline was best on the job's evaluation cutoff. On samples of 500 and 2,000 customers "
    "recency was that best in five of the nights before a cutoff, and shipped it lost to BG/NBD on the cutoff "
    "itself by up to 0.036 ROC-AUC: what a business gets the night before was −0.003 ± 0.007 from the best "
    "baseline at 500 customers (worst run −0.0356, 9 of 15 runs below it) and −0.002 ± 0.003 at 2,000 (worst "
    "−0.0360, 3 of 9 below). Recency is one of the three numbers BG/NBD's model reads, so the gate now keeps it "
    "as a bar the model must clear and, when the model loses, ships the better of BG/NBD's two scores unless "
    "recency beats that by more than its uncertainty, the bar the model faces (`ml.churn.model."
    "PREFERRED_BASELINES`; the README already said BG/NBD's better score ships). In the runs below recency "
    "never clears it; a first version that never shipped recency gave the same figures, and was changed because "
    "it would ship BG/NBD where recency beats it clearly. This rule was chosen "
    "after seeing this data set, so CDNOW is not untouched for it. On UCI recency is the best baseline in no "
    "run, so no choice there changes (against the run at 7eec3f7, figures moved by noise at the third decimal, "
    "such as two ECEs, 0.077 → 0.076 and 0.128 → 0.129, and the selection table's shipped mean at 500, "
    "0.022 → 0.021; the model was shipped in the same runs). Its cost shows in "
    "the *shipped* column, measured on the cutoff the gate chose on, where recency is sometimes the best: "
    "+0.0019 → +0.0012 at 500 customers and +0.0020 → +0.0008 at 2,000 (the table below). At 500 customers the "
    "night-before runs below the best baseline are 10 of 15 now against 9: smaller losses, one more of them."
)
LABELS = {MODEL: "model (churn job's logistic regression)",
          "bgnbd_no_purchase": "BG/NBD P(no purchase in the 90 days)",
          "bgnbd": "BG/NBD expected purchases", "recency": "recency"}
BASELINES = [name for name in LABELS if name != MODEL]


def train_at(orders, lines, cutoff: date):
    """The job's training whose evaluation cutoff is `cutoff` (`as_of` = cutoff + 89 days)."""
    trained = train_churn_model(orders, cutoff + timedelta(days=LABEL_WINDOW_DAYS - 1), lines)
    assert trained.evaluation.cutoffs == (cutoff,)
    return trained


def _run_one(orders, lines, cutoff: date, that_night: bool) -> dict:
    trained = train_at(orders, lines, cutoff)
    gate = trained.gate
    measured = {MODEL: trained.metrics, **trained.baselines}
    return {**measured, "shipped": measured[gate.winner], "gate": gate,
            "shipped_that_night": _shipped_that_night(orders, lines, cutoff, trained.evaluation) if that_night else None}


def _shipped_that_night(orders, lines, cutoff: date, customers) -> dict | None:
    """What the job trained the night before `cutoff` scores `customers` (those active at `cutoff`) with.

    That job's gate decided on its own evaluation cutoff, 90 days before `cutoff`, so its choice
    between the model and a baseline is measured here on labels it never saw, as a business would
    live it. None when the history before `cutoff` is too short for that job to train.
    """
    try:
        night = train_churn_model(orders, cutoff - timedelta(days=1), lines)
    except NotEnoughData:
        return None
    scores = night.model.scoring.raw_score(customers.features)
    return {"scored_by": night.scored_by, "roc_auc": roc_auc_or_nan(customers.labels.to_numpy(), scores)}


def _runs(orders, lines, cutoffs_by_role, progress) -> list[dict]:
    """The job's training at every cutoff of every role, on every sample of `orders`' customers and the full set."""
    runs: list[dict] = []
    for label, seed, customers in customer_samples(orders["customer_id"].unique()):
        sample, sample_lines = orders, lines
        if customers is not None:
            sample = orders.loc[orders["customer_id"].isin(customers)]
            sample_lines = None if lines is None else lines.loc[lines["customer_id"].isin(customers)]
        for role, cutoffs in cutoffs_by_role:
            for cutoff in cutoffs:
                started = time.perf_counter()
                result = _run_one(sample, sample_lines, cutoff, that_night=role == "reported")
                runs.append({"size": label, "seed": seed, "cutoff": cutoff, "role": role, **result})
                progress(f"churn {label} seed {seed} {cutoff}: {result['gate'].sentence()} "
                         f"({time.perf_counter() - started:.0f} s)")
    return runs


def run(progress) -> tuple[str, dict]:
    retail = uci_retail()
    runs = _runs(retail.orders, retail.lines, (("reported", CUTOFFS), ("selection", SELECTION_CUTOFFS)), progress)
    return _report(runs), {"runs": len(runs)}


def run_cdnow(progress) -> tuple[str, dict]:
    runs = _runs(cdnow(), None, (("reported", CDNOW_CUTOFFS),), progress)
    return _report_cdnow(runs), {"runs": len(runs)}


def _full_table(runs: list[dict]) -> str:
    rows = []
    for run in runs:
        for method, label in LABELS.items():
            values = run[method]
            rows.append([str(run["cutoff"]), label, values["customers"], values["churn_rate"],
                         *(values[metric] for metric in METRICS)])
    for method, label in LABELS.items():
        rows.append(["**average**", label, "", "",
                     *(float(np.mean([run[method][metric] for run in runs])) for metric in METRICS)])
    return markdown_table(["cutoff", "method", "customers", "churn rate", "ROC-AUC", "PR-AUC", "top-decile lift",
                           "ECE"], rows)


def _best(run: dict) -> float:
    """The best baseline's ROC-AUC in `run`: what the job's gate measures the model against."""
    return max(run[name]["roc_auc"] for name in BASELINES)


def _size_table(runs: list[dict]) -> str:
    rows = []
    for size in dict.fromkeys(run["size"] for run in runs):
        at_size = [run for run in runs if run["size"] == size]
        seeds = {run["seed"] for run in at_size}
        shipped_model = sum(run["gate"].model_wins for run in at_size)
        rows.append([
            size, len(seeds), f"{np.mean([run[MODEL]['customers'] for run in at_size]):,.0f}",
            spread(per_sample(at_size, lambda run: run[MODEL]["roc_auc"])),
            *(spread(per_sample(at_size, lambda run, name=name: run[name]["roc_auc"])) for name in BASELINES),
            spread(per_sample(at_size, lambda run: run[MODEL]["roc_auc"] - _best(run))),
            f"{min(run[MODEL]['roc_auc'] - _best(run) for run in at_size):+.3f}",
            spread(per_sample(at_size, lambda run: run["shipped"]["roc_auc"] - _best(run))),
            f"{shipped_model} of {len(at_size)}",
        ])
    return markdown_table(
        ["customers", "samples", "scored per cutoff", "model ROC-AUC", "BG/NBD P(none)", "BG/NBD expected", "recency",
         "model − best baseline",
         "worst run", "shipped − best baseline", "model shipped"], rows)


def _that_night_table(runs: list[dict]) -> str:
    """Per size: the scorer the job trained the night before each cutoff, against the best baseline there."""
    rows = []
    for size in dict.fromkeys(run["size"] for run in runs):
        at_size = [run for run in runs if run["size"] == size and run["shipped_that_night"] is not None]
        if not at_size:
            continue
        margins = [run["shipped_that_night"]["roc_auc"] - _best(run) for run in at_size]
        rows.append([
            size, len(at_size), f"{sum(run['shipped_that_night']['scored_by'] == MODEL for run in at_size)}",
            spread(per_sample(at_size, lambda run: run["shipped_that_night"]["roc_auc"] - _best(run))),
            f"{min(margins):+.4f}", f"{sum(margin < 0 for margin in margins)}",
        ])
    return markdown_table(["customers", "runs", "scored by the model", "shipped − best baseline", "worst run",
                           "runs below the best baseline"], rows)


def _results(reported: list[dict], that_night: str) -> str:
    """The full set per cutoff, the sizes and what a business gets the night before: each data set's tables."""
    full = [run for run in reported if run["seed"] is None]
    per_cutoff = []
    for run in full:
        gate = run["gate"]
        per_cutoff.append(f"- {run['cutoff']}: the model is {gate.margin:+.4f} ROC-AUC from the best baseline "
                          f"({gate.best_baseline}), uncertainty ±{gate.uncertainty:.4f}: the job ships "
                          f"{'the model' if gate.model_wins else gate.winner}.")
    margin = float(np.mean([run[MODEL]["roc_auc"] - _best(run) for run in full]))
    per_cutoff.append(f"- Full set, average over the cutoffs: model {np.mean([r[MODEL]['roc_auc'] for r in full]):.4f} "
                      f"against the best baseline {np.mean([_best(r) for r in full]):.4f} ({margin:+.4f}; the goal "
                      f"is +0.02: {'met' if margin >= 0.02 else 'NOT met'}).")
    per_size = []
    for size in dict.fromkeys(run["size"] for run in reported):
        at_size = [run for run in reported if run["size"] == size]
        shipped = [run["shipped"]["roc_auc"] - _best(run) for run in at_size]
        model = [run[MODEL]["roc_auc"] - _best(run) for run in at_size]
        per_size.append(
            f"- {size} customers: the model is ahead of the best baseline in {sum(m > 0 for m in model)} of "
            f"{len(model)} runs (mean {np.mean(model):+.4f}); what the job ships is on average "
            f"{np.mean(shipped):+.4f} from the best baseline (worst {min(shipped):+.4f}).")
    return (
        "### Full set, per cutoff\n\n" + _full_table(full) + "\n\n" + "\n".join(per_cutoff)
        + "\n\n### By size of business (random samples of customers; mean ± standard deviation over samples "
        "of the average over the three cutoffs)\n\n" + _size_table(reported) + "\n\n" + "\n".join(per_size)
        + "\n\n### What a business gets: the scorer chosen the night before each cutoff\n\n" + that_night + "\n\n"
        + _that_night_table(reported)
    )


def _report(runs: list[dict]) -> str:
    reported = [run for run in runs if run["role"] == "reported"]
    selection = [run for run in runs if run["role"] == "selection"]
    return (
        "Customers active in the 365 days before each cutoff; label = no purchase in the 90 days after. "
        "The model is the churn job's own training (`ml.churn.train.train_churn_model` with `as_of` = cutoff "
        "+ 89 days: a logistic regression on nine robust inputs, one of them BG/NBD's expected purchases; "
        "with the order lines, the mean price the customer paid per unit (sixth round) and, from 1,000 "
        "customers active, how popular the customer's products are lately (fifth round); a customer without "
        "one of those two gets the median the model learnt; an intercept per training cutoff, the regression "
        "fitted on earlier cutoffs only, Platt sigmoid out of time), "
        "on invoices as `fct_orders` and invoice "
        "lines as `fct_order_lines`. The baselines: BG/NBD's probability of no purchase in the 90 days, "
        "its expected purchases in them, and recency; the *best baseline* is the best of the three in each "
        "run (the one the job's gate measures the model against). *Shipped* is what the job scores customers with: the model when it beats "
        "the best baseline by more than its bootstrap uncertainty (1.645 standard errors of the paired "
        "difference over customers), otherwise the better of BG/NBD's two scores, unless recency beats it by more "
        "than its uncertainty (`ml.churn.model.PREFERRED_BASELINES`; before 2026-12-06 the best baseline shipped, recency "
        "included: recency is the best baseline in no UCI run, so no choice here changed; see the CDNOW "
        "section). ECE: 10 equal-width bins; the baselines' "
        "scores become probabilities through the same kind of out-of-time Platt sigmoid as the model's.\n\n"
        "**How the model was chosen.** Its inputs and its regularisation (C = 0.1 among 0.01, 0.1 and 1) "
        "were fixed on the cutoffs 2011-04-12 and 2011-05-12, before every reported cutoff (table below), "
        "at 500, 2,000 and all customers. There it was ahead of a shallow LightGBM on 27 features (the "
        "previous model, whose settings had been picked on the reported cutoffs) at every size; LightGBM "
        "lost to BG/NBD on samples of 500. During that work the two families were also compared once on "
        "the reported cutoffs; nothing was tuned there.\n\n"
        + SECOND_ROUND + "\n\n" + THIRD_ROUND + "\n\n" + FOURTH_ROUND + "\n\n" + FIFTH_ROUND + "\n\n" + SIXTH_ROUND
        + "\n\n" + SEVENTH_ROUND + "\n\n" + EIGHTH_ROUND + "\n\n"
        + _results(reported, THAT_NIGHT)
        + "\n\n### Selection cutoffs (2011-04-12, 2011-05-12), where the model's constants were chosen\n\n"
        + _size_table(selection)
    )


def _report_cdnow(runs: list[dict]) -> str:
    return (
        "CDNOW: the purchases of the 23,570 customers who first bought at the online music shop CDNOW in the first "
        "quarter of 1997, until the end of June 1998 (the cohort whose one-in-ten sample of 2,357 customers Fader, "
        "Hardie and Lee's BG/NBD paper fits; the "
        "copy the `lifetimes` package ships, `bench.ml_data.cdnow`). Each purchase is an order with its day and "
        "amount; CDNOW records no products, so the job runs on the orders alone, as for a warehouse without "
        "order lines (its nine inputs). The customers are one cohort, all acquired within three months: a "
        "business shaped unlike UCI's, whose customers are of every age. **Nothing of the churn model was chosen "
        "on this data set**: its inputs and constants are the UCI section's, and the cutoffs "
        f"({', '.join(str(cutoff) for cutoff in CDNOW_CUTOFFS)}: quarterly, the last whose 90-day label ends "
        "within the data) were fixed before its first run; one run on all customers at 1998-01-01, made to time "
        "it, came before this section was written, and nothing of the model changed after it. Customers active "
        "in the 365 days before each cutoff; label = no purchase in the 90 days after; the baselines, the gate "
        "and *shipped* as in the UCI section. UCI has fewer customers than 5,000; CDNOW gives the benchmark its "
        "5,000 row.\n\n" + CDNOW_FIRST_RUN + "\n\n"
        + _results(runs, "As in the UCI section: the scorer the job trained on the night before each cutoff "
                   "(the model, or the baseline it shipped instead, as its gate decided on its own evaluation "
                   "cutoff 90 days earlier) scores the cutoff's customers, measured against the best baseline of the cutoff, known "
                   "only afterwards. Cutoffs where that night's job could not train yet are left out.")
    )

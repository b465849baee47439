"""The stats set on a desktop start: one real call per package."""

import sys
import traceback

failed = []


def check(name, call):
    """Run one real call of a package; one line per package, a traceback when it fails."""
    try:
        print(f"ok {name}: {call()}", flush=True)
    except Exception:
        failed.append(name)
        print(f"FAILED {name}:", flush=True)
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()


def statsmodels_ols():
    import numpy as np
    import statsmodels.api as sm

    x = sm.add_constant(np.arange(10.0))
    return f"slope {sm.OLS(2 * np.arange(10.0) + 1, x).fit().params[1]:.2f}"


def lifelines_km():
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter().fit([5, 6, 6, 2, 4, 4], event_observed=[1, 0, 0, 1, 1, 1])
    return f"median {fitter.median_survival_time_}"


def pingouin_ttest():
    import pingouin

    return f"T {float(pingouin.ttest([1, 2, 3, 4, 5], [2, 3, 4, 5, 9])['T'].iloc[0]):.3f}"


check("statsmodels", statsmodels_ols)
check("lifelines", lifelines_km)
check("pingouin", pingouin_ttest)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")

"""The ml-2023 set on a desktop start: one real call per package."""

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


def data():
    import numpy as np

    x = np.random.RandomState(0).rand(40, 3)
    return x, (x[:, 0] > 0.5).astype(int)


def sklearn_fit():
    from sklearn.ensemble import RandomForestClassifier

    x, y = data()
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
    return f"score {model.score(x, y):.2f}"


def lightgbm_fit():
    import lightgbm

    x, y = data()
    model = lightgbm.LGBMClassifier(n_estimators=5, min_child_samples=2, verbose=-1).fit(x, y)
    return f"predicts {model.predict(x[:3]).tolist()}"


def xgboost_fit():
    import xgboost

    x, y = data()
    return f"predicts {xgboost.XGBClassifier(n_estimators=3).fit(x, y).predict(x[:3]).tolist()}"


def optuna_study():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    study.optimize(lambda trial: (trial.suggest_float("x", -1, 1)) ** 2, n_trials=3)
    return f"best {study.best_value:.3f}"


check("pandas", lambda: __import__("pandas").DataFrame({"a": [1, 2]}).a.sum())
check("scikit-learn", sklearn_fit)
check("optuna", optuna_study)
check("lightgbm", lightgbm_fit)
check("xgboost", xgboost_fit)

if failed:
    sys.exit(f"failed: {', '.join(failed)}")

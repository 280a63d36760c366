"""Trains the model and saves what the API needs under artifacts/.

Progress goes to stdout as one JSON object per line (`progress` from 0 to 1,
and any metric by name); everything else printed is the training log.
"""

import json
from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

ARTIFACTS = Path("artifacts")


def report(**values: float) -> None:
    print(json.dumps(values), flush=True)


def main() -> None:
    data = load_iris(as_frame=True)
    features, target = data.data, data.target
    # The names the API's requests use.
    features.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=0.25, random_state=0, stratify=target
    )
    print(f"Training on {len(x_train)} rows, testing on {len(x_test)}")
    model = LogisticRegression(max_iter=500)
    model.fit(x_train, y_train)
    report(progress=0.8)

    predicted = model.predict(x_test)
    metrics = {
        "accuracy": round(float(accuracy_score(y_test, predicted)), 4),
        "f1_macro": round(float(f1_score(y_test, predicted, average="macro")), 4),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    joblib.dump(
        {
            "model": model,
            "features": list(features.columns),
            "classes": [str(name) for name in data.target_names],
        },
        ARTIFACTS / "model.joblib",
    )
    (ARTIFACTS / "metrics.json").write_text(json.dumps(metrics))
    report(progress=1.0, **metrics)


if __name__ == "__main__":
    main()

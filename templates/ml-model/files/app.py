"""The prediction API: loads the artifacts train.py saved, and reloads them
when a new training run replaces them."""

from pathlib import Path

import joblib
import pandas as pd
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

MODEL_FILE = Path("artifacts/model.joblib")

app = FastAPI(title="Iris classifier", version="0.1.0")

_loaded: dict = {}


def model() -> dict:
    """The saved model, loaded again whenever the file changes."""
    if not MODEL_FILE.exists():
        raise HTTPException(503, "The model is not trained yet: run train.py.")
    stamp = MODEL_FILE.stat().st_mtime_ns
    if _loaded.get("stamp") != stamp:
        _loaded.update(joblib.load(MODEL_FILE), stamp=stamp)
    return _loaded


class Health(BaseModel):
    status: str
    model_loaded: bool


class Flower(BaseModel):
    sepal_length: float = Field(examples=[5.1], description="Sepal length in cm")
    sepal_width: float = Field(examples=[3.5], description="Sepal width in cm")
    petal_length: float = Field(examples=[1.4], description="Petal length in cm")
    petal_width: float = Field(examples=[0.2], description="Petal width in cm")


class Prediction(BaseModel):
    label: str
    probability: float


@app.get("/health", summary="Whether the API is up, and the model trained")
def health() -> Health:
    # Loading it here means the first prediction does not wait for it.
    try:
        model()
    except HTTPException:
        return Health(status="ok", model_loaded=False)
    return Health(status="ok", model_loaded=True)


@app.post("/predict", summary="The species of one flower")
def predict(flower: Flower) -> Prediction:
    saved = model()
    row = pd.DataFrame([flower.model_dump()])[saved["features"]]
    probabilities = saved["model"].predict_proba(row)[0]
    best = int(probabilities.argmax())
    return Prediction(label=saved["classes"][best], probability=round(float(probabilities[best]), 4))

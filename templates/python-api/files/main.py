from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="Python API", version="0.1.0")


class Health(BaseModel):
    status: str


@app.get("/health", summary="Whether the API is up")
def health() -> Health:
    return Health(status="ok")

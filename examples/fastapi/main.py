"""stackflow's dashboard, JSON API and webhooks mounted in a FastAPI app under /workflows.

Run it from this directory with:
    STACKFLOW_TOKEN=change-me uvicorn main:app --port 8000
then open http://127.0.0.1:8000/workflows/ (the page asks for the token once).
"""

import os

from fastapi import FastAPI

from stackflow import Engine
from stackflow.web import create_app

engine = Engine.from_config(os.environ.get("STACKFLOW_CONFIG", "../order-processing"))
app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


app.mount("/workflows", create_app(engine, token=os.environ["STACKFLOW_TOKEN"]))

#!/bin/bash
# Started by the Lambda Web Adapter's /opt/bootstrap: serve the app on $PORT.
PATH="$PATH:$LAMBDA_TASK_ROOT/bin" PYTHONPATH="$PYTHONPATH:/opt/python:$LAMBDA_RUNTIME_DIR" \
    exec python -m uvicorn --port="$PORT" app:app

#!/usr/bin/env python3
"""The seed lab's Flask API (Lab 12.2, "Reverse Proxy & DNS").

Every endpoint answers as the lab shows. Listens on $APP_HOST:$APP_PORT
(default 127.0.0.1:8080; the lab binds 0.0.0.0, which is not needed on one
machine). Run with Debian's python3-flask: python3 app.py
"""
import os

from flask import Flask, jsonify, request

app = Flask(__name__)
# Keep keys in the order the lab prints them.
app.json.sort_keys = False


@app.route("/")
def index():
    return jsonify(
        application="Linux Mastery API",
        version="1.0",
        endpoints=["/", "/healthz", "/api/hello", "/api/echo"],
    )


@app.route("/healthz")
def healthz():
    return jsonify(status="healthy")


@app.route("/api/hello")
def hello():
    name = request.args.get("name", "World")
    return jsonify(message=f"Hello, {name}!")


@app.route("/api/echo", methods=["POST"])
def echo():
    return jsonify(echoed=request.get_json(silent=True))


@app.route("/api/headers")
def headers():
    return jsonify(headers=dict(request.headers))


if __name__ == "__main__":
    app.run(
        host=os.environ.get("APP_HOST", "127.0.0.1"),
        port=int(os.environ.get("APP_PORT", "8080")),
    )

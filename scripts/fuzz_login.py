"""Registers, verifies and logs in one user against a running `make dev`, printing its access
token, so that schemathesis can also exercise the protected routes. Standard library only."""
import json
import re
import sys
import time
import urllib.request

api, moto = sys.argv[1], sys.argv[2]
email = f"fuzz.{int(time.time() * 1000)}@example.com"
password = "Vermilion-Kettle-42-Drift"


def post(path, body):
    req = urllib.request.Request(api + path, json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.load(r)


post("/api/v1/auth/register", {"email": email, "password": password})
# The mail leaves through the outbox: `make dev`'s mailer sends it within a second or so.
mails = []
for _ in range(120):
    with urllib.request.urlopen(moto + "/moto-api/data.json", timeout=60) as r:
        mails = [m for m in json.load(r)["ses"]["Message"] if email in m["destinations"]["ToAddresses"]]
    if mails:
        break
    time.sleep(0.5)
token = re.search(r"verify-email\?token=([A-Za-z0-9_-]+)", mails[-1]["body"]).group(1)
post("/api/v1/auth/verify-email", {"token": token})
print(post("/api/v1/auth/login", {"email": email, "password": password})["data"]["access_token"])

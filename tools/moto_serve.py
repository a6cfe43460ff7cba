"""moto's server, with DynamoDB as atomic as the real one.

`moto_server` serves each request on its own thread, and moto's DynamoDB backend takes no lock:
a conditional write checks its condition and then writes, so two concurrent writes can both pass
the check, and a transaction applies its items one after the other in sight of other requests.
Real DynamoDB makes each conditional write and each transaction atomic and isolated. Here every
DynamoDB request (reads too, since a read must not see half a transaction) runs under one lock,
so race tests meet DynamoDB's semantics and can fail. The other services (SES, Secrets Manager,
moto's own API) keep running concurrently.

Usage: python tools/moto_serve.py -H 127.0.0.1 -p PORT  (what `authctl` starts; tools/src/moto.rs)
"""

import argparse
import copy
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class _Untracked(list):
    """A model's instance list that keeps nothing."""

    def append(self, _instance):
        pass


def untrack_dynamodb_models():
    """moto keeps every model instance it ever creates for `/moto-api/data.json`, which serialises
    them all on each call, and its transactions deep-copy whole tables (for rollback), each copy's
    items and stream records tracked anew. Over a run the tests' inbox reads (data.json, for SES)
    grew slower with every DynamoDB write, and the process's memory with them. The tables keep
    their items and streams; only the dump leaves DynamoDB out (nothing reads it there)."""
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import (
        GlobalSecondaryIndex,
        LocalSecondaryIndex,
        StreamRecord,
        StreamShard,
        Table,
    )
    from moto.dynamodbstreams.models import ShardIterator

    for model in (Item, Table, GlobalSecondaryIndex, LocalSecondaryIndex, StreamRecord, StreamShard, ShardIterator):
        model.instances_tracked = _Untracked()


def cheap_stream_copies():
    """A transaction's rollback copy of a table copies its stream's record list, not each record:
    a record never changes once written, and deep-copying every record of the stream on every
    transaction made each one slower than the last."""
    from moto.dynamodb.models.table import StreamShard

    def deepcopy_shard(self, memo):
        clone = copy.copy(self)
        clone.items = list(self.items)
        memo[id(self)] = clone
        return clone

    StreamShard.__deepcopy__ = deepcopy_shard

# DynamoDB's and DynamoDB Streams' targets (`DynamoDB_20120810.*`, `DynamoDBStreams_20120810.*`):
# a stream read must not see half a transaction either.
DYNAMODB_TARGET = "DynamoDB"


class AtomicDynamoDb:
    """WSGI middleware: one DynamoDB request at a time, its whole response built under the lock."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        # moto's model dump iterates the same live dictionaries the writes change.
        serialised = target.startswith(DYNAMODB_TARGET) or environ.get("PATH_INFO", "").startswith(
            "/moto-api/data.json"
        )
        if not serialised:
            return self.app(environ, start_response)
        with self.lock:
            captured = {}

            def capture(status, headers, exc_info=None):
                captured["args"] = (status, headers, exc_info)
                return lambda _data: None

            body = b"".join(self.app(environ, capture))
        status, headers, exc_info = captured["args"]
        start_response(status, headers, exc_info)
        return [body]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    untrack_dynamodb_models()
    cheap_stream_copies()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        AtomicDynamoDb(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()

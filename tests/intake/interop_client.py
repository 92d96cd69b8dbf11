#!/usr/bin/env python3
"""A second-language client: generates Python stubs from protos/ with grpc_tools, then files a
ticket through IntakeService and reads it back. Prints 'ticket <number> <state>' on success.
Usage: interop_client.py INTAKE_ADDR PROTOS_DIR"""
import importlib
import os
import sys
import tempfile

import grpc
from grpc_tools import protoc


def main():
    addr, protos = sys.argv[1], sys.argv[2]
    out = tempfile.mkdtemp(prefix="hotline-py-")
    files = [f"hotline/v1/{n}.proto" for n in ("common", "events", "intake")]
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    rc = protoc.main(["protoc", f"-I{protos}", f"-I{include}", f"--python_out={out}",
                      f"--grpc_python_out={out}"] + files)
    if rc != 0:
        sys.exit(f"protoc failed: {rc}")
    sys.path.insert(0, out)
    pb = importlib.import_module("hotline.v1.intake_pb2")
    common = importlib.import_module("hotline.v1.common_pb2")
    rpc = importlib.import_module("hotline.v1.intake_pb2_grpc")

    stub = rpc.IntakeServiceStub(grpc.insecure_channel(addr))
    req = pb.SubmitRequestRequest(
        channel=common.CHANNEL_WEB, text="西山大道88号门口的井盖松动，车压过去哐哐响",
        idempotency_key="python-interop-1",
        location=common.Location(district="西山区", address="西山大道88号"))
    req.contact.phone = "+86 139 0000 1111"
    resp = stub.SubmitRequest(req, timeout=10)
    got = stub.GetTicket(pb.GetTicketRequest(ticket_id=resp.ticket.ticket_number), timeout=10)
    if got.ticket.ticket_id != resp.ticket.ticket_id or got.ticket.text != req.text:
        sys.exit("read back a different ticket")
    # A bad request comes back as INVALID_ARGUMENT naming the field, in any language.
    try:
        stub.SubmitRequest(pb.SubmitRequestRequest(channel=common.CHANNEL_WEB, text="路灯坏了很久",
                                                   idempotency_key=""), timeout=10)
        sys.exit("empty idempotency key accepted")
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.INVALID_ARGUMENT or "idempotency_key" not in e.details():
            sys.exit(f"unexpected error: {e.code()} {e.details()}")
    state = common.TicketState.Name(got.ticket.state)
    print(f"ticket {got.ticket.ticket_number} {state} {got.ticket.contact.masked_phone}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""A real SMTP server for the delivery tests (tests/blackbox/test_delivery.c), on aiosmtpd
(Debian's python3-aiosmtpd). Run with /usr/bin/python3 only.

    smtp_server.py --port P --dir D [--reject ADDR]... [--cert C --key K] [--auth USER:PASS]
                   [--hold FILE] [--tempfail-data N] [--greet-421 N] [--reject-data N]
                   [--slow-data N --slow-seconds S] [--drop-data N]

Each message accepted is written as D/msg-NNNN.eml (the raw DATA bytes, as received) and then
D/msg-NNNN.json: {"mail_from", "rcpt_tos", "tls", "login", "eml"} — the .json appears last, so a
reader that sees it sees the whole message. When the server listens it writes D/ready.
  --reject ADDR     RCPT TO:<ADDR> is answered "550 5.1.1 No such user"
  --cert, --key     STARTTLS offered and required before MAIL (require_starttls)
  --auth USER:PASS  AUTH required, only over TLS (auth_require_tls); other credentials get 535
  --hold FILE       after writing a message, the answer to DATA waits while FILE exists
  --tempfail-data N the first N DATA commands are answered "451 4.3.0 Try again later"
  --greet-421 N     the first N connections are greeted "421 4.3.2 Service not available" and
                    closed
  --reject-data N   the first N DATA commands are answered "554 5.6.0 Message rejected"
  --slow-data N     the first N messages accepted are written, then the answer to DATA waits
                    --slow-seconds S (default 5)
  --drop-data N     the first N messages are written, then the connection is closed without an
                    answer to DATA (as a relay that queued the message and lost the link)
"""
import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--auth")
    ap.add_argument("--hold")
    ap.add_argument("--tempfail-data", type=int, default=0)
    ap.add_argument("--greet-421", type=int, default=0)
    ap.add_argument("--reject-data", type=int, default=0)
    ap.add_argument("--slow-data", type=int, default=0)
    ap.add_argument("--slow-seconds", type=float, default=5)
    ap.add_argument("--drop-data", type=int, default=0)
    a = ap.parse_args()
    rejected = {r.lower() for r in a.reject}
    state = {"n": 0, "tempfail": a.tempfail_data, "greet421": a.greet_421,
             "reject": a.reject_data, "slow": a.slow_data, "drop": a.drop_data}

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.lower() in rejected:
                return "550 5.1.1 No such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            if state["tempfail"] > 0:
                state["tempfail"] -= 1
                return "451 4.3.0 Try again later"
            if state["reject"] > 0:
                state["reject"] -= 1
                return "554 5.6.0 Message rejected"
            state["n"] += 1
            base = os.path.join(a.dir, "msg-%04d" % state["n"])
            with open(base + ".eml", "wb") as f:
                f.write(envelope.original_content)
            login = session.auth_data
            if isinstance(login, bytes):
                login = login.decode("utf-8", "replace")
            meta = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "tls": session.ssl is not None,
                "login": login,
                "eml": base + ".eml",
            }
            with open(base + ".tmp", "w") as f:
                json.dump(meta, f)
            os.rename(base + ".tmp", base + ".json")
            while a.hold and os.path.exists(a.hold):
                await asyncio.sleep(0.05)
            if state["slow"] > 0:
                state["slow"] -= 1
                await asyncio.sleep(a.slow_seconds)
            if state["drop"] > 0:
                state["drop"] -= 1
                server.transport.abort()
            return "250 Message accepted for delivery"

    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = a.auth.split(":", 1)
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)

    kwargs = {"enable_SMTPUTF8": True, "decode_data": False}
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if a.auth:
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
    else:
        kwargs.update(auth_require_tls=False)
    handler = Handler()

    class Server(SMTP):
        async def _handle_client(self):
            if state["greet421"] > 0:
                state["greet421"] -= 1
                await self.push("421 4.3.2 Service not available, closing channel")
                self.transport.close()
                return
            await super()._handle_client()

    async def run():
        loop = asyncio.get_running_loop()
        srv = await loop.create_server(lambda: Server(handler, **kwargs), "127.0.0.1", a.port)
        with open(os.path.join(a.dir, "ready.tmp"), "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(os.path.join(a.dir, "ready.tmp"), os.path.join(a.dir, "ready"))
        async with srv:
            await srv.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

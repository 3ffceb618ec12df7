#!/usr/bin/python3
"""A real SMTP server for the delivery tests (tests/blackbox/test_delivery.c), on aiosmtpd
(Debian's python3-aiosmtpd). Run with /usr/bin/python3 only.

    smtp_server.py --port P --dir D [--reject ADDR]... [--cert C --key K] [--auth USER:PASS]
                   [--hold FILE] [--tempfail-data N]

Each message accepted is written as D/msg-NNNN.eml (the raw DATA bytes, as received) and then
D/msg-NNNN.json: {"mail_from", "rcpt_tos", "tls", "login", "eml"} — the .json appears last, so a
reader that sees it sees the whole message. When the server listens it writes D/ready.
  --reject ADDR     RCPT TO:<ADDR> is answered "550 5.1.1 No such user"
  --cert, --key     STARTTLS offered and required before MAIL (require_starttls)
  --auth USER:PASS  AUTH required, only over TLS (auth_require_tls); other credentials get 535
  --hold FILE       after writing a message, the answer to DATA waits while FILE exists
  --tempfail-data N the first N DATA commands are answered "451 4.3.0 Try again later"
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
    a = ap.parse_args()
    rejected = {r.lower() for r in a.reject}
    state = {"n": 0, "tempfail": a.tempfail_data}

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

    async def run():
        loop = asyncio.get_running_loop()
        srv = await loop.create_server(lambda: SMTP(handler, **kwargs), "127.0.0.1", a.port)
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

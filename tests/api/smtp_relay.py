"""An SMTP relay for the tests: aiosmtpd's server on a free port of 127.0.0.1.

Prints `listening HOST:PORT` once it accepts connections, then one JSON line per message it
takes: the envelope (`mailFrom`, `rcptTos`) and the message text as received (`data`).
Recipients whose address starts with `nobody@` are refused with 550, as a relay refuses an
unknown mailbox. Runs until its standard input closes.
"""

import asyncio
import json
import sys

from aiosmtpd.smtp import SMTP


class Recorder:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        record = {
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", "replace"),
        }
        print(json.dumps(record), flush=True)
        return "250 Message accepted for delivery"


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Recorder(), hostname="relay.test"), "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening {host}:{port}", flush=True)
    # The test closes our standard input when it is done with the relay.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


asyncio.run(main())

#!/usr/bin/python3
"""A small simulated ONVIF camera for Hearth's tests: answers WS-Discovery
probes on 239.255.255.250:3702 (joined on loopback) and serves the device and
media services on 127.0.0.1 (GetCapabilities, GetProfiles, GetStreamUri),
checking WS-Security password digests. Prints "ready" once listening."""

import argparse
import base64
import hashlib
import http.server
import re
import socket
import threading

p = argparse.ArgumentParser()
p.add_argument("--http-port", type=int, required=True)
p.add_argument("--main", required=True, help="RTSP URL of the main profile")
p.add_argument("--sub", required=True, help="RTSP URL of the sub profile")
p.add_argument("--user", default="admin")
p.add_argument("--password", required=True)
p.add_argument("--name", default="Simulated Cam")
p.add_argument("--media-host", default="127.0.0.1", help="host named for the media service")
a = p.parse_args()

ENV = ('<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
       'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
       'xmlns:tds="http://www.onvif.org/ver10/device/wsdl">{head}<s:Body>{body}</s:Body></s:Envelope>')


def tag(xml, name):
    m = re.search(r"<(?:\w+:)?%s\b[^>]*>([^<]*)</" % name, xml)
    return m.group(1).strip() if m else None


def discovery(s):
    while True:
        data, peer = s.recvfrom(65536)
        text = data.decode("utf-8", "replace")
        mid = tag(text, "MessageID")
        if "Probe" not in text or not mid:
            continue
        name = a.name.replace(" ", "%20")
        body = ('<d:ProbeMatches xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><d:ProbeMatch>'
                '<d:Types>dn:NetworkVideoTransmitter</d:Types>'
                f'<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/{name} '
                'onvif://www.onvif.org/hardware/SIM-1</d:Scopes>'
                f'<d:XAddrs>http://127.0.0.1:{a.http_port}/onvif/device_service</d:XAddrs>'
                '</d:ProbeMatch></d:ProbeMatches>')
        head = ('<s:Header><w:RelatesTo xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing">'
                f'{mid}</w:RelatesTo></s:Header>')
        s.sendto(ENV.format(head=head, body=body).encode(), peer)


def authorised(xml):
    user, digest, nonce, created = (tag(xml, n) for n in ("Username", "Password", "Nonce", "Created"))
    if None in (user, digest, nonce, created) or user != a.user:
        return False
    want = hashlib.sha1(base64.b64decode(nonce) + created.encode() + a.password.encode()).digest()
    return base64.b64encode(want).decode() == digest


FAULT = ('<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value>'
         '</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">Sender not Authorized</s:Text></s:Reason></s:Fault>')


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        xml = self.rfile.read(int(self.headers.get("content-length", 0))).decode("utf-8", "replace")
        port = a.http_port
        if not authorised(xml):
            return self.answer(400, FAULT)
        if "GetCapabilities" in xml:
            body = (f'<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media>'
                    f'<tt:XAddr>http://{a.media_host}:{port}/onvif/media</tt:XAddr>'
                    '</tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>')
        elif "GetProfiles" in xml:
            prof = lambda tok, w, h: (f'<trt:Profiles token="{tok}"><tt:Name>{tok}stream</tt:Name>'
                                      '<tt:VideoEncoderConfiguration><tt:Encoding>H264</tt:Encoding>'
                                      f'<tt:Resolution><tt:Width>{w}</tt:Width><tt:Height>{h}</tt:Height>'
                                      '</tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>')
            body = f'<trt:GetProfilesResponse>{prof("sub", 640, 360)}{prof("main", 1280, 720)}</trt:GetProfilesResponse>'
        elif "GetStreamUri" in xml:
            uri = a.main if tag(xml, "ProfileToken") == "main" else a.sub
            body = f'<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>{uri}</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>'
        else:
            return self.answer(400, '<s:Fault><s:Reason><s:Text>unknown request</s:Text></s:Reason></s:Fault>')
        self.answer(200, body)

    def answer(self, status, body):
        data = ENV.format(head="", body=body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/soap+xml; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = http.server.ThreadingHTTPServer(("127.0.0.1", a.http_port), Handler)
probes = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
probes.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
probes.bind(("239.255.255.250", 3702))
probes.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                  socket.inet_aton("239.255.255.250") + socket.inet_aton("127.0.0.1"))
threading.Thread(target=discovery, args=(probes,), daemon=True).start()
print("ready", flush=True)
server.serve_forever()

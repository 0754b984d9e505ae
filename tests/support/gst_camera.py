#!/usr/bin/python3
"""A second, independent RTSP camera for Hearth's tests, built on GStreamer's
gst-rtsp-server (Debian: python3-gi gir1.2-gst-rtsp-server-1.0 and the GStreamer
plugins). Serves live H.264 (x264enc) or H.265 (x265enc) on
rtsp://127.0.0.1:PORT/main, optionally with AAC audio (voaacenc) and behind Digest
authentication. Clients may ask for TCP or UDP. Prints "ready" once listening;
stops on SIGTERM.

Run with Debian's /usr/bin/python3, which sees python3-gi.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--fps", type=int, default=15)
    ap.add_argument("--codec", choices=["h264", "h265"], default="h264")
    ap.add_argument("--audio", action="store_true")
    args = ap.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))

    factory = GstRtspServer.RTSPMediaFactory()
    gop = 2 * args.fps
    if args.codec == "h264":
        # x264enc needs sliced-threads=false: one slice per picture.
        enc = ("x264enc speed-preset=veryfast tune=zerolatency sliced-threads=false "
               "key-int-max=%d bitrate=600 ! video/x-h264,profile=main "
               "! rtph264pay name=pay0 pt=96 config-interval=-1" % gop)
    else:
        enc = ("x265enc speed-preset=ultrafast tune=zerolatency key-int-max=%d bitrate=600 "
               "! video/x-h265,profile=main ! rtph265pay name=pay0 pt=96 config-interval=-1"
               % gop)
    audio = ""
    if args.audio:
        audio = (" audiotestsrc is-live=true wave=sine freq=440 "
                 "! audio/x-raw,rate=16000,channels=1 ! audioconvert ! voaacenc bitrate=32000 "
                 "! rtpmp4gpay name=pay1 pt=97")
    factory.set_launch(
        "( videotestsrc is-live=true pattern=ball "
        "! video/x-raw,width=640,height=360,framerate=%d/1 ! videoconvert ! %s%s )"
        % (args.fps, enc, audio)
    )
    factory.set_shared(False)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)

    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "camera-user")
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        auth.add_digest(args.user, args.password, token)
        server.set_auth(auth)
        factory.add_role_from_structure(Gst.Structure.new_from_string(
            "camera-user, media.factory.access=(boolean)true, "
            "media.factory.construct=(boolean)true"))

    server.get_mount_points().add_factory("/main", factory)
    if server.attach(None) == 0:
        sys.exit("cannot listen on 127.0.0.1:%d" % args.port)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()

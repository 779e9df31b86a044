"""patchvid in the browser: ``patchvid ui`` (needs ``pip install 'patchvid[ui]'``).

:mod:`patchvid.web.handlers` turns what a view asks for into the equivalent ``patchvid`` command line
and runs it as a subprocess (no Gradio there); :mod:`patchvid.web.app` is the Gradio page around it.
The page holds no algorithm: every result is what the command line, run as shown, makes.
"""

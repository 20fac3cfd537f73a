"""``viewshift serve``: a local web page to move the camera of a photo, see the result live, and download views,
stereo pairs, parallax videos and 3-D exports. See :mod:`viewshift.web.app` (routes) and docs/web.md."""
